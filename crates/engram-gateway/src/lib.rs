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
/// The most live sessions one hotkey may hold.
pub const MAX_LIVE_PER_HOTKEY: usize = 8;
/// The largest request body.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// The gateway's settings as a TOML file, flags or environment give them, each optional;
/// [`Settings::over`] layers them and [`Settings::config`] checks that nothing required is
/// missing.
#[derive(Debug, Clone, Default, serde::Deserialize)]
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
            (Some(k), _) => k,
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
            network: None,
        })
    }
}

/// How the gateway is paid and where it keeps its state.
#[derive(Debug, Clone)]
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
    /// `hotkey:nonce` of signed requests seen in the last window.
    pub(crate) seen_requests: Mutex<std::collections::HashMap<String, u64>>,
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
        let settler = Settler::new(rpc, token.clone(), config.settler.clone());
        let app = Arc::new(App {
            config,
            token,
            settler,
            sessions: Mutex::new(sessions),
            provisioner,
            public_url,
            seen_requests: Mutex::new(Default::default()),
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
        tokio::spawn(resume(app.clone()));
        tokio::spawn(expire_loop(app.clone()));
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

/// After a restart: live sessions whose miner is gone get it back (same data, same
/// hotkey); ones whose time ran out while the gateway was down expire.
async fn resume(app: Arc<App>) {
    let live: Vec<Session> = app
        .sessions
        .lock()
        .await
        .all()
        .filter(|s| s.state.live())
        .cloned()
        .collect();
    for s in live {
        let running = s.miner.as_ref().is_some_and(|m| app.provisioner.alive(m));
        if !running && s.expires_ms > engram_os::now_ms() {
            tokio::spawn(provision(app.clone(), s.id.clone()));
        }
    }
}

/// Starts the miner of session `id` and records the outcome.
pub(crate) async fn provision(app: Arc<App>, id: String) {
    let Some(session) = app.sessions.lock().await.get(&id).cloned() else {
        return;
    };
    let outcome = app.provisioner.start(&session).await;
    let mut sessions = app.sessions.lock().await;
    let stale = match &outcome {
        Ok(miner) => {
            let miner = miner.clone();
            sessions.update(&id, |s| {
                if s.state.live() {
                    s.state = State::Running;
                    s.miner = Some(miner);
                    false
                } else {
                    true // stopped while it started
                }
            })
        }
        Err(e) => {
            tracing::warn!(session = %id, error = %e, "miner did not start");
            let reason = e.to_string();
            sessions.update(&id, |s| {
                s.state = State::Failed;
                s.reason = Some(reason);
                false
            })
        }
    };
    drop(sessions);
    match (stale, outcome) {
        (Ok(Some(true)), Ok(miner)) => {
            let _ = app.provisioner.stop(&miner).await;
        }
        (Err(e), _) => tracing::error!(session = %id, error = %e, "session state not saved"),
        _ => {}
    }
}

/// Ends sessions whose paid time is over, once a second.
async fn expire_loop(app: Arc<App>) {
    loop {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let now = engram_os::now_ms();
        let due: Vec<Session> = app
            .sessions
            .lock()
            .await
            .all()
            .filter(|s| s.state.live() && s.expires_ms <= now)
            .cloned()
            .collect();
        for s in due {
            end(&app, &s.id, State::Expired, "the paid time ran out").await;
        }
    }
}

/// Stops a session's miner and records why.
pub(crate) async fn end(app: &App, id: &str, state: State, reason: &str) -> Option<Session> {
    let miner = {
        let mut sessions = app.sessions.lock().await;
        let updated = sessions.update(id, |s| {
            s.state = state;
            s.reason = Some(reason.to_string());
            s.miner.clone()
        });
        match updated {
            Ok(Some(m)) => m,
            Ok(None) => return None,
            Err(e) => {
                tracing::error!(session = %id, error = %e, "session state not saved");
                None
            }
        }
    };
    if let Some(m) = miner
        && let Err(e) = app.provisioner.stop(&m).await
    {
        tracing::warn!(session = %id, error = %e, "miner did not stop");
    }
    app.sessions.lock().await.get(id).cloned()
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
