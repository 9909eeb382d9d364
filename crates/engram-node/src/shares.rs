//! Threshold key shares: `POST /KeyShareSynapse` keeps one share of a private namespace's
//! key, `POST /KeyShareRetrieve` gives it back — both only to the namespace's owner, proven
//! by a fresh `engram-ns` signature of its hotkey (the original's rule and bodies).
//!
//! A share alone says nothing of the key (`engram_core::shamir`); what must not happen is
//! anyone but the owner collecting K of them. The original's proof is weak for that: the
//! same `engram-ns` signature rides on every private ingest and query, names no endpoint,
//! no node and no share, so whoever sees one (any node the owner talks to) could present
//! it to the share holders within its 60 s window. So:
//! - a share request needs a hotkey signature (the shared `namespace_key` is refused), a
//!   namespace signature is good for one share request on this node, and a namespace the
//!   node has not met is claimed by the first signed share, as by the first signed ingest;
//! - a share deposited with a **request signature** by the owner (ours: `engram keys split`,
//!   `Network::deal_key`) naming this node (`node_hotkey`) is *bound*: it is released only to
//!   a request signed by the owner for this node and endpoint (the request signature covers
//!   the body and its nonce is single-use), and only a bound deposit may replace it. The
//!   original SDK's unsigned share requests keep working, with the original's weaker proof.
//!
//! Shares live in `key_shares.json` in the data directory, replaced atomically; a new
//! deposit replaces the namespace's old share (one per node, as the original keeps).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use engram_os::now_ms;
use engram_wire::{
    KeyShare, KeyShareRequest, KeyShareRetrieveRequest, KeyShareStored, NamespaceAuth,
};
use serde::{Deserialize, Serialize};

use crate::error::{ApiError, NodeError};
use crate::json::Json;
use crate::server::AppState;

const FILE: &str = "key_shares.json";
/// The longest key a share may carry, in bytes (a share is as long as its key).
pub(crate) const MAX_SHARE_BYTES: usize = 1024;

/// A kept share and whether it is bound to signed requests for this node.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Kept {
    #[serde(flatten)]
    share: KeyShare,
    #[serde(default)]
    bound: bool,
}

/// The shares this node keeps, by namespace.
pub(crate) struct KeyShares {
    path: PathBuf,
    shares: Mutex<HashMap<String, Kept>>,
}

impl KeyShares {
    /// Loads the shares of `data_dir` (none when there is no file).
    pub(crate) fn open(data_dir: &Path) -> Result<Self, NodeError> {
        let path = data_dir.join(FILE);
        Ok(Self {
            shares: Mutex::new(crate::persist::load(&path)?),
            path,
        })
    }

    fn put(&self, namespace: &str, share: Kept) -> Result<(), ApiError> {
        let mut shares = self.shares.lock().unwrap_or_else(|p| p.into_inner());
        if shares.get(namespace).is_some_and(|k| k.bound) && !share.bound {
            return Err(ApiError::Forbidden(
                "this namespace's share was deposited by a signed request for this node: only such a request may replace it".into(),
            ));
        }
        let previous = shares.insert(namespace.to_string(), share);
        crate::persist::save(&self.path, &*shares).inspect_err(|_| {
            // Not kept on disk: not kept.
            match previous {
                Some(old) => shares.insert(namespace.to_string(), old),
                None => shares.remove(namespace),
            };
        })
    }

    fn get(&self, namespace: &str) -> Option<Kept> {
        self.shares
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(namespace)
            .cloned()
    }
}

/// Who sent a share request: the verified request signer, and the node it names.
struct Sender<'a> {
    caller: Option<&'a str>,
    node_hotkey: Option<&'a str>,
}

impl Sender<'_> {
    /// Whether the request is signed by the owner for this node (then it may bind a share or
    /// open a bound one).
    fn binding(&self, owner: &str, me: Option<&str>) -> bool {
        self.caller == Some(owner) && (me.is_none() || self.node_hotkey == me)
    }
}

