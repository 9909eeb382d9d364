//! The original's operator endpoints, answered only on loopback: `POST /namespace`
//! (password namespaces of the deprecated `namespace_key` scheme: create, delete, rotate,
//! list) and `GET /wallet-stats[/{hotkey}]` (what each signing hotkey did on this node).
//!
//! Both expose or change what only the machine's operator should, so any peer but
//! 127.0.0.0/8 and ::1 gets 403 before the body is read, as the original answers. Wallet
//! statistics count only *verified* request signatures (the original also counted the
//! claimed `hotkey` of unsigned requests, so anyone could inflate anyone's numbers); they are
//! kept in memory and written to `wallet_stats.json` when the node stops.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use axum::extract::{ConnectInfo, Path as UrlPath, State};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::error::{ApiError, NodeError};
use crate::json::Json;
use crate::server::AppState;

const FILE: &str = "wallet_stats.json";
/// CIDs remembered per hotkey (the original's `WALLET_TRACKER_MAX_CIDS`).
const MAX_CIDS: usize = 200;

/// What one hotkey did.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Activity {
    ingest_count: u64,
    query_count: u64,
    /// Unix seconds, as the original reports it.
    last_seen: f64,
    cids: Vec<String>,
}

/// Per-hotkey activity of one node.
pub(crate) struct WalletStats {
    path: PathBuf,
    by_hotkey: Mutex<HashMap<String, Activity>>,
}

fn now_s() -> f64 {
    engram_os::now_ms() as f64 / 1000.0
}

impl WalletStats {
    /// Loads the statistics of `data_dir` (none when there is no file).
    pub(crate) fn open(data_dir: &Path) -> Result<Self, NodeError> {
        let path = data_dir.join(FILE);
        Ok(Self {
            by_hotkey: Mutex::new(crate::persist::load(&path)?),
            path,
        })
    }

    fn all(&self) -> std::sync::MutexGuard<'_, HashMap<String, Activity>> {
        self.by_hotkey.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn with(&self, hotkey: &str, f: impl FnOnce(&mut Activity)) {
        let mut all = self.all();
        let a = all.entry(hotkey.to_string()).or_default();
        a.last_seen = now_s();
        f(a);
    }

    /// A stored memory by a verified hotkey.
    pub(crate) fn ingest(&self, hotkey: &str, cid: &str) {
        self.with(hotkey, |a| {
            a.ingest_count += 1;
            if !a.cids.iter().any(|c| c == cid) {
                a.cids.push(cid.to_string());
                let excess = a.cids.len().saturating_sub(MAX_CIDS);
                a.cids.drain(..excess);
            }
        });
    }

    /// An answered query by a verified hotkey.
    pub(crate) fn query(&self, hotkey: &str) {
        self.with(hotkey, |a| a.query_count += 1);
    }

    /// Writes the statistics (at shutdown).
    pub(crate) fn save(&self) -> Result<(), ApiError> {
        crate::persist::save(&self.path, &*self.all())
    }
}

fn loopback_only(peer: &SocketAddr) -> Result<(), ApiError> {
    if peer.ip().is_loopback() {
        Ok(())
    } else {
        Err(ApiError::Forbidden("Forbidden".into()))
    }
}

/// `GET /wallet-stats`: every hotkey, most recently seen first.
pub(crate) async fn wallet_stats(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
) -> Result<axum::Json<Value>, ApiError> {
    loopback_only(&peer)?;
    let all = state.wallets.all();
    let mut rows: Vec<(&String, &Activity)> = all.iter().collect();
    rows.sort_by(|a, b| b.1.last_seen.total_cmp(&a.1.last_seen));
    Ok(axum::Json(Value::Array(
        rows.into_iter()
            .map(|(h, a)| {
                json!({"hotkey": h, "ingest_count": a.ingest_count, "query_count": a.query_count,
                       "last_seen": a.last_seen, "cid_count": a.cids.len()})
            })
            .collect(),
    )))
}

/// `GET /wallet-stats/{hotkey}`: one hotkey (zeros for one never seen).
pub(crate) async fn wallet_stats_of(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    UrlPath(hotkey): UrlPath<String>,
) -> Result<axum::Json<Value>, ApiError> {
    loopback_only(&peer)?;
    let all = state.wallets.all();
    let a = all.get(&hotkey).cloned().unwrap_or_default();
    Ok(axum::Json(
        json!({"ingest_count": a.ingest_count, "query_count": a.query_count,
                         "last_seen": a.last_seen, "cids": a.cids}),
    ))
}

/// `POST /namespace` body.
#[derive(Debug, Deserialize)]
pub(crate) struct NamespaceAdmin {
    #[serde(default)]
    action: String,
    #[serde(default)]
    namespace: String,
    #[serde(default)]
    key: String,
    #[serde(default)]
    new_key: Option<String>,
}

