//! The devnet registry: a JSON file several local processes share.
//!
//! Every write takes an exclusive lock on `registry.lock`, reads `registry.json`, changes
//! it and replaces it through a temporary file and a rename, so a reader never sees half a
//! file and two writers never lose each other's changes. Reads take a shared lock.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

use engram_core::keys::Keypair;

use engram_os::now_ms;

use crate::{Chain, ChainError, EpochRecord, Metagraph, Neuron, Uid, WeightSet};

const FILE: &str = "registry.json";
const LOCK: &str = "registry.lock";

/// A devnet's tempo: one epoch of Yuma Consensus per this many ms (Bittensor's is 360
/// blocks of 12 s; a devnet's validators set weights every 20 s).
pub const TEMPO_MS: u64 = 30_000;
/// What one epoch distributes (a devnet's unit of emission).
pub const EPOCH_EMISSION: f64 = 1.0;
/// Weights older than this no longer count (subtensor's activity cut-off, 5000 blocks, in
/// devnet time: ten tempos). A validator that stopped stops steering consensus.
pub const ACTIVITY_CUTOFF_MS: u64 = 10 * TEMPO_MS;

/// The file-backed registry of a devnet directory.
#[derive(Clone, Debug)]
pub struct Devnet {
    dir: PathBuf,
}

impl Devnet {
    /// The registry in `dir` (created on first write).
    pub fn open(dir: &Path) -> Self {
        Self {
            dir: dir.to_path_buf(),
        }
    }

    /// The devnet directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn io(&self, name: &str) -> impl FnOnce(std::io::Error) -> ChainError {
        let path = self.dir.join(name);
        move |source| ChainError::Io { path, source }
    }

    fn lock(&self, exclusive: bool) -> Result<File, ChainError> {
        std::fs::create_dir_all(&self.dir).map_err(self.io(LOCK))?;
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(self.dir.join(LOCK))
            .map_err(self.io(LOCK))?;
        if exclusive {
            file.lock().map_err(self.io(LOCK))?;
        } else {
            file.lock_shared().map_err(self.io(LOCK))?;
        }
        Ok(file)
    }

    fn read(&self) -> Result<Metagraph, ChainError> {
        let path = self.dir.join(FILE);
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| ChainError::Corrupt {
                path,
                reason: e.to_string(),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Metagraph::default()),
            Err(source) => Err(ChainError::Io { path, source }),
        }
    }

    fn write(&self, graph: &Metagraph) -> Result<(), ChainError> {
        let bytes = serde_json::to_vec_pretty(graph).expect("metagraph serializes");
        engram_os::write_atomic(&self.dir.join(FILE), &bytes).map_err(self.io(FILE))
    }

    /// Runs `change` on the registry under the exclusive lock, then the epoch when one is
    /// due, and saves the result.
    fn update<T>(
        &self,
        change: impl FnOnce(&mut Metagraph) -> Result<T, ChainError>,
    ) -> Result<T, ChainError> {
        let _lock = self.lock(true)?;
        let mut graph = self.read()?;
        let out = change(&mut graph)?;
        run_due_epoch(&mut graph, now_ms());
        self.write(&graph)?;
        Ok(out)
    }

    /// Runs the epoch due at `now_ms` now, if any (tests drive the clock through this; the
    /// registry's own writes run it with the wall clock). Returns whether one ran.
    ///
    /// # Errors
    /// An I/O failure or a corrupt registry.
    pub fn run_epoch_at(&self, now_ms: u64) -> Result<bool, ChainError> {
        let _lock = self.lock(true)?;
        let mut graph = self.read()?;
        let ran = run_due_epoch(&mut graph, now_ms);
        if ran {
            self.write(&graph)?;
        }
        Ok(ran)
    }

    /// Adds stake to a registered hotkey (devnet faucet: tests and `devnet up`).
    ///
    /// # Errors
    /// [`ChainError::NotRegistered`], or an I/O failure.
    pub fn add_stake(&self, hotkey: &str, amount: f64) -> Result<(), ChainError> {
        self.update(|g| {
            let n = neuron_mut(g, hotkey)?;
            n.stake += amount;
            n.last_update_ms = now_ms();
            Ok(())
        })
    }
}

