//! Private namespaces: who owns each one, and checking that a request may use it.
//!
//! The public namespace needs nothing. Any other namespace belongs to the first hotkey
//! that writes to it with a valid signature over `engram-ns:{namespace}:{timestamp_ms}`
//! (±60 s); from then on every ingest and query in it must carry a fresh signature by that
//! hotkey. The deprecated `namespace_key` (a shared password) still works: a namespace first
//! written with one is owned by a SHA-256 of its PBKDF2-derived key. (The original's
//! registry, and ours before, stored the derived key itself — which is the namespace's AES
//! key; such records are upgraded when their owner next presents the password.)
//! Owners are kept in `namespaces.json` in the data directory, replaced atomically.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use engram_core::auth::{NAMESPACE_WINDOW_MS, namespace_message, verify_message, within};
use engram_wire::NamespaceAuth;
use serde::{Deserialize, Serialize};

use crate::error::{ApiError, NodeError};

const FILE: &str = "namespaces.json";

/// Who owns a namespace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Owner {
    /// An SS58 hotkey.
    Hotkey(String),
    /// Hex SHA-256 of the PBKDF2-derived key of a legacy shared key.
    LegacyKeyHash(String),
    /// The hex PBKDF2-derived key itself (older registries); upgraded on first use.
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
        Ok(Self {
            owners: Mutex::new(crate::persist::load(&path)?),
            path,
        })
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
        let Some(ns) = private_name(auth.namespace.as_deref())? else {
            return Ok(None);
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
            let old = Owner::LegacyKey(hex::encode(engram_core::crypto::legacy_namespace_key(
                ns, key,
            )));
            let owner = legacy_owner(ns, key);
            self.upgrade(ns, &old, &owner)?;
            owner
        } else {
            return Err(ApiError::Unauthorized(format!(
                "namespace {ns:?} is private: sign \"engram-ns:{ns}:<timestamp_ms>\" with its owner's hotkey and send namespace_hotkey, namespace_sig and namespace_timestamp_ms"
            )));
        };
        self.settle(ns, presented, claim)?;
        Ok(Some(ns.to_string()))
    }

    /// Whether `ns` has a recorded owner.
    pub(crate) fn is_owned(&self, ns: &str) -> bool {
        self.owners
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains_key(ns)
    }

    /// Creates a password namespace (the deprecated `namespace_key` scheme, `POST
    /// /namespace`), owned by the SHA-256 of its PBKDF2-derived key.
    ///
    /// # Errors
    /// 400 when the namespace exists.
    pub(crate) fn create_legacy(&self, ns: &str, key: &str) -> Result<(), ApiError> {
        let mut owners = self.owners.lock().unwrap_or_else(|p| p.into_inner());
        if owners.contains_key(ns) {
            return Err(ApiError::BadRequest(format!(
                "Namespace '{ns}' already exists. Use a different name or delete the existing one first."
            )));
        }
        owners.insert(ns.to_string(), legacy_owner(ns, key));
        crate::persist::save(&self.path, &*owners)
    }

    /// Checks a password namespace's key under the lock and applies `change` to its entry.
    fn with_legacy(
        &self,
        ns: &str,
        key: &str,
        change: impl FnOnce(&mut HashMap<String, Owner>),
    ) -> Result<(), ApiError> {
        let mut owners = self.owners.lock().unwrap_or_else(|p| p.into_inner());
        let old = Owner::LegacyKey(hex::encode(engram_core::crypto::legacy_namespace_key(
            ns, key,
        )));
        match owners.get(ns) {
            Some(o) if *o == legacy_owner(ns, key) || *o == old => {}
            _ => {
                return Err(ApiError::Forbidden(
                    "Invalid key or namespace not found.".into(),
                ));
            }
        }
        change(&mut owners);
        crate::persist::save(&self.path, &*owners)
    }

    /// Forgets a password namespace (its memories stay; its name is free again).
    ///
    /// # Errors
    /// 403 for a wrong key or an unknown namespace.
    pub(crate) fn delete_legacy(&self, ns: &str, key: &str) -> Result<(), ApiError> {
        self.with_legacy(ns, key, |owners| {
            owners.remove(ns);
        })
    }

    /// Gives a password namespace a new key.
    ///
    /// # Errors
    /// 403 for a wrong key or an unknown namespace.
    pub(crate) fn rotate_legacy(&self, ns: &str, key: &str, new_key: &str) -> Result<(), ApiError> {
        self.with_legacy(ns, key, |owners| {
            owners.insert(ns.to_string(), legacy_owner(ns, new_key));
        })
    }

    /// Every namespace with an owner, sorted.
    pub(crate) fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .owners
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .keys()
            .cloned()
            .collect();
        names.sort();
        names
    }

    /// Whether `ns` is owned by the hotkey `hotkey`.
    pub(crate) fn is_owned_by_hotkey(&self, ns: &str, hotkey: &str) -> bool {
        matches!(
            self.owners.lock().unwrap_or_else(|p| p.into_inner()).get(ns),
            Some(Owner::Hotkey(h)) if h == hotkey
        )
    }

    /// Replaces an old-form owner record of `ns` equal to `old` with `new`.
    fn upgrade(&self, ns: &str, old: &Owner, new: &Owner) -> Result<(), ApiError> {
        let mut owners = self.owners.lock().unwrap_or_else(|p| p.into_inner());
        if owners.get(ns) == Some(old) {
            owners.insert(ns.to_string(), new.clone());
            crate::persist::save(&self.path, &*owners)?;
        }
        Ok(())
    }

    /// Checks that `presented` owns `ns`, claiming it when it has no owner and `claim`.
    ///
    /// # Errors
    /// 403 when the namespace belongs to someone else.
    pub(crate) fn settle(&self, ns: &str, presented: Owner, claim: bool) -> Result<(), ApiError> {
        let mut owners = self.owners.lock().unwrap_or_else(|p| p.into_inner());
        match owners.get(ns) {
            Some(owner) if *owner == presented => Ok(()),
            Some(_) => Err(ApiError::Forbidden(format!(
                "namespace {ns:?} belongs to another key"
            ))),
            None if claim => {
                owners.insert(ns.to_string(), presented);
                crate::persist::save(&self.path, &*owners)
            }
            None => Ok(()),
        }
    }
}

