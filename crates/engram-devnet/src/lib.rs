//! A local subnet of real processes on loopback: what `engram devnet up|status|down|stake`
//! does, as a library the CLI, the tests and the Python package drive alike.
//!
//! [`up`] creates a wallet and a data directory per process, starts each node as
//! `engram serve --network DIR --wallet NAME` and each validator as `engram validate`, in
//! their own process groups with logs under `DIR/logs`, waits until every node answers,
//! gives validators stake, and records the processes in `DIR/devnet.json`. Cadences are
//! fast so weights appear within a minute. [`down`] sends SIGTERM (nodes checkpoint their
//! stores), then SIGKILL to anything still running after 15 s. The processes are the
//! `engram` binary named in the [`Spec`], so a devnet is exactly what users run.

mod error;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use engram_chain::{Chain, Devnet, Metagraph, Uid, Wallet};
use engram_client::api::{NodeScore, ValidatorView};
use engram_core::tier::TrustTier;
use engram_validator::StateDir;
use serde::{Deserialize, Serialize};

pub use error::DevnetError;
use error::io;

/// Stake a devnet gives each validator.
pub const VALIDATOR_STAKE: f64 = 1000.0;
/// How long [`up`] waits for every node to serve.
const START_DEADLINE: Duration = Duration::from_secs(120);
/// How long [`down`] waits after SIGTERM before SIGKILL.
const STOP_DEADLINE: Duration = Duration::from_secs(15);

/// What devnet to start.
#[derive(Debug, Clone)]
pub struct Spec {
    /// The `engram` executable every process runs.
    pub exe: PathBuf,
    /// The model directory every process uses.
    pub model_dir: PathBuf,
    /// Miners (nodes); at least one.
    pub miners: usize,
    /// Validators.
    pub validators: usize,
    /// Seconds between validators' scoring rounds.
    pub scoring_interval_s: u64,
    /// Seconds between validators' challenge rounds.
    pub challenge_interval_s: u64,
    /// Seconds between validators' weight sets.
    pub weights_interval_s: u64,
    /// Seconds between the nodes' repair rounds.
    pub repair_interval_s: u64,
    /// How miners cut public blobs into erasure-code shards (`ENGRAM_ERASURE`).
    pub erasure: engram_core::erasure::Layout,
    /// Deliberate misbehaviour by miner name (`ENGRAM_FAULT`; the binary must be built with
    /// the test-only `fault-injection` feature).
    pub faults: HashMap<String, String>,
}

/// One process of a devnet.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Process {
    /// `miner-N` or `validator-N`.
    pub name: String,
    /// `miner` or `validator`.
    pub role: String,
    /// Its process id.
    pub pid: u32,
    /// Its wallet's SS58 hotkey.
    pub hotkey: String,
    /// A node's base URL.
    pub url: Option<String>,
    /// Its data (node) or state (validator) directory.
    pub dir: PathBuf,
    /// Its log file.
    pub log: PathBuf,
    /// The fault it was started with.
    pub fault: Option<String>,
}

/// The processes of a devnet, as recorded in `DIR/devnet.json`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Manifest {
    /// Miners first, then validators.
    pub processes: Vec<Process>,
}

impl Manifest {
    /// The manifest of the devnet in `dir`.
    ///
    /// # Errors
    /// [`DevnetError::NotFound`] when there is none, [`DevnetError::Corrupt`].
    pub fn read(dir: &Path) -> Result<Self, DevnetError> {
        let path = manifest_path(dir);
        let bytes = std::fs::read(&path).map_err(|source| DevnetError::NotFound {
            dir: dir.to_path_buf(),
            source,
        })?;
        serde_json::from_slice(&bytes).map_err(|source| DevnetError::Corrupt { path, source })
    }

    fn write(&self, dir: &Path) -> Result<(), DevnetError> {
        let bytes = serde_json::to_vec_pretty(self).expect("a manifest serializes");
        engram_os::write_atomic(&manifest_path(dir), &bytes)
            .map_err(io(format!("writing the manifest in {}", dir.display())))
    }

    /// The process with this hotkey.
    pub fn by_hotkey(&self, hotkey: &str) -> Option<&Process> {
        self.processes.iter().find(|p| p.hotkey == hotkey)
    }
}

fn manifest_path(dir: &Path) -> PathBuf {
    dir.join("devnet.json")
}

