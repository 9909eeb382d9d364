//! Private namespaces: who owns each one, and checking that a request may use it.
//!
//! The public namespace needs nothing. Any other namespace belongs to the first hotkey
//! that writes to it with a valid signature over `engram-ns:{namespace}:{timestamp_ms}`
//! (±60 s); from then on every ingest and query in it must carry a fresh signature by that
//! hotkey. The deprecated `namespace_key` (a shared password) still works: a namespace first
//! written with one is owned by its PBKDF2 hash, as the original's registry stores it.
//! Owners are kept in `namespaces.json` in the data directory, replaced atomically.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use engram_client::api::NamespaceAuth;
use engram_core::auth::{NAMESPACE_WINDOW_MS, namespace_message, verify_message, within};
use serde::{Deserialize, Serialize};

use crate::error::{ApiError, NodeError};

const FILE: &str = "namespaces.json";

/// Who owns a namespace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Owner {
    /// An SS58 hotkey.
    Hotkey(String),
    /// The hex PBKDF2 hash of a legacy shared key.
    LegacyKey(String),
}

/// The namespace registry of one node.
pub(crate) struct Namespaces {
    path: PathBuf,
    owners: Mutex<HashMap<String, Owner>>,
}

/// Namespaces names are at most this long.
const MAX_NAMESPACE_BYTES: usize = 256;

impl Namespaces {
    /// Loads the registry of `data_dir` (empty when there is none).
    pub(crate) fn open(data_dir: &Path) -> Result<Self, NodeError> {
        let path = data_dir.join(FILE);
        let owners = match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| NodeError::Config(format!("{}: {e}", path.display())))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => HashMap::new(),
            Err(e) => return Err(NodeError::Config(format!("{}: {e}", path.display()))),
        };
        Ok(Self {
            path,
            owners: Mutex::new(owners),
        })
    }

    fn save(&self, owners: &HashMap<String, Owner>) -> Result<(), ApiError> {
        let tmp = self.path.with_extension("json.tmp");
        let bytes = serde_json::to_vec_pretty(owners).expect("owners serialize");
        std::fs::write(&tmp, bytes)
            .and_then(|()| std::fs::rename(&tmp, &self.path))
            .map_err(|e| ApiError::Internal(format!("cannot save the namespace registry: {e}")))
    }

    /// The namespace a request may use (`None` for public), claiming an unowned one for
    /// its signer when `claim` (writes claim, reads do not).
    ///
    /// # Errors
    /// 400 for a malformed name, 401 for a missing, stale or wrong signature, 403 when the
    /// namespace belongs to someone else.
    pub(crate) fn authorize(
        &self,
        auth: &NamespaceAuth,
        now_ms: u64,
        claim: bool,
    ) -> Result<Option<String>, ApiError> {
        let ns = match auth.namespace.as_deref() {
            None | Some("") | Some(engram_store::PUBLIC_NAMESPACE) => return Ok(None),
            Some(ns) if ns.len() > MAX_NAMESPACE_BYTES || ns.chars().any(char::is_control) => {
                return Err(ApiError::BadRequest(format!(
                    "namespace must be at most {MAX_NAMESPACE_BYTES} bytes with no control characters"
                )));
            }
            Some(ns) => ns,
        };
        let presented = if let Some(sig) = &auth.namespace_sig {
            let (Some(hotkey), Some(ts)) = (&auth.namespace_hotkey, auth.namespace_timestamp_ms)
            else {
                return Err(ApiError::Unauthorized(
                    "a namespace signature needs namespace_hotkey and namespace_timestamp_ms"
                        .into(),
                ));
            };
            if !within(ts, now_ms, NAMESPACE_WINDOW_MS) {
                return Err(ApiError::Unauthorized(format!(
                    "namespace signature timestamp {ts} is outside the ±{} s window",
                    NAMESPACE_WINDOW_MS / 1000
                )));
            }
            verify_message(hotkey, &namespace_message(ns, ts), sig)
                .map_err(|e| ApiError::Unauthorized(e.to_string()))?;
            Owner::Hotkey(hotkey.clone())
        } else if let Some(key) = &auth.namespace_key {
            tracing::warn!(
                namespace = ns,
                "namespace_key is deprecated; sign with a hotkey"
            );
            Owner::LegacyKey(hex::encode(engram_core::crypto::legacy_namespace_key(
                ns, key,
            )))
        } else {
            return Err(ApiError::Unauthorized(format!(
                "namespace {ns:?} is private: sign \"engram-ns:{ns}:<timestamp_ms>\" with its owner's hotkey and send namespace_hotkey, namespace_sig and namespace_timestamp_ms"
            )));
        };
        let mut owners = self.owners.lock().unwrap_or_else(|p| p.into_inner());
        match owners.get(ns) {
            Some(owner) if *owner == presented => Ok(Some(ns.to_string())),
            Some(_) => Err(ApiError::Forbidden(format!(
                "namespace {ns:?} belongs to another key"
            ))),
            None if claim => {
                owners.insert(ns.to_string(), presented);
                self.save(&owners)?;
                Ok(Some(ns.to_string()))
            }
            None => Ok(Some(ns.to_string())),
        }
    }
}
