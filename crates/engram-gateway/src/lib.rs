//! The cloud-mining gateway: people without a server buy miner hours, paid per request with
//! x402, and the gateway runs the miners.
//!
//! A phone asks `POST /sessions` for a tier and a number of hours; the gateway answers 402
//! with the price (USDC, EIP-3009); the phone's wallet signs the transfer and repeats the
//! request; the gateway verifies the signature ([`engram_cloud::x402`]), settles it on the
//! chain ([`chain`]) and only then records the session ([`sessions`]) and has a
//! [`provision::Provisioner`] start its miner. The miner stops when the paid time runs out
//! or when the owner, signing with the session's hotkey, deletes the session; a paid
//! top-up extends it. The routes are the original gateway's (`neurons/cloud_gateway.py`).
//!
//! What the gateway trusts and what it does not is in docs/cloud-mining.md.
//!
//! # Layout
//! - this module: [`Settings`] → [`Config`], [`Gateway`] (bind, serve), and the care loop
//!   that keeps sessions what they were paid for (expiry, miner restarts and stops,
//!   settlements in flight);
//! - [`chain`]: JSON-RPC, checking, sending and finding settlements;
//! - `routes`: the HTTP API and the payment flow;
//! - [`sessions`]: the state file (sessions, claims, settlements in flight);
//! - [`provision`]: the [`provision::Provisioner`] trait and local miners;
//!   [`akash`]: miners on Akash.
//!
//! # Example
//! ```
//! use engram_gateway::Settings;
//!
//! let config = Settings {
//!     rpc: Some("http://127.0.0.1:8545".into()),
//!     token: Some("0x5FbDB2315678afecb367f032d93F642f64180aa3".into()),
//!     pay_to: Some("0x70997970C51812dc3A010C7d01b50e0d17dc79C8".into()),
//!     key: Some("0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d".into()),
//!     ..Settings::default()
//! }
//! .config("/var/lib/engram/gateway".into())
//! .unwrap();
//! assert_eq!(config.settler.address().to_string(), "0x70997970C51812dc3A010C7d01b50e0d17dc79C8");
//! // `Gateway::bind(config, provisioner).await?.run_until_signal().await?` serves it.
//! ```

pub mod akash;
pub mod chain;
mod error;
pub mod provision;
mod routes;
pub mod sessions;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use engram_cloud::eth::{Address, Wallet};
use engram_cloud::x402::Token;
use tokio::net::TcpListener;
use tokio::sync::Mutex;

pub use error::GatewayError;

use crate::chain::{Rpc, Settler};
use crate::provision::Provisioner;
use crate::sessions::{Session, Sessions, State};

/// The most hours one payment buys (30 days).
pub const MAX_HOURS: u32 = 720;
/// The most live sessions one payer may have bought.
pub const MAX_LIVE_PER_PAYER: usize = 8;
/// The largest request body.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// The gateway's settings as a TOML file, flags or environment give them, each optional;
/// [`Settings::over`] layers them and [`Settings::config`] checks that nothing required is
/// missing.
#[derive(Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Where to listen [default: 127.0.0.1:8095].
    pub listen: Option<SocketAddr>,
    /// The chain's JSON-RPC endpoint (required).
    pub rpc: Option<String>,
    /// The chain id the endpoint must serve.
    pub chain_id: Option<u64>,
    /// The EIP-3009 token (required).
    pub token: Option<String>,
    /// Its EIP-712 domain name [default: USD Coin].
    pub token_name: Option<String>,
    /// Its EIP-712 domain version [default: 2].
    pub token_version: Option<String>,
    /// Who is paid (required).
    pub pay_to: Option<String>,
    /// A file holding the settlement key (hex); or the key itself in `key`.
    pub key_file: Option<PathBuf>,
    /// The settlement key (hex). Never in a config file that others can read; the CLI takes
    /// it from the environment only.
    #[serde(skip)]
    pub key: Option<String>,
    /// Sessions and miners [default: <data dir>/gateway].
    pub state_dir: Option<PathBuf>,
    /// How long a signed payment stays good for, in seconds [default: 60].
    pub max_timeout_s: Option<u64>,
    /// The URL clients reach the gateway at.
    pub public_url: Option<String>,
    /// How long a paid request waits for its settlement to be mined before answering 202
    /// `settlement_pending`, in seconds (1–600) [default: 60].
    pub settle_wait_s: Option<u64>,
}

