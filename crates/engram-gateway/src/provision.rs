//! Who runs a paid session's miner.
//!
//! The gateway sells hours; a [`Provisioner`] turns them into a serving miner and takes it
//! away again. [`Local`] starts a real `engram serve` process on this machine (what the
//! tests use, and what an operator with spare servers can sell); [`crate::akash::Akash`]
//! deploys the manifest of `engram_cloud::sdl` through Akash's Console API (built to that
//! API, not run against it: Akash is not reachable from the machines this project is built
//! on, and docs/cloud-mining.md says so).
//!
//! Every miner gets its own hotkey, made for the session and registered on the network by
//! the miner itself. The session's owner hotkey is not the miner's: its key stays on the
//! owner's phone (it signs the stop request), and the miner could not sign for it anyway.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use engram_chain::Wallet;
use futures_util::future::BoxFuture;

use crate::GatewayError;
use crate::sessions::{Miner, Session};

/// How long a miner may take to answer `/health` after it starts.
const START_TIMEOUT: Duration = Duration::from_secs(90);
/// How long a stopped miner gets between SIGTERM and SIGKILL.
const STOP_TIMEOUT: Duration = Duration::from_secs(15);

/// Starts and stops the miners of paid sessions.
///
/// Starting is two steps so that a miner is on record from the moment it exists: [`start`]
/// returns as soon as something was started (a process, a deployment; the gateway saves it),
/// [`ready`] waits until it serves and returns it with where it serves. A stop or a restart
/// in between then finds it and never leaves it orphaned.
///
/// [`start`]: Provisioner::start
/// [`ready`]: Provisioner::ready
pub trait Provisioner: Send + Sync {
    /// Its name in session records (`local`, `akash`).
    fn name(&self) -> &'static str;

    /// Starts the miner of `session` (again, after a restart: same data, same hotkey).
    fn start<'a>(&'a self, session: &'a Session) -> BoxFuture<'a, Result<Miner, GatewayError>>;

    /// Waits until `miner` serves; the miner as it serves (its endpoint may be known only
    /// now). One that does not become ready is left running for the caller to stop.
    fn ready<'a>(&'a self, miner: &'a Miner) -> BoxFuture<'a, Result<Miner, GatewayError>>;

    /// Stops `miner` and waits until it has.
    fn stop<'a>(&'a self, miner: &'a Miner) -> BoxFuture<'a, Result<(), GatewayError>>;

    /// Whether `miner` still runs.
    fn alive(&self, miner: &Miner) -> bool;
}

/// Runs each miner as an `engram serve` process on this machine, in
/// `<root>/<session id>/` (its data directory, wallet and log).
#[derive(Debug)]
pub struct Local {
    exe: PathBuf,
    root: PathBuf,
    network: Option<PathBuf>,
    model_dir: Option<PathBuf>,
    children: Mutex<HashMap<u32, Child>>,
}

impl Local {
    /// Miners run `exe` (the `engram` binary) under `root`; with `network`, they register
    /// and serve on the network whose registry is in that directory.
    pub fn new(
        exe: PathBuf,
        root: PathBuf,
        network: Option<PathBuf>,
        model_dir: Option<PathBuf>,
    ) -> Self {
        Local {
            exe,
            root,
            network,
            model_dir,
            children: Mutex::new(HashMap::new()),
        }
    }

    fn wallet(dir: &Path) -> Result<Wallet, GatewayError> {
        if let Ok(w) = Wallet::load(dir, "miner") {
            return Ok(w);
        }
        let mut entropy = [0u8; 16];
        getrandom::getrandom(&mut entropy).map_err(GatewayError::Randomness)?;
        Ok(Wallet::create(dir, "miner", &entropy)?)
    }

