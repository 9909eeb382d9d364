//! Paid miner sessions and the payments behind them, kept on disk.
//!
//! Everything the gateway promised lives in one JSON file, replaced atomically after each
//! change (`engram_os::write_atomic`): the sessions, the payment that bought each hour, and
//! every payment authorization already used. A restarted gateway reloads it, so paid time
//! survives a restart and a replayed authorization is refused even before the chain would
//! refuse it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use engram_cloud::eth::Address;
use engram_cloud::tiers::Tier;
use serde::{Deserialize, Serialize};

use crate::GatewayError;

/// Where a session is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    /// Paid; the miner is starting.
    Provisioning,
    /// The miner serves.
    Running,
    /// Its owner stopped it.
    Stopped,
    /// The paid time ran out.
    Expired,
    /// The miner could not be started (the reason is in the session).
    Failed,
}

impl State {
    /// Whether the session still holds a miner (or is getting one).
    pub fn live(self) -> bool {
        matches!(self, State::Provisioning | State::Running)
    }
}

/// The miner a session runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Miner {
    /// Which provisioner runs it (`local`, `akash`).
    pub provider: String,
    /// The miner's own hotkey on the network (SS58).
    pub hotkey: String,
    /// Where it serves.
    pub endpoint: String,
    /// Its process, for the local provisioner.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<u32>,
    /// Its deployment, for Akash.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment: Option<String>,
}

/// One settled payment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payment {
    /// The settlement transaction.
    pub transaction: String,
    /// Who paid.
    pub payer: Address,
    /// How much, in the token's smallest unit (decimal).
    pub amount: String,
    /// The hours it bought.
    pub hours: u32,
    /// When it settled (unix ms).
    pub at_ms: u64,
}

/// A paid miner session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// Random id (32 hex digits).
    pub id: String,
    /// The owner's hotkey (SS58): who may stop it. Its key stays on the owner's device.
    pub hotkey: String,
    /// The miner size.
    pub tier: Tier,
    /// Hours paid in all.
    pub hours: u32,
    /// When it was bought (unix ms).
    pub created_ms: u64,
    /// When the paid time ends (unix ms).
    pub expires_ms: u64,
    /// Where it is in its life.
    pub state: State,
    /// Why it failed or stopped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Its miner, once provisioned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub miner: Option<Miner>,
    /// What paid for it, oldest first.
    pub payments: Vec<Payment>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct File {
    sessions: Vec<Session>,
    /// `payer:nonce` of every authorization settled or in flight.
    used_authorizations: BTreeSet<String>,
}

/// The sessions, in memory and on disk.
#[derive(Debug)]
pub struct Sessions {
    path: PathBuf,
    by_id: BTreeMap<String, Session>,
    used: BTreeSet<String>,
}

/// The key of one authorization: its payer and nonce.
pub fn authorization_key(payer: Address, nonce: &[u8; 32]) -> String {
    format!("{payer}:0x{}", hex::encode(nonce))
}

