//! The one error type of `engram-cloud`.

use thiserror::Error;

/// Why a tier or a manifest could not be made.
#[derive(Debug, Error)]
pub enum CloudError {
    /// A tier name that is not lite, standard or pro.
    #[error("unknown tier {0:?}: use lite, standard or pro")]
    UnknownTier(String),
    /// A hotkey that is not an SS58 sr25519 address.
    #[error("bad hotkey {hotkey:?}")]
    BadHotkey {
        /// What was given.
        hotkey: String,
        /// Why it does not decode.
        #[source]
        source: engram_core::CoreError,
    },
    /// An environment variable the manifest cannot carry.
    #[error("environment variable {0:?}: names are A–Z, 0–9 and _, not starting with a digit")]
    BadEnv(String),
    /// A variable the manifest sets itself.
    #[error(
        "{0} is set by the manifest itself (from --tier, --hotkey, --session); it cannot be overridden"
    )]
    ReservedEnv(String),
    /// An image reference with characters a registry never uses.
    #[error("bad image reference {0:?}")]
    BadImage(String),
    /// Not an Ethereum address.
    #[error("bad address {address:?}: {reason}")]
    BadAddress {
        /// What was given.
        address: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// Not a 65-byte recoverable secp256k1 signature, or one no key recovers from.
    #[error("bad signature: {reason}")]
    BadSignature {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// Not a secp256k1 private key (32 bytes of hex below the curve order).
    #[error("bad private key: 32 bytes of hex (0x optional) below the secp256k1 order")]
    BadPrivateKey,
    /// An x402 payment that is refused.
    #[error("payment refused ({refusal}): {detail}")]
    Payment {
        /// x402's reason.
        refusal: crate::x402::Refusal,
        /// What exactly, for people.
        detail: String,
    },
}