/// Minimum length of a namespace password (the original's rule).
const MIN_KEY_CHARS: usize = 16;

/// Python's `str.isidentifier()` for the names the original accepts: a letter or `_`, then
/// letters, digits or `_`.
fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || c == '_')
}

/// `POST /namespace`: the operator's password namespaces (`create`, `delete`, `rotate`,
/// `list`).
pub(crate) async fn namespace(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Json(req, _caller): Json<NamespaceAdmin>,
) -> Result<axum::Json<Value>, ApiError> {
    loopback_only(&peer)?;
    // Password checks derive PBKDF2 keys (100,000 rounds) and write the registry: off the
    // async threads.
    tokio::task::spawn_blocking(move || admin_action(&state, &req)).await?
}

fn admin_action(state: &AppState, req: &NamespaceAdmin) -> Result<axum::Json<Value>, ApiError> {
    let ns = &req.namespace;
    let key_ok = |k: &str, what: &str| {
        if k.chars().count() < MIN_KEY_CHARS {
            Err(ApiError::BadRequest(format!(
                "{what} must be at least {MIN_KEY_CHARS} characters."
            )))
        } else {
            Ok(())
        }
    };
    let names = &state.namespaces;
    match req.action.as_str() {
        "create" => {
            if !is_identifier(ns) {
                return Err(ApiError::BadRequest(format!(
                    "Namespace name must be a valid identifier (letters, digits, underscores). Got: {}",
                    engram_core::pyrepr::repr(&Value::String(ns.clone()))
                )));
            }
            key_ok(&req.key, "Namespace key")?;
            names.create_legacy(ns, &req.key)?;
            Ok(axum::Json(json!({"ok": true, "namespace": ns})))
        }
        "delete" => {
            names.delete_legacy(ns, &req.key)?;
            Ok(axum::Json(json!({"ok": true})))
        }
        "rotate" => {
            let Some(new_key) = req.new_key.as_deref().filter(|k| !k.is_empty()) else {
                return Err(ApiError::BadRequest("new_key is required.".into()));
            };
            key_ok(new_key, "New key")?;
            names.rotate_legacy(ns, &req.key, new_key)?;
            Ok(axum::Json(json!({"ok": true})))
        }
        "list" => Ok(axum::Json(json!({"namespaces": names.names()}))),
        _ => Err(ApiError::BadRequest(
            "Unknown action. Use: create, delete, rotate, list".into(),
        )),
    }
}

/// `POST /snapshot` (ours): a snapshot of this node's store, taken while it serves, written
/// to `<data dir>/snapshots/<time>.tar.gz` (see `engram_store::snapshot`). Loopback only:
/// it reads every memory, private ones included, into a file on the node's disk.
pub(crate) async fn snapshot(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
) -> Result<axum::Json<engram_wire::SnapshotResponse>, ApiError> {
    loopback_only(&peer)?;
    let engine = state.engine.clone();
    let dir = engine.data_dir().join("snapshots");
    let answer = tokio::task::spawn_blocking(move || {
        std::fs::create_dir_all(&dir).map_err(|source| engram_store::StoreError::Io {
            context: "creating",
            path: dir.clone(),
            source,
        })?;
        let path = dir.join(format!("{}.tar.gz", engram_os::now_ms()));
        let m = engine.store().snapshot(&path)?;
        let bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        Ok::<_, engram_store::StoreError>(engram_wire::SnapshotResponse {
            path: path.display().to_string(),
            created_ms: m.created_ms,
            count: m.count,
            root_v1: m.root_v1,
            root_v2: m.root_v2,
            files: m.files.len(),
            bytes,
        })
    })
    .await?
    .map_err(engram_engine::EngineError::from)?;
    Ok(axum::Json(answer))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_as_python_reads_them() {
        for ok in ["acme", "_x", "docs_2", "café"] {
            assert!(is_identifier(ok), "{ok}");
        }
        for bad in ["", "acme-docs", "2x", "a b", "a.b"] {
            assert!(!is_identifier(bad), "{bad}");
        }
    }

    #[test]
    fn activity_counts_and_bounds_cids() {
        let dir = tempfile::tempdir().unwrap();
        let w = WalletStats::open(dir.path()).unwrap();
        for i in 0..(MAX_CIDS + 5) {
            w.ingest("5Alice", &format!("v1::{i}"));
        }
        w.ingest("5Alice", "v1::0x");
        w.query("5Alice");
        w.save().unwrap();
        let back = WalletStats::open(dir.path()).unwrap();
        let all = back.by_hotkey.lock().unwrap();
        let a = &all["5Alice"];
        assert_eq!((a.ingest_count, a.query_count), (MAX_CIDS as u64 + 6, 1));
        assert_eq!(a.cids.len(), MAX_CIDS);
        assert_eq!(a.cids.last().unwrap(), "v1::0x");
    }
}