impl Settings {
    /// Reads a TOML settings file.
    ///
    /// # Errors
    /// [`GatewayError::Io`], [`GatewayError::Settings`].
    pub fn read(path: &std::path::Path) -> Result<Self, GatewayError> {
        let text = std::fs::read_to_string(path).map_err(|source| GatewayError::Io {
            what: "reading",
            path: path.to_path_buf(),
            source,
        })?;
        toml::from_str(&text).map_err(|source| GatewayError::Settings {
            path: path.to_path_buf(),
            source,
        })
    }

    /// `self` with every field `top` sets replaced by `top`'s.
    pub fn over(self, top: Settings) -> Settings {
        Settings {
            listen: top.listen.or(self.listen),
            rpc: top.rpc.or(self.rpc),
            chain_id: top.chain_id.or(self.chain_id),
            token: top.token.or(self.token),
            token_name: top.token_name.or(self.token_name),
            token_version: top.token_version.or(self.token_version),
            pay_to: top.pay_to.or(self.pay_to),
            key_file: top.key_file.or(self.key_file),
            key: top.key.or(self.key),
            state_dir: top.state_dir.or(self.state_dir),
            max_timeout_s: top.max_timeout_s.or(self.max_timeout_s),
            public_url: top.public_url.or(self.public_url),
            settle_wait_s: top.settle_wait_s.or(self.settle_wait_s),
        }
    }

    /// The configuration, with defaults filled in; `default_state` when no state directory
    /// is set.
    ///
    /// # Errors
    /// [`GatewayError::Missing`] for a required setting, [`GatewayError::Cloud`] for a bad
    /// address or key, [`GatewayError::Io`] for an unreadable key file.
    pub fn config(self, default_state: PathBuf) -> Result<Config, GatewayError> {
        let need = |v: Option<String>, name: &'static str| v.ok_or(GatewayError::Missing(name));
        let key = match (self.key, &self.key_file) {
            (Some(_), Some(_)) => return Err(GatewayError::TwoKeys),
            (Some(k), None) => k,
            (None, Some(path)) => {
                std::fs::read_to_string(path).map_err(|source| GatewayError::Io {
                    what: "reading the key file",
                    path: path.clone(),
                    source,
                })?
            }
            (None, None) => return Err(GatewayError::Missing("key_file")),
        };
        let max_timeout_s = self.max_timeout_s.unwrap_or(60);
        if !(10..=3600).contains(&max_timeout_s) {
            return Err(GatewayError::OutOfRange {
                name: "max_timeout_s",
                range: "10 to 3600 seconds",
            });
        }
        let settle_wait_s = self.settle_wait_s.unwrap_or(60);
        if !(1..=600).contains(&settle_wait_s) {
            return Err(GatewayError::OutOfRange {
                name: "settle_wait_s",
                range: "1 to 600 seconds",
            });
        }
        Ok(Config {
            listen: self
                .listen
                .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8095))),
            rpc_url: need(self.rpc, "rpc")?,
            chain_id: self.chain_id,
            token: need(self.token, "token")?.parse()?,
            token_name: self.token_name.unwrap_or_else(|| "USD Coin".into()),
            token_version: self.token_version.unwrap_or_else(|| "2".into()),
            pay_to: need(self.pay_to, "pay_to")?.parse()?,
            settler: Wallet::from_hex(&key)?,
            state_dir: self.state_dir.unwrap_or(default_state),
            max_timeout_s,
            public_url: self.public_url,
            settle_wait: Duration::from_secs(settle_wait_s),
            network: None,
        })
    }
}

/// How the gateway is paid and where it keeps its state. (No `Debug`: the RPC URL often
/// carries the provider's API key.)
#[derive(Clone)]
pub struct Config {
    /// Where to listen.
    pub listen: SocketAddr,
    /// The chain's JSON-RPC endpoint.
    pub rpc_url: String,
    /// The chain id; `None` takes the endpoint's.
    pub chain_id: Option<u64>,
    /// The EIP-3009 token.
    pub token: Address,
    /// Its EIP-712 domain name.
    pub token_name: String,
    /// Its EIP-712 domain version.
    pub token_version: String,
    /// Who is paid.
    pub pay_to: Address,
    /// The key that submits settlements (pays their gas).
    pub settler: Wallet,
    /// Sessions and payments.
    pub state_dir: PathBuf,
    /// How long a signed payment stays good for, in seconds.
    pub max_timeout_s: u64,
    /// The URL clients reach the gateway at (named in 402s); `None`: `http://<listen>`.
    pub public_url: Option<String>,
    /// How long a paid request waits for its settlement to be mined.
    pub settle_wait: Duration,
    /// The network miners join (a devnet directory), whose registry also gives each
    /// miner's score.
    pub network: Option<PathBuf>,
}

