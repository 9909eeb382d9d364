//! Identities: sr25519 hotkeys as Bittensor makes them, and their SS58 addresses.
//!
//! Nodes and validators are known on the network by a hotkey, so keys must derive and sign
//! exactly as the Bittensor key library does: a BIP-39 mnemonic becomes a Substrate "mini
//! secret" (PBKDF2-HMAC-SHA512 over the mnemonic's entropy, salt `"mnemonic"`, 2,048
//! rounds, first 32 bytes), expanded Ed25519-style; `//name` hard junctions derive child
//! keys (the dev accounts `//Alice`, `//Bob`); signatures use the signing context
//! `"substrate"`; addresses are SS58 with prefix 42. `tests/vectors/sr25519.json` pins all
//! of it.
//!
//! Generating a key needs entropy from the caller (the CLI reads the OS's), so this module
//! stays free of I/O; signing draws its nonce randomness inside schnorrkel.

use schnorrkel::derive::ChainCode;
use schnorrkel::{ExpansionMode, MiniSecretKey, PublicKey, SecretKey, Signature, signing_context};

use crate::CoreError;

/// The Substrate signing context Bittensor hotkeys sign with.
const CONTEXT: &[u8] = b"substrate";
/// The generic Substrate SS58 prefix Bittensor uses.
pub const SS58_PREFIX: u8 = 42;
/// The phrase Substrate's dev accounts (`//Alice`, …) derive from.
pub const DEV_PHRASE: &str =
    "bottom drive obey lake curtain smoke basket hold race lonely fit walk";

/// An sr25519 key pair.
#[derive(Clone)]
pub struct Keypair {
    secret: SecretKey,
    public: PublicKey,
}

impl std::fmt::Debug for Keypair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Keypair({})", self.ss58())
    }
}

impl Keypair {
    /// The key of a BIP-39 mnemonic (English, 12–24 words, empty password).
    ///
    /// # Errors
    /// [`CoreError::BadKey`] if the phrase is not a valid mnemonic.
    pub fn from_mnemonic(phrase: &str) -> Result<Self, CoreError> {
        let mnemonic = bip39::Mnemonic::parse_in_normalized(bip39::Language::English, phrase)
            .map_err(|e| CoreError::BadKey {
                reason: format!("not a BIP-39 mnemonic: {e}"),
            })?;
        Ok(Self::from_mini_secret(&mini_secret(&mnemonic.to_entropy())))
    }

    /// A new key from 16 bytes of entropy (a 12-word mnemonic), returned with its phrase.
    pub fn from_entropy(entropy: &[u8; 16]) -> (Self, String) {
        let phrase = bip39::Mnemonic::from_entropy(entropy)
            .expect("16 bytes is valid BIP-39 entropy")
            .to_string();
        (Self::from_mini_secret(&mini_secret(entropy)), phrase)
    }

    /// The key of a Substrate secret URI: a mnemonic, or nothing (the dev phrase),
    /// followed by hard junctions: `//Alice`, `"<mnemonic>//validator//0"`.
    ///
    /// # Errors
    /// [`CoreError::BadKey`] for an invalid mnemonic, a soft junction (`/x`, unsupported:
    /// Bittensor hotkeys never use them) or a password (`///`).
    pub fn from_uri(uri: &str) -> Result<Self, CoreError> {
        let (phrase, path) = match uri.find("//") {
            Some(at) => (uri[..at].trim(), &uri[at..]),
            None => (uri.trim(), ""),
        };
        if path.contains("///") {
            return Err(CoreError::BadKey {
                reason: "passwords in secret URIs are not supported".into(),
            });
        }
        let mut key = Self::from_mnemonic(if phrase.is_empty() {
            DEV_PHRASE
        } else {
            phrase
        })?;
        for junction in path.split("//").skip(1) {
            if junction.is_empty() || junction.contains('/') {
                return Err(CoreError::BadKey {
                    reason: format!(
                        "unsupported junction in {path:?}: only hard junctions (//name)"
                    ),
                });
            }
            key = key.hard_derive(junction);
        }
        Ok(key)
    }