/// The private namespace a share request is for, once its owner's signature is checked.
fn owner_namespace(
    state: &AppState,
    auth: &NamespaceAuth,
    sender: &Sender<'_>,
    claim: bool,
) -> Result<String, ApiError> {
    let Some(ns) = auth.namespace.as_deref().filter(|n| !n.is_empty()) else {
        return Err(ApiError::BadRequest("missing namespace".into()));
    };
    if crate::namespaces::private_name(Some(ns))?.is_none() {
        return Err(ApiError::BadRequest(
            "the public namespace has no key to share".into(),
        ));
    }
    let (Some(hotkey), Some(sig), Some(_)) = (
        &auth.namespace_hotkey,
        &auth.namespace_sig,
        auth.namespace_timestamp_ms,
    ) else {
        return Err(ApiError::Unauthorized(
            "namespace_hotkey, namespace_sig, and namespace_timestamp_ms are required".into(),
        ));
    };
    if sender.caller.is_some_and(|c| c != hotkey) {
        return Err(ApiError::Forbidden(
            "the request is signed by another hotkey than the namespace's owner".into(),
        ));
    }
    let me = state.joined.get().map(|j| j.hotkey.as_str());
    if let Some(addressed) = sender.node_hotkey
        && me != Some(addressed)
    {
        return Err(ApiError::Forbidden(format!(
            "this share request is for node {addressed}, not this one"
        )));
    }
    let now = now_ms();
    let signed = NamespaceAuth {
        namespace: Some(ns.to_string()),
        namespace_key: None,
        ..auth.clone()
    };
    state.namespaces.authorize(&signed, now, claim)?;
    if !state.namespaces.is_owned_by_hotkey(ns, hotkey) {
        return Err(ApiError::Forbidden(
            "Hotkey is not the namespace owner".into(),
        ));
    }
    if !state.replay.first_use(&format!("share|{sig}"), 0, now) {
        return Err(ApiError::Unauthorized(
            "this namespace signature was already used for a share request on this node: sign afresh for each one".into(),
        ));
    }
    Ok(ns.to_string())
}

/// A deposited share, checked: indices and sizes in range, hex well formed.
fn checked(req: &KeyShareRequest) -> Result<KeyShare, ApiError> {
    let (Some(index), Some(hex), Some(k), Some(n)) = (
        req.share_index,
        req.share_hex.as_deref().filter(|h| !h.is_empty()),
        req.threshold,
        req.total,
    ) else {
        return Err(ApiError::BadRequest(
            "share_index, share_hex, threshold, total are required".into(),
        ));
    };
    let byte = |v: i64, what: &str| {
        u8::try_from(v).map_err(|_| ApiError::BadRequest(format!("{what} must be 1–255, got {v}")))
    };
    let (index, k, n) = (
        byte(index, "share_index")?,
        byte(k, "threshold")?,
        byte(n, "total")?,
    );
    // What the original stores verbatim we keep canonical and bounded.
    if hex.len() > 2 * MAX_SHARE_BYTES
        || !hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    {
        return Err(ApiError::BadRequest(format!(
            "share_hex must be lowercase hex of at most {MAX_SHARE_BYTES} bytes"
        )));
    }
    let share = KeyShare {
        share_index: index,
        share_hex: hex.to_string(),
        threshold: k,
        total: n,
    };
    share.check()?;
    Ok(share)
}

/// `POST /KeyShareSynapse`. Rate-limited like ingests: each deposit may claim a namespace
/// and rewrites two registries.
pub(crate) async fn store(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Json(req, caller): Json<KeyShareRequest>,
) -> Result<axum::Json<KeyShareStored>, ApiError> {
    let share = checked(&req)?;
    let who = caller.clone().unwrap_or_else(|| peer.ip().to_string());
    state
        .limiter
        .check(&who, std::time::Instant::now())
        .map_err(|retry_after| ApiError::RateLimited {
            per_minute: state.limiter.per_minute(),
            retry_after,
        })?;
    let st = state.clone();
    tokio::task::spawn_blocking(move || {
        let sender = Sender {
            caller: caller.as_deref(),
            node_hotkey: req.node_hotkey.as_deref(),
        };
        let ns = owner_namespace(&st, &req.auth, &sender, true)?;
        let owner = req.auth.namespace_hotkey.as_deref().unwrap_or_default();
        let me = st.joined.get().map(|j| j.hotkey.as_str());
        let bound = sender.binding(owner, me);
        st.shares.put(&ns, Kept { share, bound })
    })
    .await??;
    Ok(axum::Json(KeyShareStored { stored: true }))
}

/// `POST /KeyShareRetrieve`.
pub(crate) async fn retrieve(
    State(state): State<Arc<AppState>>,
    Json(req, caller): Json<KeyShareRetrieveRequest>,
) -> Result<axum::Json<KeyShare>, ApiError> {
    let sender = Sender {
        caller: caller.as_deref(),
        node_hotkey: req.node_hotkey.as_deref(),
    };
    let ns = owner_namespace(&state, &req.auth, &sender, false)?;
    let kept = state
        .shares
        .get(&ns)
        .ok_or_else(|| ApiError::NotFound("No key share stored for this namespace".into()))?;
    let owner = req.auth.namespace_hotkey.as_deref().unwrap_or_default();
    let me = state.joined.get().map(|j| j.hotkey.as_str());
    if kept.bound && !sender.binding(owner, me) {
        return Err(ApiError::Unauthorized(
            "this share is released only to a request signed by the namespace's owner for this node (hotkey, nonce, signature and node_hotkey)".into(),
        ));
    }
    Ok(axum::Json(kept.share))
}