pub(crate) struct App {
    pub(crate) config: Config,
    pub(crate) token: Token,
    pub(crate) settler: Settler,
    pub(crate) sessions: Mutex<Sessions>,
    pub(crate) provisioner: Arc<dyn Provisioner>,
    pub(crate) public_url: String,
    /// Signed requests seen in the last window.
    pub(crate) replay: engram_core::auth::ReplayCache,
    /// Sessions whose miner is being started or stopped (a plain mutex: never held across
    /// an await, so a `Slot` can free its entry when dropped).
    pub(crate) starting: std::sync::Mutex<std::collections::HashSet<String>>,
}

impl App {
    fn starting(&self) -> std::sync::MutexGuard<'_, std::collections::HashSet<String>> {
        self.starting
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// A bound gateway.
pub struct Gateway {
    listener: TcpListener,
    app: Arc<App>,
}

impl Gateway {
    /// Checks the chain, opens the state, restarts the miners of live sessions whose
    /// process is gone, and binds.
    ///
    /// # Errors
    /// [`GatewayError::WrongChain`], RPC failures, state failures, [`GatewayError::Bind`].
    pub async fn bind(
        config: Config,
        provisioner: Arc<dyn Provisioner>,
    ) -> Result<Self, GatewayError> {
        let rpc = Rpc::new(&config.rpc_url);
        let served = rpc.chain_id().await?;
        if let Some(configured) = config.chain_id
            && configured != served
        {
            return Err(GatewayError::WrongChain { served, configured });
        }
        let token = Token {
            chain_id: served,
            address: config.token,
            name: config.token_name.clone(),
            version: config.token_version.clone(),
        };
        let sessions = Sessions::open(&config.state_dir)?;
        let listener =
            TcpListener::bind(config.listen)
                .await
                .map_err(|source| GatewayError::Bind {
                    addr: config.listen,
                    source,
                })?;
        let local = listener.local_addr().map_err(|source| GatewayError::Bind {
            addr: config.listen,
            source,
        })?;
        let public_url = config
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{local}"))
            .trim_end_matches('/')
            .to_string();
        let settler = Settler::new(
            rpc,
            token.clone(),
            config.settler.clone(),
            config.settle_wait,
        );
        settler.check_token().await?;
        let app = Arc::new(App {
            config,
            token,
            settler,
            sessions: Mutex::new(sessions),
            provisioner,
            public_url,
            replay: Default::default(),
            starting: Default::default(),
        });
        Ok(Gateway { listener, app })
    }

    /// Where it listens.
    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("a bound listener")
    }

    /// Serves until SIGINT/SIGTERM. Miners keep running (they are paid for); a restarted
    /// gateway finds them again.
    ///
    /// # Errors
    /// I/O failures of the listener.
    pub async fn run_until_signal(self) -> Result<(), GatewayError> {
        let app = self.app.clone();
        tokio::spawn(care(app.clone()));
        let router = routes::router(app);
        axum::serve(self.listener, router)
            .with_graceful_shutdown(engram_os::shutdown_signal())
            .await
            .map_err(|source| GatewayError::Io {
                what: "serving on",
                path: PathBuf::from("the listener"),
                source,
            })
    }
}

/// How often the care loop looks at sessions and settlements.
const CARE_EVERY: Duration = Duration::from_secs(1);
/// The least time between two attempts to start (or stop) one session's miner.
const RETRY_BACKOFF: Duration = Duration::from_secs(30);
/// How long after its `validBefore` an unmined settlement is given up (it can only revert).
const PENDING_GRACE_S: u64 = 120;
/// The most one look at an in-flight settlement may take.
const RECONCILE_TIMEOUT: Duration = Duration::from_secs(120);