pub use engram_os::process::alive;

fn spawn(
    spec: &Spec,
    args: &[String],
    envs: &[(&str, String)],
    log: &Path,
) -> Result<Child, DevnetError> {
    let stdout = std::fs::File::create(log).map_err(io(format!("creating {}", log.display())))?;
    let stderr = stdout.try_clone().map_err(io("duplicating a log handle"))?;
    let mut cmd = Command::new(&spec.exe);
    cmd.args(args)
        .arg("--model-dir")
        .arg(&spec.model_dir)
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr);
    for (k, v) in envs {
        cmd.env(k, v);
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        cmd.process_group(0);
    }
    cmd.spawn()
        .map_err(io(format!("starting {}", spec.exe.display())))
}

fn wallet(wallets: &Path, name: &str) -> Result<Wallet, DevnetError> {
    if let Ok(w) = Wallet::load(wallets, name) {
        return Ok(w);
    }
    let mut entropy = [0u8; 16];
    getrandom::getrandom(&mut entropy).map_err(DevnetError::Randomness)?;
    Ok(Wallet::create(wallets, name, &entropy)?)
}

/// Starts a devnet in `dir` (created) and returns its processes once every node serves.
/// Wallets already in `dir/wallets` are reused, so a devnet restarts with its identities.
///
/// # Errors
/// [`DevnetError::AlreadyRunning`], [`DevnetError::Spec`], [`DevnetError::UnknownFaultTarget`],
/// [`DevnetError::Exited`] / [`DevnetError::Timeout`] when a node does not come up; I/O,
/// registry and client failures.
pub async fn up(dir: &Path, spec: &Spec) -> Result<Manifest, DevnetError> {
    if manifest_path(dir).exists() && Manifest::read(dir)?.processes.iter().any(|p| alive(p.pid)) {
        return Err(DevnetError::AlreadyRunning {
            dir: dir.to_path_buf(),
        });
    }
    if spec.miners == 0 {
        return Err(DevnetError::Spec("a devnet needs at least one miner"));
    }
    let miner_names: Vec<String> = (0..spec.miners).map(|i| format!("miner-{i}")).collect();
    let validator_names: Vec<String> = (0..spec.validators)
        .map(|i| format!("validator-{i}"))
        .collect();
    if let Some(name) = spec
        .faults
        .keys()
        .find(|n| !miner_names.contains(n) && !validator_names.contains(n))
    {
        return Err(DevnetError::UnknownFaultTarget(name.clone()));
    }
    // A validator's fault names a miner; checked before anything starts.
    if let Some((_, fault)) = spec.faults.iter().find(|(name, fault)| {
        validator_names.contains(name)
            && !engram_validator::fault::favoured(fault)
                .is_some_and(|m| miner_names.iter().any(|n| n == m))
    }) {
        return Err(DevnetError::UnknownFaultTarget(fault.clone()));
    }
    let wallets = dir.join("wallets");
    let logs = dir.join("logs");
    std::fs::create_dir_all(&logs).map_err(io(format!("creating {}", logs.display())))?;
    let chain = Devnet::open(dir);
    let dir_s = dir.display().to_string();
    let mut manifest = Manifest::default();
    let mut children = Vec::new();
    for name in miner_names {
        let key = wallet(&wallets, &name)?.key;
        chain.register(&key)?;
        let data = dir.join(&name);
        let log = logs.join(format!("{name}.log"));
        // The node binds a port of its own and says which (no free-port race with other
        // processes); its URL is known once it has.
        let addr_file = logs.join(format!("{name}.addr"));
        let _ = std::fs::remove_file(&addr_file);
        let mut envs = vec![
            ("ENGRAM_INGEST_RATE_PER_MINUTE", "0".to_string()),
            (
                "ENGRAM_REPAIR_INTERVAL_S",
                spec.repair_interval_s.to_string(),
            ),
            ("ENGRAM_INDEX_INTERVAL_S", "2".to_string()),
            ("ENGRAM_ERASURE", spec.erasure.to_string()),
        ];
        let fault = spec.faults.get(&name).cloned();
        if let Some(f) = &fault {
            envs.push(("ENGRAM_FAULT", f.clone()));
        }
        let argv = [
            "serve",
            "--network",
            &dir_s,
            "--wallet",
            &name,
            "--listen",
            "127.0.0.1:0",
            "--addr-file",
            &addr_file.display().to_string(),
            "--data-dir",
            &data.display().to_string(),
        ]
        .map(String::from);
        let child = spawn(spec, &argv, &envs, &log)?;
        manifest.processes.push(Process {
            name,
            role: "miner".into(),
            pid: child.id(),
            hotkey: key.ss58(),
            url: None,
            dir: data,
            log,
            fault,
        });
        children.push(child);
    }
    manifest.write(dir)?;

    // Every node up before validators start measuring.
    let deadline = Instant::now() + START_DEADLINE;
    for (p, child) in manifest.processes.iter_mut().zip(&mut children) {
        let addr_file = logs.join(format!("{}.addr", p.name));
        let mut client = None;
        loop {
            if client.is_none()
                && let Some(addr) = engram_os::process::announced_addr(&addr_file)
            {
                let url = format!("http://{addr}");
                client = Some(engram_client::Client::new(&url)?);
                p.url = Some(url);
            }
            if let Some(client) = &client
                && chain
                    .metagraph()?
                    .by_hotkey(&p.hotkey)
                    .is_some_and(|n| n.axon.as_deref() == p.url.as_deref())
                && client.health().await.is_ok()
            {
                break;
            }
            if let Some(status) = child.try_wait().map_err(io("waiting on a node"))? {
                return Err(DevnetError::Exited {
                    name: p.name.clone(),
                    status,
                    log: p.log.clone(),
                });
            }
            if Instant::now() > deadline {
                return Err(DevnetError::Timeout {
                    name: p.name.clone(),
                    secs: START_DEADLINE.as_secs(),
                    log: p.log.clone(),
                });
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    for i in 0..spec.validators {
        let name = format!("validator-{i}");
        let key = wallet(&wallets, &name)?.key;
        chain.register(&key)?;
        if chain.stake_of(&key.ss58())? < VALIDATOR_STAKE {
            chain.add_stake(&key.ss58(), VALIDATOR_STAKE)?;
        }
        let state = dir.join(&name);
        let log = logs.join(format!("{name}.log"));
        let argv = [
            "validate",
            "--network",
            &dir_s,
            "--wallet",
            &name,
            "--state-dir",
            &state.display().to_string(),
            "--scoring-interval-s",
            &spec.scoring_interval_s.to_string(),
            "--challenge-interval-s",
            &spec.challenge_interval_s.to_string(),
            "--weights-interval-s",
            &spec.weights_interval_s.to_string(),
        ]
        .map(String::from);
        // `favour=miner-K` names a miner; the validator is told its hotkey.
        let fault = spec.faults.get(&name).cloned();
        let envs: Vec<(&str, String)> = match &fault {
            Some(f) => {
                let target = engram_validator::fault::favoured(f).and_then(|m| {
                    manifest
                        .processes
                        .iter()
                        .find(|p| p.name == m)
                        .map(|p| p.hotkey.clone())
                });
                let Some(hotkey) = target else {
                    return Err(DevnetError::UnknownFaultTarget(f.clone()));
                };
                vec![("ENGRAM_FAULT", engram_validator::fault::favour(&hotkey))]
            }
            None => Vec::new(),
        };
        let pid = spawn(spec, &argv, &envs, &log)?.id();
        manifest.processes.push(Process {
            name,
            role: "validator".into(),
            pid,
            hotkey: key.ss58(),
            url: None,
            dir: state,
            log,
            fault,
        });
    }
    manifest.write(dir)?;
    Ok(manifest)
}

/// A devnet as it stands: its processes, the registry's view and each validator's scores.
#[derive(Debug, Clone)]
pub struct Status {
    /// The recorded processes.
    pub manifest: Manifest,
    /// The registry's metagraph.
    pub metagraph: Metagraph,
    /// Each validator's hotkey and persisted state.
    pub validators: Vec<(String, engram_validator::State)>,
}

impl Status {
    /// The devnet name (`miner-0`, …) of a hotkey, `-` when it is not one of its processes.
    pub fn name_of(&self, hotkey: &str) -> &str {
        self.manifest
            .by_hotkey(hotkey)
            .map_or("-", |p| p.name.as_str())
    }

    /// Whether the process with this hotkey is running.
    pub fn running(&self, hotkey: &str) -> bool {
        self.manifest
            .by_hotkey(hotkey)
            .is_some_and(|p| alive(p.pid))
    }

    /// The weight `validator` last set on `uid`, 0 when none.
    pub fn weight(&self, validator: &str, uid: Uid) -> f32 {
        let graph = &self.metagraph;
        graph
            .weights
            .iter()
            .find(|w| {
                graph
                    .neurons
                    .get(usize::from(w.validator))
                    .is_some_and(|n| n.hotkey == validator)
            })
            .and_then(|w| w.weights.iter().find(|(u, _)| *u == uid))
            .map_or(0.0, |(_, w)| *w)
    }
}

/// The devnet in `dir`: processes, metagraph and validator states.
///
/// # Errors
/// [`DevnetError::NotFound`], registry and validator-state failures.
pub fn status(dir: &Path) -> Result<Status, DevnetError> {
    let manifest = Manifest::read(dir)?;
    let metagraph = Devnet::open(dir).metagraph()?;
    let validators = manifest
        .processes
        .iter()
        .filter(|p| p.role == "validator")
        .map(|p| Ok((p.hotkey.clone(), StateDir::new(&p.dir).load()?)))
        .collect::<Result<_, DevnetError>>()?;
    Ok(Status {
        manifest,
        metagraph,
        validators,
    })
}

/// Each validator of the devnet in `dir` as a node's dashboard shows it: stake, rounds run,
/// its running scores of every node and its last `rounds` round records. Empty when `dir`
/// holds no devnet manifest; a validator whose state cannot be read shows why.
pub fn validator_views(dir: &Path, rounds: usize) -> Vec<ValidatorView> {
    let Ok(manifest) = Manifest::read(dir) else {
        return Vec::new();
    };
    let graph = Devnet::open(dir).metagraph().unwrap_or_default();
    manifest
        .processes
        .iter()
        .filter(|p| p.role == "validator")
        .map(|p| {
            let states = StateDir::new(&p.dir);
            let (state, rounds, error) = match (states.load(), states.last_rounds(rounds)) {
                (Ok(state), Ok(rounds)) => (state, rounds, None),
                (Err(e), _) | (_, Err(e)) => (Default::default(), Vec::new(), Some(e.to_string())),
            };
            let neuron = graph.by_hotkey(&p.hotkey);
            ValidatorView {
                hotkey: p.hotkey.clone(),
                uid: neuron.map(|n| n.uid),
                stake: neuron.map_or(0.0, |n| n.stake),
                running: alive(p.pid),
                scoring_rounds: state.scoring_rounds,
                challenge_rounds: state.challenge_rounds,
                weight_version: state.weight_version,
                scores: state
                    .nodes
                    .iter()
                    .map(|(hotkey, s)| {
                        let score = NodeScore {
                            validator: p.hotkey.clone(),
                            recall: s.recall,
                            latency_ms: s.latency_ms,
                            proof_rate: s.proof_rate(),
                            composite: s.composite(),
                        };
                        (hotkey.clone(), score)
                    })
                    .collect(),
                rounds,
                error,
            }
        })
        .collect()
}

/// What [`down`] did.
#[derive(Debug, Clone, Serialize)]
pub struct Stopped {
    /// Processes that were running.
    pub stopped: usize,
    /// Names of those that needed SIGKILL.
    pub killed: Vec<String>,
}

/// Stops every running process of the devnet in `dir`: SIGTERM, then SIGKILL after 15 s.
///
/// # Errors
/// [`DevnetError::NotFound`], [`DevnetError::Corrupt`].
pub async fn down(dir: &Path) -> Result<Stopped, DevnetError> {
    let manifest = Manifest::read(dir)?;
    let running: Vec<&Process> = manifest.processes.iter().filter(|p| alive(p.pid)).collect();
    for p in &running {
        engram_os::process::signal(p.pid, "-TERM");
    }
    let deadline = Instant::now() + STOP_DEADLINE;
    let mut killed = Vec::new();
    for p in &running {
        while alive(p.pid) && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        if alive(p.pid) {
            engram_os::process::signal(p.pid, "-KILL");
            killed.push(p.name.clone());
        }
    }
    Ok(Stopped {
        stopped: running.len(),
        killed,
    })
}

/// What [`stake`] did.
#[derive(Debug, Clone, Serialize)]
pub struct Staked {
    /// The wallet's hotkey.
    pub hotkey: String,
    /// Its uid (registered if it was not).
    pub uid: Uid,
    /// Its total stake now.
    pub stake: f64,
    /// The trust tier that stake gives.
    pub trust_tier: TrustTier,
}

/// The devnet's faucet: registers wallet `name` from `wallets` and adds `amount` stake.
///
/// # Errors
/// [`DevnetError::BadStake`] for an amount that is not positive; the wallet must exist
/// ([`DevnetError::Chain`] otherwise: a mistyped directory finds none rather than starting
/// a registry somewhere else).
pub fn stake(dir: &Path, wallets: &Path, name: &str, amount: f64) -> Result<Staked, DevnetError> {
    if !(amount.is_finite() && amount > 0.0) {
        return Err(DevnetError::BadStake(amount));
    }
    let key = Wallet::load(wallets, name)?.key;
    let chain = Devnet::open(dir);
    let uid = chain.register(&key)?;
    chain.add_stake(&key.ss58(), amount)?;
    let stake = chain.stake_of(&key.ss58())?;
    Ok(Staked {
        hotkey: key.ss58(),
        uid,
        stake,
        trust_tier: TrustTier::from_stake(stake),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(miners: usize) -> Spec {
        Spec {
            exe: PathBuf::from("/nonexistent/engram"),
            model_dir: PathBuf::from("/nonexistent/model"),
            miners,
            validators: 0,
            scoring_interval_s: 5,
            challenge_interval_s: 8,
            weights_interval_s: 20,
            repair_interval_s: 5,
            erasure: engram_core::erasure::DEFAULT_LAYOUT,
            faults: HashMap::new(),
        }
    }

    #[tokio::test]
    async fn a_bad_spec_starts_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let e = up(dir.path(), &spec(0)).await.unwrap_err();
        assert!(matches!(e, DevnetError::Spec(_)), "{e}");
        let mut s = spec(2);
        s.faults.insert("miner-7".into(), "hash-only".into());
        let e = up(dir.path(), &s).await.unwrap_err();
        assert!(
            matches!(e, DevnetError::UnknownFaultTarget(ref n) if n == "miner-7"),
            "{e}"
        );
        assert!(
            !manifest_path(dir.path()).exists(),
            "no manifest for a refused spec"
        );
        // A validator fault must favour a miner of this devnet, checked before any start.
        for bad in ["drop-half", "favour=miner-9", "favour=validator-0"] {
            let mut s = spec(2);
            s.validators = 1;
            s.faults.insert("validator-0".into(), bad.into());
            let e = up(dir.path(), &s).await.unwrap_err();
            assert!(
                matches!(e, DevnetError::UnknownFaultTarget(ref f) if f == bad),
                "{bad}: {e}"
            );
        }
    }

    #[tokio::test]
    async fn a_missing_binary_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let e = up(dir.path(), &spec(1)).await.unwrap_err();
        assert!(e.to_string().contains("/nonexistent/engram"), "{e}");
    }

    #[tokio::test]
    async fn no_devnet_is_not_found() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            status(dir.path()),
            Err(DevnetError::NotFound { .. })
        ));
        assert!(matches!(
            down(dir.path()).await,
            Err(DevnetError::NotFound { .. })
        ));
        std::fs::write(manifest_path(dir.path()), b"{").unwrap();
        assert!(matches!(
            status(dir.path()),
            Err(DevnetError::Corrupt { .. })
        ));
    }

    #[test]
    fn stake_checks_the_amount_and_the_wallet() {
        let dir = tempfile::tempdir().unwrap();
        let wallets = dir.path().join("wallets");
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert!(matches!(
                stake(dir.path(), &wallets, "w", bad),
                Err(DevnetError::BadStake(_))
            ));
        }
        assert!(matches!(
            stake(dir.path(), &wallets, "nobody", 5.0),
            Err(DevnetError::Chain(_))
        ));
        Wallet::create(&wallets, "w", &[7; 16]).unwrap();
        let s = stake(dir.path(), &wallets, "w", 5.0).unwrap();
        assert_eq!(s.stake, 5.0);
        assert_eq!(stake(dir.path(), &wallets, "w", 5.0).unwrap().stake, 10.0);
    }
}