    fn spawn(&self, session: &Session) -> Result<(Child, Miner), GatewayError> {
        let dir = self.root.join(&session.id);
        let io = |what: &'static str, path: &Path| {
            let path = path.to_path_buf();
            move |source| GatewayError::Io { what, path, source }
        };
        std::fs::create_dir_all(&dir).map_err(io("creating", &dir))?;
        let wallets = dir.join("wallets");
        let wallet = Self::wallet(&wallets)?;
        // The miner binds a port of its own and writes which: no free-port race with the
        // other processes on this machine. Its endpoint is known once `ready`.
        let addr_file = dir.join("miner.addr");
        match std::fs::remove_file(&addr_file) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io("removing", &addr_file)(e)),
        }
        let log_path = dir.join("miner.log");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .map_err(io("opening", &log_path))?;
        let log2 = log.try_clone().map_err(io("duplicating", &log_path))?;
        let mut cmd = Command::new(&self.exe);
        cmd.arg("--data-dir").arg(dir.join("data"));
        cmd.arg("--wallet-dir").arg(&wallets);
        if let Some(m) = &self.model_dir {
            cmd.arg("--model-dir").arg(m);
        }
        if let Some(n) = &self.network {
            cmd.arg("--network").arg(n);
        }
        cmd.args(["serve", "--listen", "127.0.0.1:0", "--addr-file"]);
        cmd.arg(&addr_file);
        if self.network.is_some() {
            cmd.args(["--wallet", "miner"]);
        }
        // The gateway's own settings (its settlement key above all) are not the miner's.
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("ENGRAM_GATEWAY_") {
                cmd.env_remove(name);
            }
        }
        cmd.stdin(Stdio::null()).stdout(log).stderr(log2);
        #[cfg(unix)]
        {
            use std::os::unix::process::CommandExt;
            // Its own process group: a Ctrl-C at the gateway's terminal does not reach it,
            // so miners outlive a gateway restart.
            cmd.process_group(0);
        }
        let child = cmd.spawn().map_err(io("starting", &self.exe))?;
        let miner = Miner {
            provider: self.name().into(),
            hotkey: wallet.key.ss58(),
            endpoint: String::new(),
            pid: Some(child.id()),
            dir: Some(dir),
            deployment: None,
        };
        Ok((child, miner))
    }

    /// Whether `miner`'s pid is still the process started for it (a pid on record may have
    /// been reused by another process since: that one is never signalled).
    fn ours(miner: &Miner) -> Option<u32> {
        let (pid, dir) = (miner.pid?, miner.dir.as_ref()?);
        engram_os::process::alive_with(pid, dir).then_some(pid)
    }
}

fn log_tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(5)..].join(" | ")
}

impl Provisioner for Local {
    fn name(&self) -> &'static str {
        "local"
    }

    fn start<'a>(&'a self, session: &'a Session) -> BoxFuture<'a, Result<Miner, GatewayError>> {
        Box::pin(async move {
            let (child, miner) = self.spawn(session)?;
            let mut children = self.children.lock().expect("children lock");
            // Reap the ones that ended on their own (a crashed miner being replaced).
            children.retain(|_, c| !matches!(c.try_wait(), Ok(Some(_))));
            children.insert(child.id(), child);
            Ok(miner)
        })
    }

    fn ready<'a>(&'a self, miner: &'a Miner) -> BoxFuture<'a, Result<Miner, GatewayError>> {
        Box::pin(async move {
            let dir = miner.dir.clone().unwrap_or_default();
            let log = dir.join("miner.log");
            let mut miner = miner.clone();
            let failed = |endpoint: &str, reason: String| GatewayError::Miner {
                endpoint: endpoint.to_string(),
                reason,
            };
            let http = reqwest::Client::new();
            let started = Instant::now();
            loop {
                if Self::ours(&miner).is_none() {
                    return Err(failed(
                        &miner.endpoint,
                        format!("it exited: {}", log_tail(&log)),
                    ));
                }
                if miner.endpoint.is_empty()
                    && let Some(addr) = engram_os::process::announced_addr(&dir.join("miner.addr"))
                {
                    miner.endpoint = format!("http://{addr}");
                }
                if !miner.endpoint.is_empty()
                    && http
                        .get(format!("{}/health", miner.endpoint))
                        .timeout(Duration::from_secs(2))
                        .send()
                        .await
                        .is_ok_and(|r| r.status().is_success())
                {
                    return Ok(miner);
                }
                if started.elapsed() > START_TIMEOUT {
                    // The caller stops a miner that did not become ready.
                    return Err(failed(
                        &miner.endpoint,
                        format!(
                            "no answer on {}/health within {} s: {}",
                            miner.endpoint,
                            START_TIMEOUT.as_secs(),
                            log_tail(&log)
                        ),
                    ));
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        })
    }

    fn stop<'a>(&'a self, miner: &'a Miner) -> BoxFuture<'a, Result<(), GatewayError>> {
        Box::pin(async move {
            let Some(pid) = miner.pid else {
                return Ok(());
            };
            if Self::ours(miner).is_some() {
                engram_os::process::signal(pid, "-TERM");
                let deadline = Instant::now() + STOP_TIMEOUT;
                while Self::ours(miner).is_some() && Instant::now() < deadline {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                if Self::ours(miner).is_some() {
                    engram_os::process::signal(pid, "-KILL");
                }
            }
            // Reap it when this gateway started it (no zombie left behind).
            let child = self.children.lock().expect("children lock").remove(&pid);
            if let Some(mut child) = child {
                let _ = tokio::task::spawn_blocking(move || child.wait()).await;
            }
            Ok(())
        })
    }

    fn alive(&self, miner: &Miner) -> bool {
        Self::ours(miner).is_some()
    }
}
