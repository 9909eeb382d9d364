//! Paid miner sessions and the payments behind them, kept on disk.
//!
//! Everything the gateway promised lives in one JSON file, replaced atomically after each
//! change (`engram_os::write_atomic`): the sessions, the payment that bought each hour, every
//! payment authorization claimed (until it expires: then the token refuses it anyway), and
//! the settlements sent but not yet seen mined, with what each pays for. A restarted gateway
//! reloads it, so paid time survives a restart, a replayed authorization is refused even
//! before the chain would refuse it, and a payment whose settlement was in flight when the
//! process died still becomes its session. A change reaches memory only once it is on disk.
//! One gateway at a time: the directory is locked.

use std::collections::BTreeMap;
use std::fs::File;
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
    /// Its directory (data, wallet, log), for the local provisioner; also how its process is
    /// told from another that got the same pid later.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dir: Option<PathBuf>,
    /// Its deployment, for Akash.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment: Option<String>,
}

/// One settled payment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payment {
    /// The authorization it used ([`authorization_key`]): what makes it count once.
    pub authorization: String,
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
    /// Whether its miner has served once: a miner that fails to start again after that is
    /// retried while paid time remains, not given up.
    #[serde(default)]
    pub served: bool,
    /// What paid for it, oldest first.
    pub payments: Vec<Payment>,
}

/// What a payment buys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase", tag = "kind")]
pub enum Purchase {
    /// A new session.
    Create {
        /// Its id, chosen before paying.
        id: String,
        /// Its owner.
        hotkey: String,
        /// Its size.
        tier: Tier,
    },
    /// More hours for a session.
    Topup {
        /// The session.
        id: String,
    },
}

impl Purchase {
    /// The session it is for.
    pub fn id(&self) -> &str {
        match self {
            Purchase::Create { id, .. } | Purchase::Topup { id } => id,
        }
    }
}

/// A settlement sent and not yet seen mined.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pending {
    /// The authorization's key ([`authorization_key`]).
    pub key: String,
    /// The payment header as received (base64), to check the chain again after a restart.
    pub header: String,
    /// Its wire generation: 1 or 2.
    pub version: u8,
    /// What it pays for.
    pub purchase: Purchase,
    /// Hours bought.
    pub hours: u32,
    /// The transaction sent.
    pub transaction: String,
    /// The authorization's `validBefore` (unix s): after it, an unmined transfer can only
    /// revert.
    pub valid_before: u64,
}

#[derive(Debug, Default, Clone, Serialize, Deserialize)]
struct Saved {
    sessions: BTreeMap<String, Session>,
    /// `payer:nonce` of every authorization claimed, with its `validBefore` (unix s).
    claimed: BTreeMap<String, u64>,
    /// Settlements in flight, by authorization key.
    pending: BTreeMap<String, Pending>,
}

/// How long a claim is kept after its authorization expired (the chain refuses it by
/// then; the margin covers clock skew between the gateway and the chain).
const CLAIM_MARGIN_S: u64 = 3_600;

/// The sessions, in memory and on disk.
#[derive(Debug)]
pub struct Sessions {
    path: PathBuf,
    state: Saved,
    _lock: File,
}

/// The key of one authorization: its payer and nonce.
pub fn authorization_key(payer: Address, nonce: &[u8; 32]) -> String {
    format!("{payer}:0x{}", hex::encode(nonce))
}