    /// The key of a 32-byte seed (Substrate's mini secret, as `Keypair.create_from_seed`
    /// in Python's `bittensor_wallet` makes it).
    pub fn from_seed(seed: &[u8; 32]) -> Self {
        Self::from_mini_secret(seed)
    }

    fn from_mini_secret(mini: &[u8; 32]) -> Self {
        let secret = MiniSecretKey::from_bytes(mini)
            .expect("32 bytes is a mini secret")
            .expand(ExpansionMode::Ed25519);
        let public = secret.to_public();
        Self { secret, public }
    }

    /// A hard-derived child (`//junction`), as Substrate derives it.
    fn hard_derive(&self, junction: &str) -> Self {
        let (mini, _) = self
            .secret
            .hard_derive_mini_secret_key(Some(ChainCode(chain_code(junction))), b"");
        let secret = mini.expand(ExpansionMode::Ed25519);
        let public = secret.to_public();
        Self { secret, public }
    }

    /// The 32-byte public key.
    pub fn public(&self) -> [u8; 32] {
        self.public.to_bytes()
    }

    /// The SS58 address (prefix 42): the hotkey as the network names it.
    pub fn ss58(&self) -> String {
        ss58_encode(&self.public())
    }

    /// A 64-byte sr25519 signature over `message` in the Substrate context.
    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.secret
            .sign(signing_context(CONTEXT).bytes(message), &self.public)
            .to_bytes()
    }
}

/// Why a [`Signer`] could not sign: whatever its holder reports (a Python keypair's
/// exception, a hardware signer's refusal), kept as the source.
pub type SignError = Box<dyn std::error::Error + Send + Sync>;

/// Anything that signs as an sr25519 hotkey: our [`Keypair`], or a key held elsewhere (a
/// `bittensor_wallet.Keypair` in Python, a hardware signer). Requests and namespace
/// claims are signed through this, so the message rules stay in one place whoever holds
/// the key.
pub trait Signer: Send + Sync + std::fmt::Debug {
    /// The SS58 address the signatures verify under.
    fn ss58(&self) -> String;
    /// A 64-byte sr25519 signature over `message` in the Substrate context.
    ///
    /// # Errors
    /// Whatever the key's holder reports.
    fn sign(&self, message: &[u8]) -> Result<[u8; 64], SignError>;
}

impl Signer for Keypair {
    fn ss58(&self) -> String {
        Keypair::ss58(self)
    }

    fn sign(&self, message: &[u8]) -> Result<[u8; 64], SignError> {
        Ok(Keypair::sign(self, message))
    }
}

/// Whether `signature` is `public`'s signature over `message` (Substrate context).
pub fn verify(public: &[u8; 32], message: &[u8], signature: &[u8; 64]) -> bool {
    let (Ok(public), Ok(signature)) = (
        PublicKey::from_bytes(public),
        Signature::from_bytes(signature),
    ) else {
        return false;
    };
    public.verify_simple(CONTEXT, message, &signature).is_ok()
}

/// Substrate's mini secret of a BIP-39 entropy with an empty password.
fn mini_secret(entropy: &[u8]) -> [u8; 32] {
    let mut seed = [0u8; 64];
    pbkdf2::pbkdf2_hmac::<sha2::Sha512>(entropy, b"mnemonic", 2048, &mut seed);
    seed[..32].try_into().expect("32 bytes")
}

/// The chain code of a junction: a number as 8 little-endian bytes, otherwise the
/// SCALE-encoded string; zero-padded to 32 bytes, or its BLAKE2b-256 when longer.
fn chain_code(junction: &str) -> [u8; 32] {
    let encoded = match junction.parse::<u64>() {
        Ok(n) => n.to_le_bytes().to_vec(),
        Err(_) => {
            let mut out = scale_compact_len(junction.len());
            out.extend_from_slice(junction.as_bytes());
            out
        }
    };
    let mut code = [0u8; 32];
    if encoded.len() > 32 {
        code.copy_from_slice(&blake2b::<32>(&[&encoded]));
    } else {
        code[..encoded.len()].copy_from_slice(&encoded);
    }
    code
}