/// The owner record of a password namespace.
fn legacy_owner(ns: &str, key: &str) -> Owner {
    Owner::LegacyKeyHash(hex::encode(engram_core::crypto::legacy_owner_hash(ns, key)))
}

/// The name of a private namespace, `None` for the public one.
///
/// # Errors
/// 400 for a name that is too long or holds control characters.
pub(crate) fn private_name(ns: Option<&str>) -> Result<Option<&str>, ApiError> {
    match engram_core::auth::private_namespace(ns) {
        None => Ok(None),
        Some(ns) if ns.len() > MAX_NAMESPACE_BYTES || ns.chars().any(char::is_control) => {
            Err(ApiError::BadRequest(format!(
                "namespace must be at most {MAX_NAMESPACE_BYTES} bytes with no control characters"
            )))
        }
        Some(ns) => Ok(Some(ns)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn legacy(ns: &str, key: &str) -> NamespaceAuth {
        NamespaceAuth {
            namespace: Some(ns.into()),
            namespace_key: Some(key.into()),
            ..NamespaceAuth::default()
        }
    }

    #[test]
    fn legacy_owners_are_recorded_by_hash_and_old_records_upgrade() {
        let dir = tempfile::tempdir().unwrap();
        let key = "correct horse battery";
        let aes_key = hex::encode(engram_core::crypto::legacy_namespace_key("vault", key));
        {
            let n = Namespaces::open(dir.path()).unwrap();
            n.authorize(&legacy("vault", key), 0, true).unwrap();
            assert!(
                n.authorize(&legacy("vault", "wrong password!!"), 0, false)
                    .is_err()
            );
        }
        let saved = std::fs::read_to_string(dir.path().join(FILE)).unwrap();
        assert!(
            !saved.contains(&aes_key),
            "the registry never holds the AES key"
        );
        assert!(saved.contains("legacy_key_hash"));

        // A registry written the old way (the key itself) still lets its owner in, and is
        // rewritten without the key on that first use.
        let old = HashMap::from([("vault".to_string(), Owner::LegacyKey(aes_key.clone()))]);
        std::fs::write(dir.path().join(FILE), serde_json::to_vec(&old).unwrap()).unwrap();
        let n = Namespaces::open(dir.path()).unwrap();
        assert!(
            n.authorize(&legacy("vault", "wrong password!!"), 0, false)
                .is_err()
        );
        assert!(
            std::fs::read_to_string(dir.path().join(FILE))
                .unwrap()
                .contains(&aes_key)
        );
        assert_eq!(
            n.authorize(&legacy("vault", key), 0, false)
                .unwrap()
                .as_deref(),
            Some("vault")
        );
        let saved = std::fs::read_to_string(dir.path().join(FILE)).unwrap();
        assert!(!saved.contains(&aes_key), "upgraded: {saved}");
    }
}