impl Sessions {
    /// Opens `dir/sessions.json` (empty when absent), locking `dir` for this process.
    ///
    /// # Errors
    /// [`GatewayError::Locked`], [`GatewayError::Io`], [`GatewayError::Corrupt`].
    pub fn open(dir: &Path) -> Result<Self, GatewayError> {
        let io = |what: &'static str, path: &Path| {
            let path = path.to_path_buf();
            move |source| GatewayError::Io { what, path, source }
        };
        std::fs::create_dir_all(dir).map_err(io("creating", dir))?;
        let lock_path = dir.join("LOCK");
        let lock = File::create(&lock_path).map_err(io("creating", &lock_path))?;
        if lock.try_lock().is_err() {
            return Err(GatewayError::Locked {
                dir: dir.to_path_buf(),
            });
        }
        let path = dir.join("sessions.json");
        let state = match std::fs::read(&path) {
            Ok(bytes) => {
                serde_json::from_slice(&bytes).map_err(|source| GatewayError::Corrupt {
                    path: path.clone(),
                    source,
                })?
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Saved::default(),
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
            state,
            _lock: lock,
        })
    }

    /// Applies `change` to a copy of the state, writes the copy, and only then keeps it: a
    /// failed write changes nothing.
    fn commit<T>(&mut self, change: impl FnOnce(&mut Saved) -> T) -> Result<T, GatewayError> {
        let mut next = self.state.clone();
        let out = change(&mut next);
        let now_s = engram_os::now_ms() / 1000;
        let pending = &next.pending;
        next.claimed.retain(|key, valid_before| {
            pending.contains_key(key) || valid_before.saturating_add(CLAIM_MARGIN_S) > now_s
        });
        let bytes = serde_json::to_vec_pretty(&next).expect("sessions serialize");
        engram_os::write_atomic(&self.path, &bytes).map_err(|source| GatewayError::Io {
            what: "writing",
            path: self.path.clone(),
            source,
        })?;
        self.state = next;
        Ok(out)
    }

    /// Claims an authorization (valid until `valid_before`, unix s); false when it was
    /// claimed already (a replay). Saved at once, so a crash cannot let it be spent twice.
    ///
    /// # Errors
    /// [`GatewayError::Io`].
    pub fn claim_authorization(
        &mut self,
        key: &str,
        valid_before: u64,
    ) -> Result<bool, GatewayError> {
        if self.state.claimed.contains_key(key) {
            return Ok(false);
        }
        self.commit(|s| s.claimed.insert(key.to_string(), valid_before))?;
        Ok(true)
    }

    /// Releases a claimed authorization that moved nothing, so that it can be retried.
    ///
    /// # Errors
    /// [`GatewayError::Io`].
    pub fn release_authorization(&mut self, key: &str) -> Result<(), GatewayError> {
        if self.state.claimed.contains_key(key) || self.state.pending.contains_key(key) {
            self.commit(|s| {
                s.claimed.remove(key);
                s.pending.remove(key);
            })?;
        }
        Ok(())
    }

    /// Forgets the in-flight settlement `transaction` of `key` — only that one: the same
    /// authorization may be in flight again in another transaction by now — and releases the
    /// claim with it when `release` (nothing moved on the chain).
    ///
    /// # Errors
    /// [`GatewayError::Io`].
    pub fn drop_pending(
        &mut self,
        key: &str,
        transaction: &str,
        release: bool,
    ) -> Result<(), GatewayError> {
        if self
            .state
            .pending
            .get(key)
            .is_none_or(|p| p.transaction != transaction)
        {
            return Ok(());
        }
        self.commit(|s| {
            s.pending.remove(key);
            if release {
                s.claimed.remove(key);
            }
        })
    }

    /// The in-flight settlement of `key`, if any.
    pub fn pending_of(&self, key: &str) -> Option<&Pending> {
        self.state.pending.get(key)
    }

    /// Records a settlement about to be sent.
    ///
    /// # Errors
    /// [`GatewayError::Io`].
    pub fn add_pending(&mut self, pending: Pending) -> Result<(), GatewayError> {
        self.commit(|s| s.pending.insert(pending.key.clone(), pending))?;
        Ok(())
    }

    /// The settlements in flight.
    pub fn pending(&self) -> Vec<Pending> {
        self.state.pending.values().cloned().collect()
    }

    /// Turns the in-flight settlement `key`, now mined in `payment`, into what it bought:
    /// a new session, or hours added to one (`now_ms` from the caller). `None` when it was
    /// applied already (by a concurrent caller) or never recorded; else the session and
    /// whether its miner must be (re)started.
    ///
    /// # Errors
    /// [`GatewayError::Io`].
    pub fn settle(
        &mut self,
        key: &str,
        purchase: &Purchase,
        hours: u32,
        mut payment: Payment,
        now_ms: u64,
    ) -> Result<Option<(Session, bool)>, GatewayError> {
        payment.authorization = key.to_string();
        // An authorization pays once: a second caller (the care loop and the request that
        // sent it, say) finds it applied. (Not the transaction: one transaction may carry
        // several authorizations.)
        let applied = self
            .state
            .sessions
            .values()
            .any(|s| s.payments.iter().any(|p| p.authorization == key));
        if applied {
            if self.state.pending.contains_key(key) {
                self.commit(|s| s.pending.remove(key))?;
            }
            return Ok(None);
        }
        if let Purchase::Create { id, .. } = purchase
            && self.state.sessions.contains_key(id)
        {
            return Ok(None); // ids are random: never overwrite one
        }
        let extra_ms = u64::from(hours) * HOUR_MS;
        self.commit(|s| {
            s.pending.remove(key);
            match purchase {
                Purchase::Create { id, hotkey, tier } => {
                    let session = Session {
                        id: id.clone(),
                        hotkey: hotkey.clone(),
                        tier: *tier,
                        hours,
                        created_ms: now_ms,
                        expires_ms: now_ms + extra_ms,
                        state: State::Provisioning,
                        reason: None,
                        miner: None,
                        served: false,
                        payments: vec![payment],
                    };
                    s.sessions.insert(id.clone(), session.clone());
                    Some((session, true))
                }
                Purchase::Topup { id } => {
                    let session = s.sessions.get_mut(id)?;
                    session.hours += hours;
                    session.payments.push(payment);
                    // Paid while it was ending: it comes back for the hours bought.
                    let revive = !session.state.live();
                    if revive {
                        session.state = State::Provisioning;
                        session.reason = None;
                        session.expires_ms = now_ms + extra_ms;
                        // The old miner is being stopped by whoever ended the session; a new
                        // one starts once that is done.
                        session.miner = None;
                    } else {
                        session.expires_ms = session.expires_ms.max(now_ms) + extra_ms;
                    }
                    Some((session.clone(), revive))
                }
            }
        })
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
        if !self.state.sessions.contains_key(id) {
            return Ok(None);
        }
        self.commit(|s| s.sessions.get_mut(id).map(f))
    }

    /// The session `id`.
    pub fn get(&self, id: &str) -> Option<&Session> {
        self.state.sessions.get(id)
    }

    /// Every session, by id.
    pub fn all(&self) -> impl Iterator<Item = &Session> {
        self.state.sessions.values()
    }

    /// The sessions owned by `hotkey`, newest first.
    pub fn of_hotkey(&self, hotkey: &str) -> Vec<Session> {
        let mut v: Vec<Session> = self
            .state
            .sessions
            .values()
            .filter(|s| s.hotkey == hotkey)
            .cloned()
            .collect();
        v.sort_by_key(|s| std::cmp::Reverse(s.created_ms));
        v
    }

    /// How many live sessions `payer` paid for first.
    pub fn live_paid_by(&self, payer: Address) -> usize {
        self.state
            .sessions
            .values()
            .filter(|s| s.state.live() && s.payments.first().is_some_and(|p| p.payer == payer))
            .count()
    }
}