/// Keeps sessions what they were paid for, once a second: ends those whose time is up;
/// starts the miners of live sessions that have none serving (after a gateway restart, a
/// crash, or a start that was interrupted), and stops those of ended sessions that still
/// run (a stop the gateway did not live to finish) — each at most once per
/// [`RETRY_BACKOFF`]; and turns settlements that were in flight into their sessions once
/// mined (or frees their authorization once nothing can come of them). Each piece of work
/// is its own task, so a slow chain or miner holds up nothing else.
async fn care(app: Arc<App>) {
    let mut tried: std::collections::HashMap<String, std::time::Instant> = Default::default();
    let reconciling: Arc<Mutex<std::collections::HashSet<String>>> = Default::default();
    loop {
        let now = engram_os::now_ms();
        let (all, pending) = {
            let sessions = app.sessions.lock().await;
            let all: Vec<Session> = sessions.all().cloned().collect();
            (all, sessions.pending())
        };
        tried.retain(|_, at| at.elapsed() < RETRY_BACKOFF);
        for s in all {
            if s.state.live() && s.expires_ms <= now {
                let app = app.clone();
                tokio::spawn(async move {
                    end(&app, &s.id, State::Expired, "the paid time ran out").await;
                });
                continue;
            }
            let busy = app.starting().contains(&s.id);
            if busy || tried.contains_key(&s.id) {
                continue;
            }
            let alive = s.miner.as_ref().is_some_and(|m| app.provisioner.alive(m));
            if s.state.live() && (!alive || s.state == State::Provisioning) {
                tried.insert(s.id.clone(), std::time::Instant::now());
                tokio::spawn(provision(app.clone(), s.id.clone()));
            } else if !s.state.live() && alive {
                tried.insert(s.id.clone(), std::time::Instant::now());
                let app = app.clone();
                tokio::spawn(async move { stop_miner(&app, &s.id).await });
            }
        }
        for p in pending {
            if !reconciling.lock().await.insert(p.key.clone()) {
                continue;
            }
            let (app, reconciling) = (app.clone(), reconciling.clone());
            tokio::spawn(async move {
                let key = p.key.clone();
                if tokio::time::timeout(RECONCILE_TIMEOUT, reconcile(&app, p))
                    .await
                    .is_err()
                {
                    tracing::warn!(%key, "looking at a settlement timed out; next round");
                }
                reconciling.lock().await.remove(&key);
            });
        }
        tokio::time::sleep(CARE_EVERY).await;
    }
}

/// A settlement that was in flight: its session once mined; forgotten once it cannot be,
/// its authorization freed only when the chain has it unused.
async fn reconcile(app: &Arc<App>, p: sessions::Pending) {
    let version = if p.version == 1 {
        engram_cloud::x402::Version::V1
    } else {
        engram_cloud::x402::Version::V2
    };
    let Some(hash) = p
        .transaction
        .strip_prefix("0x")
        .and_then(|h| hex::decode(h).ok())
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
    else {
        tracing::error!(key = %p.key, "a recorded settlement has no transaction hash");
        return;
    };
    let Some(verified) = routes::decode_verified(version, &p) else {
        return;
    };
    match app.settler.outcome(hash, &verified).await {
        chain::Outcome::Settled => {
            routes::apply(app, &p.key, &p.purchase, p.hours, &verified, hash).await;
            return;
        }
        chain::Outcome::Unknown
            if engram_os::now_ms() / 1000 <= p.valid_before + PENDING_GRACE_S =>
        {
            return; // may still be mined
        }
        _ => {}
    }
    // Reverted, or can no longer be mined: maybe someone else's transaction paid us.
    match app.settler.find_settlement(&verified).await {
        Ok(Some(other)) => {
            routes::apply(app, &p.key, &p.purchase, p.hours, &verified, other).await;
        }
        Ok(None) => {
            let Ok(used) = app.settler.used(&verified).await else {
                return; // ask again next round
            };
            if used {
                tracing::error!(key = %p.key, transaction = %p.transaction, "authorization used on the chain without a transfer to us (cancelled?)");
            } else {
                tracing::warn!(transaction = %p.transaction, "settlement failed; the authorization is free again");
            }
            let dropped = app
                .sessions
                .lock()
                .await
                .drop_pending(&p.key, &p.transaction, !used);
            if let Err(e) = dropped {
                tracing::error!(error = %e, "dropping a failed settlement");
            }
        }
        Err(e) => tracing::warn!(error = %e, "looking for a settlement; next round"),
    }
}

/// Holds a session's slot in `App::starting` (one start or stop of its miner at a time)
/// and frees it however the holder ends, a panic included.
struct Slot<'a> {
    app: &'a App,
    id: String,
}

