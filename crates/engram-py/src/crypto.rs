//! Encryption for `engram.sdk.encryption`: the original's hybrid scheme (X25519 + HKDF +
//! AES-256-GCM) and its legacy `namespace_key` scheme, byte for byte as `engram-core`
//! defines them. Randomness (ephemeral keys, nonces) is drawn here from the OS.

use engram_core::crypto;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::error::native;

fn random<const N: usize>() -> PyResult<[u8; N]> {
    let mut b = [0u8; N];
    getrandom::getrandom(&mut b).map_err(native)?;
    Ok(b)
}

fn key32(bytes: &[u8], what: &str) -> PyResult<[u8; 32]> {
    bytes
        .try_into()
        .map_err(|_| PyValueError::new_err(format!("{what} must be 32 bytes, got {}", bytes.len())))
}

/// Decryption failures are `ValueError`s, as the original's are.
fn decryption(e: engram_core::CoreError) -> PyErr {
    PyValueError::new_err(format!(
        "Decryption failed — data may be tampered or the key is wrong ({e})"
    ))
}

fn metadata_map(json: &str) -> PyResult<serde_json::Map<String, serde_json::Value>> {
    match serde_json::from_str(json).map_err(crate::error::invalid)? {
        serde_json::Value::Object(m) => Ok(m),
        serde_json::Value::Null => Ok(serde_json::Map::new()),
        _ => Err(PyValueError::new_err("metadata must be a dict")),
    }
}

/// A new X25519 key pair: (private, public), 32 bytes each.
#[pyfunction]
fn x25519_generate<'py>(py: Python<'py>) -> PyResult<(Bound<'py, PyBytes>, Bound<'py, PyBytes>)> {
    let private = random::<32>()?;
    Ok((
        PyBytes::new(py, &private),
        PyBytes::new(py, &crypto::public_key(&private)),
    ))
}

/// The X25519 public key of a private key.
#[pyfunction]
fn x25519_public<'py>(py: Python<'py>, private: &[u8]) -> PyResult<Bound<'py, PyBytes>> {
    Ok(PyBytes::new(
        py,
        &crypto::public_key(&key32(private, "private key")?),
    ))
}

/// `json.dumps({"text": text, "metadata": metadata})` sealed to `public`: the base64url blob
/// the original puts in `metadata["_enc"]`.
#[pyfunction]
fn hybrid_encrypt(public: &[u8], text: &str, metadata_json: &str) -> PyResult<String> {
    Ok(crypto::encrypt_memory(
        &key32(public, "public key")?,
        text,
        &metadata_map(metadata_json)?,
        &random()?,
        &random()?,
    ))
}

/// Opens a hybrid blob: (text, metadata JSON).
#[pyfunction]
fn hybrid_decrypt(private: &[u8], blob: &str) -> PyResult<(String, String)> {
    let (text, meta) =
        crypto::decrypt_memory(&key32(private, "private key")?, blob).map_err(decryption)?;
    Ok((text, serde_json::Value::Object(meta).to_string()))
}

/// Raw bytes sealed to `public`: `ephemeral public ‖ nonce ‖ ciphertext ‖ tag`.
#[pyfunction]
fn hybrid_encrypt_raw<'py>(
    py: Python<'py>,
    public: &[u8],
    data: &[u8],
) -> PyResult<Bound<'py, PyBytes>> {
    Ok(PyBytes::new(
        py,
        &crypto::encrypt_raw(&key32(public, "public key")?, data, &random()?, &random()?),
    ))
}

/// Opens what `hybrid_encrypt_raw` sealed.
#[pyfunction]
fn hybrid_decrypt_raw<'py>(
    py: Python<'py>,
    private: &[u8],
    data: &[u8],
) -> PyResult<Bound<'py, PyBytes>> {
    let plain = crypto::decrypt_raw(&key32(private, "private key")?, data).map_err(decryption)?;
    Ok(PyBytes::new(py, &plain))
}

/// The AES key of the legacy scheme: PBKDF2-HMAC-SHA256(namespace_key, salt=namespace,
/// 100,000 rounds).
#[pyfunction]
fn legacy_key<'py>(py: Python<'py>, namespace: &str, namespace_key: &str) -> Bound<'py, PyBytes> {
    PyBytes::new(py, &crypto::legacy_namespace_key(namespace, namespace_key))
}