impl Sessions {
    /// Opens `dir/sessions.json` (empty when absent).
    ///
    /// # Errors
    /// [`GatewayError::Io`], [`GatewayError::Corrupt`].
    pub fn open(dir: &Path) -> Result<Self, GatewayError> {
        std::fs::create_dir_all(dir).map_err(|source| GatewayError::Io {
            what: "creating",
            path: dir.to_path_buf(),
            source,
        })?;
        let path = dir.join("sessions.json");
        let file = match std::fs::read(&path) {
            Ok(bytes) => {
                serde_json::from_slice(&bytes).map_err(|source| GatewayError::Corrupt {
                    path: path.clone(),
                    source,
                })?
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => File::default(),
            Err(source) => {
                return Err(GatewayError::Io {
                    what: "reading",
                    path,
                    source,
                });
            }
        };
        Ok(Sessions {
            path,
            by_id: file
                .sessions
                .into_iter()
                .map(|s| (s.id.clone(), s))
                .collect(),
            used: file.used_authorizations,
        })
    }

    fn save(&self) -> Result<(), GatewayError> {
        let file = File {
            sessions: self.by_id.values().cloned().collect(),
            used_authorizations: self.used.clone(),
        };
        let bytes = serde_json::to_vec_pretty(&file).expect("sessions serialize");
        engram_os::write_atomic(&self.path, &bytes).map_err(|source| GatewayError::Io {
            what: "writing",
            path: self.path.clone(),
            source,
        })
    }

    /// Marks an authorization used; false when it was already (a replay). Saved at once, so
    /// a crash between here and settlement cannot let it be spent twice.
    ///
    /// # Errors
    /// [`GatewayError::Io`].
    pub fn claim_authorization(&mut self, key: String) -> Result<bool, GatewayError> {
        if !self.used.insert(key) {
            return Ok(false);
        }
        self.save()?;
        Ok(true)
    }

    /// Releases an authorization that was not settled (nothing moved), so that it can be
    /// retried.
    ///
    /// # Errors
    /// [`GatewayError::Io`].
    pub fn release_authorization(&mut self, key: &str) -> Result<(), GatewayError> {
        if self.used.remove(key) {
            self.save()?;
        }
        Ok(())
    }

    /// Adds a new session.
    ///
    /// # Errors
    /// [`GatewayError::Io`].
    pub fn insert(&mut self, session: Session) -> Result<(), GatewayError> {
        self.by_id.insert(session.id.clone(), session);
        self.save()
    }

    /// Changes a session with `f` and saves; `None` when there is no such session.
    ///
    /// # Errors
    /// [`GatewayError::Io`].
    pub fn update<T>(
        &mut self,
        id: &str,
        f: impl FnOnce(&mut Session) -> T,
    ) -> Result<Option<T>, GatewayError> {
        let Some(s) = self.by_id.get_mut(id) else {
            return Ok(None);
        };
        let out = f(s);
        self.save()?;
        Ok(Some(out))
    }

    /// The session `id`.
    pub fn get(&self, id: &str) -> Option<&Session> {
        self.by_id.get(id)
    }

    /// Every session, by id.
    pub fn all(&self) -> impl Iterator<Item = &Session> {
        self.by_id.values()
    }

    /// The sessions owned by `hotkey`, newest first.
    pub fn of_hotkey(&self, hotkey: &str) -> Vec<Session> {
        let mut v: Vec<Session> = self
            .by_id
            .values()
            .filter(|s| s.hotkey == hotkey)
            .cloned()
            .collect();
        v.sort_by_key(|s| std::cmp::Reverse(s.created_ms));
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(id: &str, hotkey: &str, created_ms: u64) -> Session {
        Session {
            id: id.into(),
            hotkey: hotkey.into(),
            tier: Tier::Lite,
            hours: 1,
            created_ms,
            expires_ms: created_ms + 3_600_000,
            state: State::Provisioning,
            reason: None,
            miner: None,
            payments: vec![],
        }
    }

    #[test]
    fn sessions_and_used_authorizations_survive_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let payer: Address = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
            .parse()
            .unwrap();
        let key = authorization_key(payer, &[1; 32]);
        {
            let mut s = Sessions::open(dir.path()).unwrap();
            assert!(s.claim_authorization(key.clone()).unwrap());
            assert!(!s.claim_authorization(key.clone()).unwrap(), "a replay");
            assert!(
                s.claim_authorization(authorization_key(payer, &[2; 32]))
                    .unwrap()
            );
            s.release_authorization(&authorization_key(payer, &[2; 32]))
                .unwrap();
            s.insert(session("a", "alice", 1)).unwrap();
            s.insert(session("b", "alice", 2)).unwrap();
            s.insert(session("c", "bob", 3)).unwrap();
            s.update("a", |x| x.state = State::Running)
                .unwrap()
                .unwrap();
            assert!(s.update("zz", |_| ()).unwrap().is_none());
        }
        let mut s = Sessions::open(dir.path()).unwrap();
        assert_eq!(s.get("a").unwrap().state, State::Running);
        let ids: Vec<String> = s.of_hotkey("alice").into_iter().map(|x| x.id).collect();
        assert_eq!(ids, ["b", "a"]);
        assert!(
            !s.claim_authorization(key).unwrap(),
            "still used after reopen"
        );
        assert!(
            s.claim_authorization(authorization_key(payer, &[2; 32]))
                .unwrap(),
            "released"
        );
    }

    #[test]
    fn a_damaged_file_is_an_error_not_an_empty_gateway() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("sessions.json"), b"{not json").unwrap();
        assert!(matches!(
            Sessions::open(dir.path()),
            Err(GatewayError::Corrupt { .. })
        ));
    }
}
