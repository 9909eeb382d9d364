//! Arweave wallets: an RSA key pair kept as a JWK.
//!
//! Arweave identifies a wallet by its RSA modulus `n`: the transaction `owner` is `n` in
//! base64url and the address is the base64url SHA-256 of the raw modulus bytes. The original
//! Engram read the JWK JSON from `ARWEAVE_KEY`; [`Wallet::from_env`] keeps that and adds
//! `ARWEAVE_KEY_FILE` so the secret need not sit in the environment.
//!
//! A JWK must carry all of `n, e, d, p, q, dp, dq, qi` (arweave-js refuses to sign otherwise).
//! The CRT members are checked against the primes, so a key pasted with a member from another key
//! is refused here instead of producing signatures every node rejects.

use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};

use rsa::pss::SigningKey;
use rsa::rand_core::OsRng;
use rsa::signature::{RandomizedSigner, SignatureEncoding};
use rsa::traits::{PrivateKeyParts, PublicKeyParts};
use rsa::{BigUint, RsaPrivateKey};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::b64;
use crate::error::{ArweaveError, KeyOrigin, Result};

/// The environment variable holding the JWK JSON (as in the original Engram).
pub const KEY_ENV: &str = "ARWEAVE_KEY";
/// The environment variable holding the path of a JWK file.
pub const KEY_FILE_ENV: &str = "ARWEAVE_KEY_FILE";

/// PSS salt length Arweave nodes sign with: the SHA-256 digest length.
pub(crate) const PSS_SALT_LEN: usize = 32;

/// An Arweave wallet: an RSA private key and the owner and address derived from it.
///
/// `Debug` shows the address only; the key never appears in logs.
#[derive(Clone)]
pub struct Wallet {
    key: RsaPrivateKey,
    modulus: Vec<u8>,
    owner: String,
    address: String,
}

/// The JWK members, all optional so a missing one is reported by name.
#[derive(Deserialize)]
struct Jwk {
    kty: Option<String>,
    n: Option<String>,
    e: Option<String>,
    d: Option<String>,
    p: Option<String>,
    q: Option<String>,
    dp: Option<String>,
    dq: Option<String>,
    qi: Option<String>,
}

impl Wallet {
    /// Reads a wallet from JWK JSON, as exported by arweave-js, ArConnect or the Arweave node.
    ///
    /// # Errors
    /// A `Jwk*` variant of [`ArweaveError`] naming what is wrong with the key.
    pub fn from_jwk(json: &str) -> Result<Self> {
        Self::parse(json, KeyOrigin::Inline)
    }

