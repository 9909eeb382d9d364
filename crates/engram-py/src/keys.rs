//! Hotkeys: our own `Keypair` (sr25519 from a mnemonic, a `//Alice` URI or a seed), and any
//! Python object with `ss58_address` and `sign(bytes) -> bytes` (a `bittensor_wallet`
//! `Keypair`) as a [`Signer`] for the client, called back with the GIL when a request or a
//! namespace claim is signed.

use std::borrow::Cow;
use std::sync::Arc;

use engram_core::keys::{SignError, Signer};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::error::invalid;

/// An sr25519 hotkey held by Engram.
#[pyclass(module = "engram._engram", name = "Keypair", frozen)]
pub(crate) struct PyKeypair {
    pub(crate) key: Arc<engram_core::keys::Keypair>,
}

fn seed_bytes(raw: &Bound<'_, PyAny>) -> PyResult<[u8; 32]> {
    let bytes: Vec<u8> = if let Ok(s) = raw.extract::<String>() {
        hex::decode(s.trim_start_matches("0x")).map_err(invalid)?
    } else {
        raw.extract::<Cow<'_, [u8]>>()?.into_owned()
    };
    bytes
        .try_into()
        .map_err(|_| PyValueError::new_err("a seed is 32 bytes (or 64 hex digits)"))
}

#[pymethods]
impl PyKeypair {
    /// The key of a secret URI: a mnemonic, optionally followed by hard junctions
    /// (`… //stash`), or a dev account (`//Alice`).
    #[staticmethod]
    fn from_uri(uri: &str) -> PyResult<Self> {
        Ok(Self::of(
            engram_core::keys::Keypair::from_uri(uri).map_err(invalid)?,
        ))
    }

    /// The key of a BIP-39 mnemonic (English, empty password).
    #[staticmethod]
    fn from_mnemonic(mnemonic: &str) -> PyResult<Self> {
        Ok(Self::of(
            engram_core::keys::Keypair::from_mnemonic(mnemonic).map_err(invalid)?,
        ))
    }

    /// The key of a 32-byte seed (`bytes` or hex), as `Keypair.create_from_seed` makes it.
    #[staticmethod]
    fn from_seed(seed: &Bound<'_, PyAny>) -> PyResult<Self> {
        Ok(Self::of(engram_core::keys::Keypair::from_seed(
            &seed_bytes(seed)?,
        )))
    }

    /// A new random key and its 12-word mnemonic.
    #[staticmethod]
    fn generate() -> PyResult<(Self, String)> {
        let mut entropy = [0u8; 16];
        getrandom::getrandom(&mut entropy).map_err(crate::error::native)?;
        let (key, phrase) = engram_core::keys::Keypair::from_entropy(&entropy);
        Ok((Self::of(key), phrase))
    }

    /// The SS58 address (prefix 42).
    #[getter]
    fn ss58_address(&self) -> String {
        self.key.ss58()
    }

    /// The 32-byte public key.
    #[getter]
    fn public_key<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.key.public())
    }

    /// A 64-byte sr25519 signature over `message` (Substrate context). A `str` is signed
    /// as its UTF-8 bytes.
    fn sign<'py>(
        &self,
        py: Python<'py>,
        message: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let bytes: Vec<u8> = match message.extract::<String>() {
            Ok(s) => s.into_bytes(),
            Err(_) => message.extract::<Cow<'_, [u8]>>()?.into_owned(),
        };
        Ok(PyBytes::new(py, &self.key.sign(&bytes)))
    }

    /// Whether `signature` is this key's signature over `message`.
    fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        <[u8; 64]>::try_from(signature)
            .is_ok_and(|s| engram_core::keys::verify(&self.key.public(), message, &s))
    }

    fn __repr__(&self) -> String {
        format!("Keypair(ss58_address='{}')", self.key.ss58())
    }
}

impl PyKeypair {
    fn of(key: engram_core::keys::Keypair) -> Self {
        Self { key: Arc::new(key) }
    }
}

/// Whether `signature` is the signature of the hotkey `ss58_address` over `message`.
#[pyfunction]
fn verify(ss58_address: &str, message: &[u8], signature: &[u8]) -> PyResult<bool> {
    let public = engram_core::keys::ss58_decode(ss58_address).map_err(invalid)?;
    Ok(<[u8; 64]>::try_from(signature)
        .is_ok_and(|s| engram_core::keys::verify(&public, message, &s)))
}

/// A Python object that signs: `ss58_address` read once, `sign(bytes)` called per message.
#[derive(Debug)]
struct PySigner {
    object: Py<PyAny>,
    ss58: String,
}

#[derive(Debug)]
struct BadSignature(usize);

impl std::fmt::Display for BadSignature {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "keypair.sign returned {} bytes, not a 64-byte sr25519 signature",
            self.0
        )
    }
}

impl std::error::Error for BadSignature {}

impl Signer for PySigner {
    fn ss58(&self) -> String {
        self.ss58.clone()
    }

    fn sign(&self, message: &[u8]) -> Result<[u8; 64], SignError> {
        Python::attach(|py| {
            let out = self
                .object
                .bind(py)
                .call_method1("sign", (PyBytes::new(py, message),))
                .map_err(|e| Box::new(e) as SignError)?;
            let bytes: Cow<'_, [u8]> = out.extract().map_err(|e| Box::new(e) as SignError)?;
            <[u8; 64]>::try_from(bytes.as_ref())
                .map_err(|_| Box::new(BadSignature(bytes.len())) as SignError)
        })
    }
}

/// The signer behind a `keypair=` argument: our own `Keypair` directly, anything else with
/// `ss58_address` and `sign` through the GIL.
pub(crate) fn signer(keypair: Option<&Bound<'_, PyAny>>) -> PyResult<Option<Arc<dyn Signer>>> {
    let Some(obj) = keypair.filter(|k| !k.is_none()) else {
        return Ok(None);
    };
    if let Ok(ours) = obj.cast::<PyKeypair>() {
        return Ok(Some(ours.get().key.clone() as Arc<dyn Signer>));
    }
    let ss58: String = obj
        .getattr("ss58_address")
        .and_then(|a| a.extract())
        .map_err(|_| {
            pyo3::exceptions::PyTypeError::new_err(
                "keypair must have an ss58_address and a sign(bytes) method (a bittensor_wallet Keypair or engram.Keypair)",
            )
        })?;
    if !obj.hasattr("sign")? {
        return Err(pyo3::exceptions::PyTypeError::new_err(
            "keypair has no sign(bytes) method",
        ));
    }
    engram_core::keys::ss58_decode(&ss58).map_err(invalid)?;
    Ok(Some(Arc::new(PySigner {
        object: obj.clone().unbind(),
        ss58,
    })))
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyKeypair>()?;
    m.add_function(wrap_pyfunction!(verify, m)?)?;
    Ok(())
}