/// Runs Yuma Consensus over the registry when a new tempo has begun since the last epoch
/// and some validator has set weights: stake of staked neurons (their permit), the
/// validators' latest weights, the last bonds.
fn run_due_epoch(g: &mut Metagraph, now_ms: u64) -> bool {
    let number = now_ms / TEMPO_MS;
    let active = |set: &&WeightSet| set.timestamp_ms.saturating_add(ACTIVITY_CUTOFF_MS) >= now_ms;
    if !g.weights.iter().any(|w| active(&w)) || g.last_epoch().is_some_and(|e| e.number >= number) {
        return false;
    }
    let n = g.neurons.len();
    let stake: Vec<f64> = g.neurons.iter().map(|x| x.stake).collect();
    // A validator counts while its weights are fresh: a stopped one (or one that never set
    // weights) has no say, rather than a say of zero for everyone (subtensor drops inactive
    // validators' stake the same way).
    let mut permit = vec![false; n];
    for set in g.weights.iter().filter(active) {
        if let Some(p) = permit.get_mut(usize::from(set.validator)) {
            *p = stake[usize::from(set.validator)] > 0.0;
        }
    }
    let mut weights = vec![vec![0.0; n]; n];
    for set in g.weights.iter().filter(active) {
        if let Some(row) = weights.get_mut(usize::from(set.validator)) {
            for (uid, w) in &set.weights {
                if let Some(x) = row.get_mut(usize::from(*uid)) {
                    *x = f64::from(*w);
                }
            }
        }
    }
    // Uids registered since the last epoch start with no bonds.
    let mut bonds = std::mem::take(&mut g.bonds);
    bonds.resize(n, Vec::new());
    bonds.iter_mut().for_each(|row| row.resize(n, 0.0));
    let outcome = crate::yuma::epoch(
        &stake,
        &permit,
        &weights,
        &bonds,
        EPOCH_EMISSION,
        crate::yuma::Params::default(),
    );
    g.bonds = outcome.bonds.clone();
    g.epochs.push(EpochRecord {
        number,
        at_ms: now_ms,
        emission: EPOCH_EMISSION,
        outcome,
    });
    let excess = g.epochs.len().saturating_sub(crate::EPOCHS_KEPT);
    g.epochs.drain(..excess);
    true
}

fn neuron_mut<'a>(g: &'a mut Metagraph, hotkey: &str) -> Result<&'a mut Neuron, ChainError> {
    g.neurons
        .iter_mut()
        .find(|n| n.hotkey == hotkey)
        .ok_or_else(|| ChainError::NotRegistered {
            hotkey: hotkey.to_string(),
        })
}

impl Chain for Devnet {
    fn metagraph(&self) -> Result<Metagraph, ChainError> {
        let _lock = self.lock(false)?;
        self.read()
    }

    fn register(&self, key: &Keypair) -> Result<Uid, ChainError> {
        let hotkey = key.ss58();
        self.update(|g| {
            if let Some(n) = g.by_hotkey(&hotkey) {
                return Ok(n.uid);
            }
            let uid = Uid::try_from(g.neurons.len()).map_err(|_| ChainError::SubnetFull)?;
            let now = now_ms();
            g.neurons.push(Neuron {
                uid,
                hotkey: hotkey.clone(),
                axon: None,
                stake: 0.0,
                registered_ms: now,
                last_update_ms: now,
            });
            Ok(uid)
        })
    }

    fn serve_axon(&self, key: &Keypair, axon: &str) -> Result<(), ChainError> {
        let hotkey = key.ss58();
        self.update(|g| {
            let n = neuron_mut(g, &hotkey)?;
            n.axon = Some(axon.to_string());
            n.last_update_ms = now_ms();
            Ok(())
        })
    }

    fn set_weights(
        &self,
        key: &Keypair,
        weights: &[(Uid, f32)],
        version: u64,
    ) -> Result<(), ChainError> {
        let hotkey = key.ss58();
        self.update(|g| {
            let count = g.neurons.len();
            if let Some((uid, w)) = weights
                .iter()
                .find(|(uid, w)| usize::from(*uid) >= count || !w.is_finite() || *w < 0.0)
            {
                return Err(ChainError::BadWeights {
                    reason: format!("uid {uid} weight {w}"),
                });
            }
            let now = now_ms();
            let n = neuron_mut(g, &hotkey)?;
            n.last_update_ms = now;
            let validator = n.uid;
            g.weights.retain(|w| w.validator != validator);
            g.weights.push(WeightSet {
                validator,
                version,
                timestamp_ms: now,
                weights: weights.to_vec(),
            });
            g.weights.sort_by_key(|w| w.validator);
            Ok(())
        })
    }