impl<'a> Slot<'a> {
    fn take(app: &'a App, id: &str) -> Option<Slot<'a>> {
        app.starting().insert(id.to_string()).then(|| Slot {
            app,
            id: id.to_string(),
        })
    }
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        self.app.starting().remove(&self.id);
    }
}

/// Starts the miner of session `id` (saved as soon as it exists) and marks the session
/// running once it serves. A session that ended meanwhile gets its miner stopped.
pub(crate) async fn provision(app: Arc<App>, id: String) {
    let Some(_slot) = Slot::take(&app, &id) else {
        return; // its miner is being started or stopped
    };
    provision_once(&app, &id).await;
}

async fn provision_once(app: &App, id: &str) {
    let Some(session) = app.sessions.lock().await.get(id).cloned() else {
        return;
    };
    if !session.state.live() {
        return;
    }
    let miner = match session.miner.clone().filter(|m| app.provisioner.alive(m)) {
        Some(m) => m, // started before a gateway restart: wait for it again
        None => match app.provisioner.start(&session).await {
            Ok(m) => m,
            Err(e) => return fail(app, id, None, &e).await,
        },
    };
    let recorded = app.sessions.lock().await.update(id, |s| {
        let live = s.state.live();
        if live {
            // Starting (again): not running until it serves.
            s.state = State::Provisioning;
            s.miner = Some(miner.clone());
        }
        live
    });
    if !matches!(recorded, Ok(Some(true))) {
        let _ = app.provisioner.stop(&miner).await;
        return;
    }
    let serving = match app.provisioner.ready(&miner).await {
        Ok(m) => m,
        Err(e) => return fail(app, id, Some(&miner), &e).await,
    };
    let marked = app.sessions.lock().await.update(id, |s| {
        if s.state.live() && s.miner.as_ref() == Some(&miner) {
            s.state = State::Running;
            s.served = true;
            s.miner = Some(serving);
        }
    });
    if let Err(e) = marked {
        tracing::error!(session = %id, error = %e, "session state not saved");
    }
}

/// A miner that could not start: stopped, and the session failed — unless it ended
/// meanwhile, or it had served before (then it is started again while paid time remains).
/// The public reason is short; the detail (paths, ports, log lines) goes to the log.
async fn fail(app: &App, id: &str, miner: Option<&sessions::Miner>, e: &GatewayError) {
    tracing::warn!(session = %id, error = %e, "miner did not start");
    if let Some(m) = miner
        && let Err(e) = app.provisioner.stop(m).await
    {
        tracing::warn!(session = %id, error = %e, "stopping a miner that did not start");
    }
    let saved = app.sessions.lock().await.update(id, |s| {
        if !s.state.live() {
            return;
        }
        if s.served {
            s.reason = Some("the miner is being started again".into());
        } else {
            s.state = State::Failed;
            s.reason = Some(
                "the miner could not be started; the gateway's operator has the details".into(),
            );
        }
    });
    if let Err(e) = saved {
        tracing::error!(session = %id, error = %e, "session state not saved");
    }
}

/// Ends a live session (`Expired` only while it is still due: a top-up may just have
/// extended it), stops its miner, and returns the session; `None` when there is no such
/// session or it was not live.
pub(crate) async fn end(app: &App, id: &str, state: State, reason: &str) -> Option<Session> {
    let ended = {
        let mut sessions = app.sessions.lock().await;
        let now = engram_os::now_ms();
        sessions.update(id, |s| {
            let due = state != State::Expired || s.expires_ms <= now;
            if !(s.state.live() && due) {
                return false;
            }
            s.state = state;
            s.reason = Some(reason.to_string());
            true
        })
    };
    match ended {
        Ok(Some(true)) => {}
        Ok(_) => return None,
        Err(e) => {
            tracing::error!(session = %id, error = %e, "session state not saved");
            return None;
        }
    }
    stop_miner(app, id).await;
    app.sessions.lock().await.get(id).cloned()
}

/// Stops the miner of an ended session and notes it stopped (its pid or deployment
/// cleared, so nothing signals or closes it again). A start in progress sees the session
/// ended and stops the miner itself.
async fn stop_miner(app: &App, id: &str) {
    let Some(_slot) = Slot::take(app, id) else {
        return;
    };
    let miner = app
        .sessions
        .lock()
        .await
        .get(id)
        .and_then(|s| s.miner.clone());
    let Some(m) = miner else {
        return;
    };
    if let Err(e) = app.provisioner.stop(&m).await {
        tracing::warn!(session = %id, error = %e, "miner did not stop; retried later");
        return;
    }
    let noted = app.sessions.lock().await.update(id, |s| {
        if !s.state.live()
            && let Some(sm) = s.miner.as_mut()
            && *sm == m
        {
            sm.pid = None;
            sm.deployment = None;
        }
    });
    if let Err(e) = noted {
        tracing::error!(session = %id, error = %e, "session state not saved");
    }
}