    /// Reads a wallet from a JWK file.
    ///
    /// # Errors
    /// [`ArweaveError::KeyFileRead`], or a `Jwk*` variant naming the file.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let json = std::fs::read_to_string(path).map_err(|source| ArweaveError::KeyFileRead {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&json, KeyOrigin::File(path.to_path_buf()))
    }

    /// Reads the wallet from `ARWEAVE_KEY` (the JWK JSON) or, when that is unset or empty,
    /// from the file named by `ARWEAVE_KEY_FILE`.
    ///
    /// # Errors
    /// [`ArweaveError::WalletNotConfigured`] when neither is set; otherwise as
    /// [`Wallet::from_jwk`] and [`Wallet::from_file`].
    pub fn from_env() -> Result<Self> {
        Self::from_env_with(|var| std::env::var_os(var))
    }

    fn from_env_with(lookup: impl Fn(&str) -> Option<OsString>) -> Result<Self> {
        let set = |var: &str| lookup(var).filter(|value| !value.is_empty());
        if let Some(json) = set(KEY_ENV) {
            let json = json
                .into_string()
                .map_err(|_| ArweaveError::WalletEnvNotUnicode { var: KEY_ENV })?;
            return Self::parse(&json, KeyOrigin::Env(KEY_ENV));
        }
        match set(KEY_FILE_ENV) {
            Some(path) => Self::from_file(PathBuf::from(path)),
            None => Err(ArweaveError::WalletNotConfigured),
        }
    }

    /// Generates a new wallet with an RSA key of `bits` bits and exponent 65537.
    ///
    /// Arweave wallets are 4096-bit; smaller keys are for tests (arlocal accepts them, mainnet
    /// nodes do not).
    ///
    /// # Errors
    /// [`ArweaveError::KeyGeneration`] for sizes the RSA library refuses.
    pub fn generate(bits: usize) -> Result<Self> {
        let key = RsaPrivateKey::new(&mut OsRng, bits)
            .map_err(|source| ArweaveError::KeyGeneration { bits, source })?;
        Ok(Self::from_key(key))
    }

    /// The wallet address: base64url of the SHA-256 of the modulus, 43 characters.
    pub fn address(&self) -> &str {
        &self.address
    }

    /// The transaction `owner`: the modulus `n` in base64url.
    pub fn owner(&self) -> &str {
        &self.owner
    }

    /// The wallet as JWK JSON, readable by [`Wallet::from_jwk`] and arweave-js.
    ///
    /// The result contains the private key.
    pub fn to_jwk(&self) -> String {
        let member = |value: &BigUint| b64::encode(value.to_bytes_be());
        let primes = self.key.primes();
        let jwk = serde_json::json!({
            "kty": "RSA",
            "e": member(self.key.e()),
            "n": self.owner,
            "d": member(self.key.d()),
            "p": member(&primes[0]),
            "q": member(&primes[1]),
            "dp": self.key.dp().map(member),
            "dq": self.key.dq().map(member),
            "qi": self.key.crt_coefficient().as_ref().map(member),
        });
        jwk.to_string()
    }

    /// The raw modulus bytes, as signed in the `owner` position.
    pub(crate) fn modulus(&self) -> &[u8] {
        &self.modulus
    }

    /// Signs `message` with RSA-PSS over SHA-256 (MGF1-SHA-256) and the given salt length.
    pub(crate) fn sign_pss(&self, message: &[u8], salt_len: usize) -> Result<Vec<u8>> {
        let signer = SigningKey::<Sha256>::new_with_salt_len(self.key.clone(), salt_len);
        let signature = signer
            .try_sign_with_rng(&mut OsRng, message)
            .map_err(ArweaveError::Signing)?;
        Ok(signature.to_vec())
    }

    fn parse(json: &str, origin: KeyOrigin) -> Result<Self> {
        let jwk: Jwk = serde_json::from_str(json).map_err(|source| ArweaveError::JwkJson {
            origin: origin.clone(),
            source,
        })?;
        if let Some(kty) = &jwk.kty
            && kty != "RSA"
        {
            return Err(ArweaveError::JwkNotRsa {
                origin,
                kty: kty.clone(),
            });
        }
        let member = |name: &'static str, value: &Option<String>| -> Result<Vec<u8>> {
            let text = value
                .as_deref()
                .ok_or_else(|| ArweaveError::JwkMissingMember {
                    origin: origin.clone(),
                    member: name,
                })?;
            b64::decode(text).map_err(|source| ArweaveError::JwkBase64 {
                origin: origin.clone(),
                member: name,
                source,
            })
        };
        let modulus = member("n", &jwk.n)?;
        let int = |bytes: &[u8]| BigUint::from_bytes_be(bytes);
        let e = int(&member("e", &jwk.e)?);
        let d = int(&member("d", &jwk.d)?);
        let p = int(&member("p", &jwk.p)?);
        let q = int(&member("q", &jwk.q)?);
        let dp = int(&member("dp", &jwk.dp)?);
        let dq = int(&member("dq", &jwk.dq)?);
        let qi = int(&member("qi", &jwk.qi)?);

        let key =
            RsaPrivateKey::from_components(int(&modulus), e, d, vec![p, q]).map_err(|source| {
                ArweaveError::JwkInvalidKey {
                    origin: origin.clone(),
                    source,
                }
            })?;
        let inconsistent = |member| ArweaveError::JwkInconsistent {
            origin: origin.clone(),
            member,
        };
        if key.dp() != Some(&dp) {
            return Err(inconsistent("dp"));
        }
        if key.dq() != Some(&dq) {
            return Err(inconsistent("dq"));
        }
        if key.crt_coefficient() != Some(qi) {
            return Err(inconsistent("qi"));
        }
        Ok(Self::with_modulus(key, modulus))
    }

    fn from_key(key: RsaPrivateKey) -> Self {
        let modulus = key.n().to_bytes_be();
        Self::with_modulus(key, modulus)
    }

    fn with_modulus(key: RsaPrivateKey, modulus: Vec<u8>) -> Self {
        Self {
            owner: b64::encode(&modulus),
            address: address_of(&modulus),
            key,
            modulus,
        }
    }
}

impl fmt::Debug for Wallet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Wallet")
            .field("address", &self.address)
            .finish_non_exhaustive()
    }
}

