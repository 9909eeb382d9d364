//! The one error type of `engram-client`.

use thiserror::Error;

/// What can go wrong talking to a node or to the embedded store.
#[derive(Debug, Error)]
pub enum ClientError {
    /// The node answered with an error status and message.
    #[error("node answered {status}: {message}")]
    Http {
        /// HTTP status code.
        status: u16,
        /// The node's `error` message.
        message: String,
    },
    /// The node could not be reached or did not answer in time.
    #[error("cannot reach node {url}: {reason}")]
    Transport {
        /// The URL requested.
        url: String,
        /// What failed.
        reason: String,
    },
    /// The node's answer was not what the protocol says.
    #[error("unexpected answer from {url}: {reason}")]
    Decode {
        /// The URL requested.
        url: String,
        /// What was wrong.
        reason: String,
    },
    /// The call needs a hotkey to sign with and the client has none.
    #[error("this needs a hotkey to sign with: configure the client's signer (CLI: --wallet NAME)")]
    NoSigner,
    /// The node URL is not usable.
    #[error("invalid node URL {0:?}: expected http://host:port")]
    InvalidUrl(String),
    /// The embedded engine failed.
    #[cfg(feature = "embedded")]
    #[error(transparent)]
    Engine(#[from] engram_engine::EngineError),
    /// A network-level failure: the registry, or no node able to serve the request.
    #[error("{0}")]
    Network(String),
    /// The request is invalid before it is sent.
    #[error(transparent)]
    Invalid(#[from] engram_core::CoreError),
}

impl ClientError {
    /// True when a node refused the request itself (400 or 413): asking another node
    /// would get the same answer.
    pub fn is_refusal(&self) -> bool {
        matches!(
            self,
            ClientError::Http {
                status: 400 | 413,
                ..
            }
        ) || matches!(self, ClientError::Invalid(_))
    }

    /// True when the caller's input was at fault (a 4xx from a node, or a local rejection).
    pub fn is_bad_input(&self) -> bool {
        match self {
            ClientError::Http { status, .. } => (400..500).contains(status),
            ClientError::Invalid(_) | ClientError::NoSigner => true,
            #[cfg(feature = "embedded")]
            ClientError::Engine(e) => e.is_bad_input(),
            ClientError::Transport { .. }
            | ClientError::Decode { .. }
            | ClientError::InvalidUrl(_)
            | ClientError::Network(_) => false,
        }
    }
}