    fn stake_of(&self, hotkey: &str) -> Result<f64, ChainError> {
        Ok(self.metagraph()?.by_hotkey(hotkey).map_or(0.0, |n| n.stake))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(name: &str) -> Keypair {
        Keypair::from_uri(&format!("//{name}")).unwrap()
    }

    #[test]
    fn epochs_pay_by_consensus_and_clip_a_favouring_validator() {
        let dir = tempfile::tempdir().unwrap();
        let chain = Devnet::open(dir.path());
        let miners: Vec<Keypair> = ["M0", "M1", "M2"].map(key).into();
        let validators: Vec<Keypair> = ["V0", "V1", "V2"].map(key).into();
        for k in miners.iter().chain(&validators) {
            chain.register(k).unwrap();
        }
        for v in &validators {
            chain.add_stake(&v.ss58(), 100.0).unwrap();
        }
        let t0 = (now_ms() / TEMPO_MS + 2) * TEMPO_MS;
        assert!(!chain.run_epoch_at(t0).unwrap(), "no weights, no epoch");
        chain
            .set_weights(&validators[0], &[(0, 0.5), (1, 0.5)], 1)
            .unwrap();
        chain
            .set_weights(&validators[1], &[(0, 0.5), (1, 0.5)], 1)
            .unwrap();
        // V2 favours "its own" miner M2.
        chain
            .set_weights(&validators[2], &[(0, 0.1), (1, 0.1), (2, 0.8)], 1)
            .unwrap();
        // The registry's first writes already ran an epoch at the wall clock (with V0's
        // weights alone, so V0 holds early bonds, as on the chain). The worked example starts
        // from no bonds: run it on the registry's state with them cleared.
        let near = |a: f64, b: f64| (a - b).abs() < 1e-6;
        let mut fresh = chain.metagraph().unwrap();
        fresh.bonds.clear();
        fresh.epochs.clear();
        assert!(run_due_epoch(&mut fresh, t0));
        let e = &fresh.last_epoch().unwrap().outcome;
        assert!(near(e.incentive[0], 0.5) && near(e.incentive[1], 0.5) && e.incentive[2] == 0.0);
        assert!(
            near(e.validator_emission[5], 0.045_455),
            "{:?}",
            e.validator_emission
        );
        // The registry itself: one epoch per tempo, and the favouring validator earns least.
        assert!(chain.run_epoch_at(t0).unwrap());
        assert!(!chain.run_epoch_at(t0 + 1).unwrap(), "one epoch per tempo");
        let g = chain.metagraph().unwrap();
        let e = &g.last_epoch().unwrap().outcome;
        assert!(near(e.incentive[0], 0.5) && e.incentive[2] == 0.0);
        assert!(e.validator_emission[5] < e.validator_emission[3].min(e.validator_emission[4]));
        let before = g.epochs.len();
        assert!(chain.run_epoch_at(t0 + TEMPO_MS).unwrap());
        assert_eq!(chain.metagraph().unwrap().epochs.len(), before + 1);
        // Validators that stopped mid-way: their weights count until the activity cut-off,
        // then no longer, and no epoch runs on weights nobody stands behind any more.
        let late = t0 + ACTIVITY_CUTOFF_MS / 2;
        assert!(chain.run_epoch_at(late).unwrap());
        let g = chain.metagraph().unwrap();
        assert!(near(g.last_epoch().unwrap().outcome.incentive[0], 0.5));
        let gone = now_ms() + ACTIVITY_CUTOFF_MS + 2 * TEMPO_MS;
        assert!(
            !chain.run_epoch_at(gone).unwrap(),
            "stale weights run no epoch"
        );
        // Only the big favouring validator stopped: its stake no longer votes, not even as
        // zeros, and the two that still weigh decide alone.
        chain.add_stake(&validators[2].ss58(), 400.0).unwrap();
        let mut g = chain.metagraph().unwrap();
        let now = now_ms();
        for w in &mut g.weights {
            w.timestamp_ms = if w.validator == 5 {
                now - 2 * ACTIVITY_CUTOFF_MS
            } else {
                now
            };
        }
        assert!(run_due_epoch(&mut g, now + 9 * TEMPO_MS));
        let e = &g.last_epoch().unwrap().outcome;
        assert!(
            near(e.consensus[0], 0.5) && near(e.consensus[1], 0.5),
            "{:?}",
            e.consensus
        );
        assert_eq!(e.active_stake[5], 0.0);
        assert!(near(e.incentive[0], 0.5) && e.incentive[2] == 0.0);
        // A registry the writer never finished is refused, never silently reset.
        std::fs::write(dir.path().join(FILE), b"{\"neurons\": [{\"uid\"").unwrap();
        assert!(matches!(chain.metagraph(), Err(ChainError::Corrupt { .. })));
        assert!(matches!(
            chain.run_epoch_at(t0 + 2 * TEMPO_MS),
            Err(ChainError::Corrupt { .. })
        ));
    }

    #[test]
    fn register_serve_stake_and_weights() {
        let dir = tempfile::tempdir().unwrap();
        let chain = Devnet::open(dir.path());
        assert!(chain.metagraph().unwrap().neurons.is_empty());
        let (alice, bob) = (key("Alice"), key("Bob"));
        assert_eq!(chain.register(&alice).unwrap(), 0);
        assert_eq!(chain.register(&bob).unwrap(), 1);
        assert_eq!(chain.register(&alice).unwrap(), 0, "idempotent");
        chain.serve_axon(&bob, "http://127.0.0.1:9000").unwrap();
        chain.add_stake(&alice.ss58(), 1000.0).unwrap();
        chain.set_weights(&alice, &[(1, 1.0)], 7).unwrap();
        chain.set_weights(&alice, &[(0, 0.5), (1, 0.5)], 8).unwrap();

        let g = chain.metagraph().unwrap();
        assert_eq!(g.serving().len(), 1);
        assert_eq!(g.neurons[1].axon.as_deref(), Some("http://127.0.0.1:9000"));
        assert_eq!(chain.stake_of(&alice.ss58()).unwrap(), 1000.0);
        assert_eq!(chain.stake_of("nobody").unwrap(), 0.0);
        assert_eq!(
            g.weights.len(),
            1,
            "the latest set replaces the previous one"
        );
        assert_eq!(g.weights[0].version, 8);

        assert!(matches!(
            chain.set_weights(&alice, &[(9, 1.0)], 9),
            Err(ChainError::BadWeights { .. })
        ));
        assert!(matches!(
            chain.set_weights(&alice, &[(0, f32::NAN)], 9),
            Err(ChainError::BadWeights { .. })
        ));
        assert!(matches!(
            chain.serve_axon(&key("Eve"), "x"),
            Err(ChainError::NotRegistered { .. })
        ));
        assert_eq!(
            chain.metagraph().unwrap(),
            g,
            "rejected writes change nothing"
        );
    }

    #[test]
    fn concurrent_writers_lose_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let threads: Vec<_> = (0..8)
            .map(|i| {
                let chain = Devnet::open(dir.path());
                std::thread::spawn(move || {
                    let k = key(&format!("node{i}"));
                    chain.register(&k).unwrap();
                    for _ in 0..10 {
                        chain.add_stake(&k.ss58(), 1.0).unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let g = Devnet::open(dir.path()).metagraph().unwrap();
        assert_eq!(g.neurons.len(), 8);
        assert!(g.neurons.iter().all(|n| n.stake == 10.0));
        let mut uids: Vec<Uid> = g.neurons.iter().map(|n| n.uid).collect();
        uids.sort_unstable();
        assert_eq!(uids, (0..8).collect::<Vec<_>>());
    }

    #[test]
    fn a_corrupt_registry_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(FILE), b"{not json").unwrap();
        let err = Devnet::open(dir.path()).metagraph().unwrap_err();
        assert!(err.to_string().contains("corrupt"), "{err}");
    }
}