/// The address of an owner given as raw modulus bytes.
pub(crate) fn address_of(modulus: &[u8]) -> String {
    b64::encode(Sha256::digest(modulus))
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURE: &str = include_str!("../tests/vectors/signed_v2_tx.json");

    fn fixture_jwk() -> (String, String) {
        let vector: serde_json::Value = serde_json::from_str(FIXTURE).unwrap();
        (
            vector["jwk"].to_string(),
            vector["address"].as_str().unwrap().to_owned(),
        )
    }

    fn with_member(jwk: &str, name: &str, value: Option<&str>) -> String {
        let mut object: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(jwk).unwrap();
        match value {
            Some(value) => object.insert(name.into(), value.into()),
            None => object.remove(name),
        };
        serde_json::Value::Object(object).to_string()
    }

    #[test]
    fn fixture_key_has_the_upstream_address() {
        let (jwk, address) = fixture_jwk();
        let wallet = Wallet::from_jwk(&jwk).unwrap();
        assert_eq!(wallet.address(), address);
        assert_eq!(wallet.modulus().len(), 512, "a 4096-bit modulus");
        let n: serde_json::Value = serde_json::from_str(&jwk).unwrap();
        assert_eq!(wallet.owner(), n["n"].as_str().unwrap());
        assert_eq!(
            format!("{wallet:?}"),
            format!("Wallet {{ address: {address:?}, .. }}")
        );
    }

    #[test]
    fn jwk_round_trips() {
        let (jwk, address) = fixture_jwk();
        let wallet = Wallet::from_jwk(&jwk).unwrap();
        let again = Wallet::from_jwk(&wallet.to_jwk()).unwrap();
        assert_eq!(again.address(), address);
        let original: serde_json::Value = serde_json::from_str(&jwk).unwrap();
        let exported: serde_json::Value = serde_json::from_str(&wallet.to_jwk()).unwrap();
        for member in ["n", "e", "d", "p", "q", "dp", "dq", "qi"] {
            assert_eq!(original[member], exported[member], "{member}");
        }
    }

    #[test]
    fn bad_jwks_say_what_is_wrong() {
        let (jwk, _) = fixture_jwk();
        let err = Wallet::from_jwk("not json").unwrap_err();
        assert!(
            matches!(
                err,
                ArweaveError::JwkJson {
                    origin: KeyOrigin::Inline,
                    ..
                }
            ),
            "{err}"
        );

        let err = Wallet::from_jwk(&with_member(&jwk, "qi", None)).unwrap_err();
        assert!(
            matches!(err, ArweaveError::JwkMissingMember { member: "qi", .. }),
            "{err}"
        );
        assert!(err.to_string().contains("lacks \"qi\""), "{err}");

        let err = Wallet::from_jwk(&with_member(&jwk, "kty", Some("EC"))).unwrap_err();
        assert!(
            matches!(err, ArweaveError::JwkNotRsa { ref kty, .. } if kty == "EC"),
            "{err}"
        );

        let err = Wallet::from_jwk(&with_member(&jwk, "d", Some("a+b/"))).unwrap_err();
        assert!(
            matches!(err, ArweaveError::JwkBase64 { member: "d", .. }),
            "{err}"
        );

        // Another modulus: p·q no longer equals n.
        let err = Wallet::from_jwk(&with_member(&jwk, "n", Some("AQAB"))).unwrap_err();
        assert!(matches!(err, ArweaveError::JwkInvalidKey { .. }), "{err}");

        let err = Wallet::from_jwk(&with_member(&jwk, "dp", Some("AQAB"))).unwrap_err();
        assert!(
            matches!(err, ArweaveError::JwkInconsistent { member: "dp", .. }),
            "{err}"
        );
    }

    #[test]
    fn from_file_names_the_file() {
        let (jwk, address) = fixture_jwk();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("wallet.json");
        std::fs::write(&path, &jwk).unwrap();
        assert_eq!(Wallet::from_file(&path).unwrap().address(), address);

        let missing = dir.path().join("missing.json");
        let err = Wallet::from_file(&missing).unwrap_err();
        assert!(matches!(err, ArweaveError::KeyFileRead { ref path, .. } if *path == missing));

        std::fs::write(&path, "{\"kty\":\"RSA\"}").unwrap();
        let err = Wallet::from_file(&path).unwrap_err();
        assert!(err.to_string().contains("wallet.json"), "{err}");
    }

    #[test]
    fn env_prefers_the_json_then_the_file() {
        let (jwk, address) = fixture_jwk();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("wallet.json");
        std::fs::write(&path, &jwk).unwrap();
        let env = |key: Option<&str>, file: Option<&Path>| {
            let key = key.map(OsString::from);
            let file = file.map(OsString::from);
            move |var: &str| match var {
                KEY_ENV => key.clone(),
                KEY_FILE_ENV => file.clone(),
                _ => None,
            }
        };

        let from_json = Wallet::from_env_with(env(Some(&jwk), None)).unwrap();
        assert_eq!(from_json.address(), address);
        let from_file = Wallet::from_env_with(env(Some(""), Some(&path))).unwrap();
        assert_eq!(from_file.address(), address);
        let err = Wallet::from_env_with(env(Some("{"), Some(&path))).unwrap_err();
        assert!(
            matches!(
                err,
                ArweaveError::JwkJson {
                    origin: KeyOrigin::Env(KEY_ENV),
                    ..
                }
            ),
            "ARWEAVE_KEY wins when both are set: {err}"
        );
        assert!(err.to_string().contains("$ARWEAVE_KEY"), "{err}");
        let err = Wallet::from_env_with(env(None, None)).unwrap_err();
        assert!(matches!(err, ArweaveError::WalletNotConfigured));
    }

    #[test]
    fn generated_wallets_sign_and_export() {
        let wallet = Wallet::generate(1024).unwrap();
        assert_eq!(wallet.address().len(), 43);
        assert_eq!(wallet.modulus().len(), 128);
        let again = Wallet::from_jwk(&wallet.to_jwk()).unwrap();
        assert_eq!(again.address(), wallet.address());
        assert_eq!(
            wallet.sign_pss(b"message", PSS_SALT_LEN).unwrap().len(),
            128
        );
    }
}