/// A memory sealed under the legacy scheme: base64url of `iv ‖ ciphertext ‖ tag`.
#[pyfunction]
fn legacy_encrypt(
    namespace: &str,
    namespace_key: &str,
    text: &str,
    metadata_json: &str,
) -> PyResult<String> {
    Ok(crypto::encrypt_legacy(
        namespace,
        namespace_key,
        text,
        &metadata_map(metadata_json)?,
        &random()?,
    ))
}

/// Opens a legacy blob: (text, metadata JSON).
#[pyfunction]
fn legacy_decrypt(namespace: &str, namespace_key: &str, blob: &str) -> PyResult<(String, String)> {
    let (text, meta) =
        crypto::decrypt_legacy(namespace, namespace_key, blob).map_err(decryption)?;
    Ok((text, serde_json::Value::Object(meta).to_string()))
}

/// Raw bytes under a legacy key (32 bytes): `iv ‖ ciphertext ‖ tag`.
#[pyfunction]
fn legacy_encrypt_raw<'py>(
    py: Python<'py>,
    key: &[u8],
    data: &[u8],
) -> PyResult<Bound<'py, PyBytes>> {
    Ok(PyBytes::new(
        py,
        &crypto::encrypt_legacy_raw(&key32(key, "key")?, data, &random()?),
    ))
}

/// Opens what `legacy_encrypt_raw` sealed.
#[pyfunction]
fn legacy_decrypt_raw<'py>(
    py: Python<'py>,
    key: &[u8],
    data: &[u8],
) -> PyResult<Bound<'py, PyBytes>> {
    let plain = crypto::decrypt_legacy_raw(&key32(key, "key")?, data).map_err(decryption)?;
    Ok(PyBytes::new(py, &plain))
}

/// Shamir shares of `secret`, `threshold`-of-`total`, as `(share_index, share_hex,
/// threshold, total)` tuples (the original's `split_secret`, drawing from the OS).
#[pyfunction]
fn shamir_split(secret: &[u8], threshold: u8, total: u8) -> PyResult<Vec<(u8, String, u8, u8)>> {
    let mut random = vec![0u8; secret.len() * usize::from(threshold.saturating_sub(1))];
    getrandom::getrandom(&mut random).map_err(native)?;
    let mut stream = random.into_iter();
    let shares = engram_core::shamir::split(secret, threshold, total, || {
        stream.next().expect("enough randomness drawn")
    })
    .map_err(|e| PyValueError::new_err(e.to_string()))?;
    Ok(shares
        .into_iter()
        .map(|s| (s.share_index, s.share_hex, s.threshold, s.total))
        .collect())
}

/// The secret behind `(share_index, share_hex, threshold, total)` shares (the first
/// `threshold` are used).
#[pyfunction]
fn shamir_combine<'py>(
    py: Python<'py>,
    shares: Vec<(u8, String, u8, u8)>,
) -> PyResult<Bound<'py, PyBytes>> {
    let shares: Vec<engram_core::shamir::Share> = shares
        .into_iter()
        .map(
            |(share_index, share_hex, threshold, total)| engram_core::shamir::Share {
                share_index,
                share_hex: share_hex.to_lowercase(),
                threshold,
                total,
            },
        )
        .collect();
    let secret =
        engram_core::shamir::combine(&shares).map_err(|e| PyValueError::new_err(e.to_string()))?;
    Ok(PyBytes::new(py, &secret))
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(shamir_split, m)?)?;
    m.add_function(wrap_pyfunction!(shamir_combine, m)?)?;
    m.add_function(wrap_pyfunction!(x25519_generate, m)?)?;
    m.add_function(wrap_pyfunction!(x25519_public, m)?)?;
    m.add_function(wrap_pyfunction!(hybrid_encrypt, m)?)?;
    m.add_function(wrap_pyfunction!(hybrid_decrypt, m)?)?;
    m.add_function(wrap_pyfunction!(hybrid_encrypt_raw, m)?)?;
    m.add_function(wrap_pyfunction!(hybrid_decrypt_raw, m)?)?;
    m.add_function(wrap_pyfunction!(legacy_key, m)?)?;
    m.add_function(wrap_pyfunction!(legacy_encrypt, m)?)?;
    m.add_function(wrap_pyfunction!(legacy_decrypt, m)?)?;
    m.add_function(wrap_pyfunction!(legacy_encrypt_raw, m)?)?;
    m.add_function(wrap_pyfunction!(legacy_decrypt_raw, m)?)?;
    Ok(())
}