const HOUR_MS: u64 = 3_600_000;

#[cfg(test)]
mod tests {
    use super::*;

    fn payer() -> Address {
        "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
            .parse()
            .unwrap()
    }

    fn payment(tx: &str) -> Payment {
        Payment {
            authorization: String::new(), // set by `settle`
            transaction: tx.into(),
            payer: payer(),
            amount: "50000".into(),
            hours: 1,
            at_ms: 1,
        }
    }

    fn create(id: &str, hotkey: &str) -> Purchase {
        Purchase::Create {
            id: id.into(),
            hotkey: hotkey.into(),
            tier: Tier::Lite,
        }
    }

    #[test]
    fn claims_settlements_and_sessions_survive_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let far = engram_os::now_ms() / 1000 + 600;
        let key = authorization_key(payer(), &[1; 32]);
        {
            let mut s = Sessions::open(dir.path()).unwrap();
            assert!(s.claim_authorization(&key, far).unwrap());
            assert!(!s.claim_authorization(&key, far).unwrap(), "a replay");
            let other = authorization_key(payer(), &[2; 32]);
            assert!(s.claim_authorization(&other, far).unwrap());
            s.release_authorization(&other).unwrap();
            assert!(
                s.claim_authorization(&other, far).unwrap(),
                "released, so free again"
            );
            s.add_pending(Pending {
                key: key.clone(),
                header: "h".into(),
                version: 2,
                purchase: create("a", "alice"),
                hours: 1,
                transaction: "0x01".into(),
                valid_before: far,
            })
            .unwrap();
        }
        let mut s = Sessions::open(dir.path()).unwrap();
        assert_eq!(s.pending().len(), 1, "in flight across a restart");
        assert!(
            !s.claim_authorization(&key, far).unwrap(),
            "still claimed after reopen"
        );
        let (a, start) = s
            .settle(&key, &create("a", "alice"), 1, payment("0x01"), 1000)
            .unwrap()
            .unwrap();
        assert!(start && a.state == State::Provisioning && a.expires_ms == 1000 + HOUR_MS);
        assert!(s.pending().is_empty());
        assert!(
            s.settle(&key, &create("a", "alice"), 1, payment("0x01"), 2000)
                .unwrap()
                .is_none(),
            "a transaction pays once"
        );
        // A top-up extends a live session from its end, and revives an ended one from now.
        let topup = Purchase::Topup { id: "a".into() };
        let (a, restart) = s
            .settle("k2", &topup, 2, payment("0x02"), 5000)
            .unwrap()
            .unwrap();
        assert!(!restart && a.expires_ms == 1000 + 3 * HOUR_MS && a.hours == 3);
        s.update("a", |x| x.state = State::Expired)
            .unwrap()
            .unwrap();
        let late = 10 * HOUR_MS;
        let (a, restart) = s
            .settle("k3", &topup, 1, payment("0x03"), late)
            .unwrap()
            .unwrap();
        assert!(restart && a.state == State::Provisioning && a.expires_ms == late + HOUR_MS);
        assert_eq!(a.payments.len(), 3);
        assert!(s.update("zz", |_| ()).unwrap().is_none());
        assert_eq!(s.live_paid_by(payer()), 1);
        assert_eq!(s.of_hotkey("alice").len(), 1);
    }

    #[test]
    fn expired_claims_are_forgotten_and_one_gateway_holds_the_directory() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Sessions::open(dir.path()).unwrap();
        let old = authorization_key(payer(), &[3; 32]);
        s.claim_authorization(&old, 1).unwrap();
        s.claim_authorization(&authorization_key(payer(), &[4; 32]), u64::MAX / 2)
            .unwrap();
        assert!(
            s.claim_authorization(&old, 1).unwrap(),
            "expired long ago: the token refuses it anyway"
        );
        assert!(matches!(
            Sessions::open(dir.path()),
            Err(GatewayError::Locked { .. })
        ));
        drop(s);
        Sessions::open(dir.path()).unwrap();
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