/// SCALE's compact encoding of a length.
fn scale_compact_len(n: usize) -> Vec<u8> {
    match n {
        0..=0x3f => vec![(n as u8) << 2],
        0x40..=0x3fff => (((n as u16) << 2) | 1).to_le_bytes().to_vec(),
        _ => (((n as u32) << 2) | 2).to_le_bytes().to_vec(),
    }
}

fn blake2b<const N: usize>(parts: &[&[u8]]) -> [u8; N] {
    use blake2::digest::{Update, VariableOutput};
    let mut h = blake2::Blake2bVar::new(N).expect("valid BLAKE2b output size");
    for p in parts {
        h.update(p);
    }
    let mut out = [0u8; N];
    h.finalize_variable(&mut out).expect("output size matches");
    out
}

/// The SS58 address (prefix 42) of a public key.
pub fn ss58_encode(public: &[u8; 32]) -> String {
    let mut payload = Vec::with_capacity(35);
    payload.push(SS58_PREFIX);
    payload.extend_from_slice(public);
    let checksum = blake2b::<64>(&[b"SS58PRE", &payload]);
    payload.extend_from_slice(&checksum[..2]);
    bs58::encode(payload).into_string()
}

/// The public key of an SS58 address with prefix 42.
///
/// # Errors
/// [`CoreError::BadKey`] for bad base58, another prefix, a wrong length or checksum.
pub fn ss58_decode(address: &str) -> Result<[u8; 32], CoreError> {
    let bad = |reason: &str| CoreError::BadKey {
        reason: format!("{address:?} is not an SS58 address: {reason}"),
    };
    let bytes = bs58::decode(address)
        .into_vec()
        .map_err(|_| bad("bad base58"))?;
    if bytes.len() != 35 {
        return Err(bad("wrong length"));
    }
    if bytes[0] != SS58_PREFIX {
        return Err(bad("prefix is not 42"));
    }
    let checksum = blake2b::<64>(&[b"SS58PRE", &bytes[..33]]);
    if checksum[..2] != bytes[33..] {
        return Err(bad("checksum mismatch"));
    }
    Ok(bytes[1..33].try_into().expect("32 bytes"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_verify_and_tampering_fails() {
        let key = Keypair::from_uri("//Alice").unwrap();
        let sig = key.sign(b"engram");
        assert!(verify(&key.public(), b"engram", &sig));
        assert!(!verify(&key.public(), b"engrax", &sig));
        let bob = Keypair::from_uri("//Bob").unwrap();
        assert!(!verify(&bob.public(), b"engram", &sig));
    }

    #[test]
    fn ss58_round_trips_and_rejects_corruption() {
        let key = Keypair::from_uri("//Charlie").unwrap();
        let address = key.ss58();
        assert_eq!(ss58_decode(&address).unwrap(), key.public());
        let mut corrupt = address.clone().into_bytes();
        corrupt[10] = if corrupt[10] == b'a' { b'b' } else { b'a' };
        assert!(ss58_decode(std::str::from_utf8(&corrupt).unwrap()).is_err());
        assert!(ss58_decode("not-base58-0OIl").is_err());
    }

    #[test]
    fn generated_keys_come_back_from_their_phrase() {
        let (key, phrase) = Keypair::from_entropy(&[7u8; 16]);
        assert_eq!(phrase.split(' ').count(), 12);
        assert_eq!(
            Keypair::from_mnemonic(&phrase).unwrap().public(),
            key.public()
        );
        assert!(Keypair::from_mnemonic("not a real mnemonic").is_err());
        assert!(Keypair::from_uri("//Alice/soft").is_err());
    }

    #[test]
    fn long_and_numeric_junctions_derive_distinct_keys() {
        let a = Keypair::from_uri("//0").unwrap();
        let b = Keypair::from_uri("//a-junction-name-much-longer-than-thirty-two-bytes").unwrap();
        assert_ne!(a.public(), b.public());
        assert_eq!(
            Keypair::from_uri(&format!("{DEV_PHRASE}//0"))
                .unwrap()
                .public(),
            a.public()
        );
    }
}
