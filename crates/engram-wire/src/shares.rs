//! `POST /KeyShareSynapse` and `POST /KeyShareRetrieve`: one share of a private namespace's
//! key per node, for the namespace's signed owner (the original's bodies, plus our
//! `node_hotkey`, which with a signed request binds a share to one node).

use serde::{Deserialize, Serialize};

use crate::NamespaceAuth;

/// A share as stored and returned (`share_index`, `share_hex`, `threshold`, `total`).
pub use engram_core::shamir::Share as KeyShare;

/// `POST /KeyShareSynapse`: the namespace's credentials and the share to keep. The share's
/// fields are optional on the wire so that a missing one is a 400 naming them all, as the
/// original answers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct KeyShareRequest {
    /// Namespace and its owner's signature.
    #[serde(flatten)]
    pub auth: NamespaceAuth,
    /// The share's x coordinate, 1-based.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub share_index: Option<i64>,
    /// The share's bytes, lowercase hex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub share_hex: Option<String>,
    /// K.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<i64>,
    /// N.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<i64>,
    /// Ours: the hotkey of the node the share is for. With a signed request it binds the
    /// share to that node: it is then released only to a signed request for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_hotkey: Option<String>,
}

/// `POST /KeyShareRetrieve`: the namespace's credentials (and, ours, the node asked).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct KeyShareRetrieveRequest {
    /// Namespace and its owner's signature.
    #[serde(flatten)]
    pub auth: NamespaceAuth,
    /// Ours: the hotkey of the node asked (must be this node's when present).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_hotkey: Option<String>,
}

/// The answer to `POST /KeyShareSynapse`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyShareStored {
    /// True.
    pub stored: bool,
}