/// Each registered miner's standing on the network, by hotkey: uid, stake-weighted weight
/// from the validators, and the last epoch's incentive and emission. Empty off a network or
/// when the registry cannot be read (the sessions are still worth showing).
pub(crate) async fn standings(app: &App) -> std::collections::HashMap<String, serde_json::Value> {
    let Some(dir) = app.config.network.clone() else {
        return Default::default();
    };
    let read = tokio::task::spawn_blocking(move || {
        use engram_chain::Chain as _;
        engram_chain::Devnet::open(&dir).metagraph()
    })
    .await;
    let Ok(Ok(graph)) = read else {
        return Default::default();
    };
    let last = graph.last_epoch();
    graph
        .neurons
        .iter()
        .map(|n| {
            let uid = usize::from(n.uid);
            let incentive = last.and_then(|e| e.outcome.incentive.get(uid).copied());
            let earned = last.and_then(|e| e.outcome.earned(uid));
            (
                n.hotkey.clone(),
                serde_json::json!({
                    "uid": n.uid,
                    "stake": n.stake,
                    "weight": graph.mean_weight(n.uid),
                    "incentive": incentive,
                    "earned": earned,
                }),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

    fn settings() -> Settings {
        Settings {
            rpc: Some("http://127.0.0.1:8545".into()),
            token: Some("0x5FbDB2315678afecb367f032d93F642f64180aa3".into()),
            pay_to: Some("0x70997970C51812dc3A010C7d01b50e0d17dc79C8".into()),
            key: Some(KEY.into()),
            ..Settings::default()
        }
    }

    #[test]
    fn the_example_file_is_every_setting_and_parses() {
        let text = include_str!("../../../gateway.example.toml");
        let file: Settings = toml::from_str(text).expect("the example parses");
        assert_eq!(file.chain_id, Some(8453));
        assert_eq!(file.token_name.as_deref(), Some("USD Coin"));
        assert!(file.key_file.is_some() && file.state_dir.is_some() && file.public_url.is_some());
        let config = file
            .over(Settings {
                key: Some(KEY.into()),
                key_file: None,
                ..Settings::default()
            })
            .config(PathBuf::from("/unused"));
        // The file names a key file; a key in the environment too is one key too many.
        assert!(matches!(config, Err(GatewayError::TwoKeys)));
        assert!(
            toml::from_str::<Settings>("rpcc = \"x\"").is_err(),
            "unknown keys are errors"
        );
    }

    #[test]
    fn settings_layer_and_refuse_what_is_missing_or_out_of_range() {
        let c = settings().config(PathBuf::from("/state")).unwrap();
        assert_eq!((c.max_timeout_s, c.token_version.as_str()), (60, "2"));
        assert_eq!(c.listen, SocketAddr::from(([127, 0, 0, 1], 8095)));
        let top = Settings {
            max_timeout_s: Some(120),
            ..Settings::default()
        };
        assert_eq!(
            settings()
                .over(top)
                .config(PathBuf::new())
                .unwrap()
                .max_timeout_s,
            120
        );
        for (s, ok) in [(9, false), (10, true), (3600, true), (3601, false)] {
            let got = Settings {
                max_timeout_s: Some(s),
                ..settings()
            }
            .config(PathBuf::new());
            assert_eq!(got.is_ok(), ok, "{s} s");
        }
        let missing = |f: fn(&mut Settings)| {
            let mut s = settings();
            f(&mut s);
            s.config(PathBuf::new()).err()
        };
        assert!(matches!(
            missing(|s| s.rpc = None),
            Some(GatewayError::Missing("rpc"))
        ));
        assert!(matches!(
            missing(|s| s.key = None),
            Some(GatewayError::Missing("key_file"))
        ));
        assert!(matches!(
            missing(|s| s.pay_to = Some("0x1234".into())),
            Some(GatewayError::Cloud(_))
        ));
        assert!(matches!(
            missing(|s| s.key = Some("0x00".into())),
            Some(GatewayError::Cloud(_))
        ));
    }
}
