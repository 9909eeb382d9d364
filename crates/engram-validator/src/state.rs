//! What a validator remembers across restarts: its probe memories, every node's running
//! scores and recent proof rounds, and its weight-setting counter.
//!
//! `state.json` is replaced atomically after every round; `rounds.jsonl` gets one line per
//! round (the audit trail `devnet status` and people read).

use std::collections::{BTreeMap, VecDeque};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::ValidatorError;
use crate::score;

/// Proof rounds kept per node for its success rate.
pub const PROOF_WINDOW: usize = 20;
/// Weight of the newest measurement in the running recall and latency.
const EMA: f64 = 0.3;

/// A memory the validator wrote itself: its ground truth.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Probe {
    /// Its CID.
    pub cid: String,
    /// The exact vector.
    pub vector: Vec<f32>,
    /// Its metadata (marks it as this validator's probe).
    pub metadata: serde_json::Map<String, serde_json::Value>,
}

/// Everything measured about one node.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NodeStats {
    /// The node's uid when last seen.
    pub uid: u16,
    /// Running recall@10 (None until measured).
    pub recall: Option<f64>,
    /// Running query latency in ms (None until measured).
    pub latency_ms: Option<f64>,
    /// Whether each recent challenge round passed, newest last.
    pub proof_rounds: VecDeque<bool>,
    /// Proof v1 challenges answered correctly / asked.
    pub v1: (u64, u64),
    /// Proof v2 challenges answered correctly / asked.
    pub v2: (u64, u64),
    /// Retrieval audits passed / asked.
    pub audits: (u64, u64),
    /// `POST /list` audits passed / asked: listed memories it must serve as listed.
    #[serde(default)]
    pub list_audits: (u64, u64),
    /// Shard audits passed / asked: erasure-code shards it lists, checked against the
    /// manifest the other holders agree on.
    #[serde(default)]
    pub shard_audits: (u64, u64),
}

impl NodeStats {
    /// Folds in one scoring measurement.
    pub fn record_query(&mut self, recall: Option<f64>, latency_ms: f64) {
        let ema = |old: Option<f64>, new: f64| Some(old.map_or(new, |o| o + EMA * (new - o)));
        if let Some(r) = recall {
            self.recall = ema(self.recall, r);
        }
        self.latency_ms = ema(self.latency_ms, latency_ms);
    }

    /// Folds in one challenge round's verdict.
    pub fn record_proof_round(&mut self, passed: bool) {
        self.proof_rounds.push_back(passed);
        while self.proof_rounds.len() > PROOF_WINDOW {
            self.proof_rounds.pop_front();
        }
    }

    /// Share of recent challenge rounds passed (1 before any: innocent until tested).
    pub fn proof_rate(&self) -> f64 {
        if self.proof_rounds.is_empty() {
            return 1.0;
        }
        self.proof_rounds.iter().filter(|&&p| p).count() as f64 / self.proof_rounds.len() as f64
    }

    /// The composite score of DESIGN §5 (0 until recall and latency were measured).
    pub fn composite(&self) -> f64 {
        match (self.recall, self.latency_ms) {
            (Some(r), Some(l)) => score::composite(r, score::latency_score(l), self.proof_rate()),
            _ => 0.0,
        }
    }
}

/// The persisted state.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct State {
    /// Scoring rounds run.
    pub scoring_rounds: u64,
    /// Challenge rounds run.
    pub challenge_rounds: u64,
    /// Weight sets written (the version of the last one).
    pub weight_version: u64,
    /// The probe memories.
    pub probes: Vec<Probe>,
    /// Per node, by hotkey.
    pub nodes: BTreeMap<String, NodeStats>,
    /// The last weights set: (uid, weight).
    pub last_weights: Vec<(u16, f32)>,
    /// Hotkeys of the nodes live at the last challenge round (sorted), to notice churn.
    #[serde(default)]
    pub last_live: Vec<String>,
}

/// Where a validator keeps its state.
#[derive(Debug, Clone)]
pub struct StateDir {
    dir: PathBuf,
}

impl StateDir {
    /// The state directory `dir` (created on first save).
    pub fn new(dir: &Path) -> Self {
        Self {
            dir: dir.to_path_buf(),
        }
    }

    fn err(path: &Path, e: impl std::fmt::Display) -> ValidatorError {
        ValidatorError::State {
            path: path.to_path_buf(),
            reason: e.to_string(),
        }
    }

    /// The saved state, or a fresh one when there is none.
    ///
    /// # Errors
    /// [`ValidatorError::State`] for an unreadable or corrupt file.
    pub fn load(&self) -> Result<State, ValidatorError> {
        let path = self.dir.join("state.json");
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| Self::err(&path, e)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(State::default()),
            Err(e) => Err(Self::err(&path, e)),
        }
    }

    /// Saves `state` atomically.
    ///
    /// # Errors
    /// [`ValidatorError::State`] when it cannot be written.
    pub fn save(&self, state: &State) -> Result<(), ValidatorError> {
        std::fs::create_dir_all(&self.dir).map_err(|e| Self::err(&self.dir, e))?;
        let path = self.dir.join("state.json");
        let bytes = serde_json::to_vec_pretty(state).expect("state serializes");
        engram_os::write_atomic(&path, &bytes).map_err(|e| Self::err(&path, e))
    }

    /// The last `n` round records of `rounds.jsonl`, oldest first (empty before any). Reads
    /// only the file's tail, however long the validator has run.
    ///
    /// # Errors
    /// [`ValidatorError::State`] when the file exists but cannot be read.
    pub fn last_rounds(&self, n: usize) -> Result<Vec<serde_json::Value>, ValidatorError> {
        use std::io::{Read, Seek, SeekFrom};
        const TAIL: u64 = 256 << 10;
        let path = self.dir.join("rounds.jsonl");
        let mut f = match std::fs::File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(Self::err(&path, e)),
        };
        let len = f.metadata().map_err(|e| Self::err(&path, e))?.len();
        f.seek(SeekFrom::Start(len.saturating_sub(TAIL)))
            .map_err(|e| Self::err(&path, e))?;
        let mut tail = Vec::new();
        f.read_to_end(&mut tail).map_err(|e| Self::err(&path, e))?;
        // The first line may be cut by the seek and the last by a write in progress:
        // whatever does not parse is skipped.
        let mut rounds: Vec<serde_json::Value> = tail
            .split(|b| *b == b'\n')
            .rev()
            .filter_map(|line| serde_json::from_slice(line).ok())
            .take(n)
            .collect();
        rounds.reverse();
        Ok(rounds)
    }

    /// Appends one round's record to `rounds.jsonl`.
    ///
    /// # Errors
    /// [`ValidatorError::State`] when it cannot be written.
    pub fn append_round(&self, record: &serde_json::Value) -> Result<(), ValidatorError> {
        std::fs::create_dir_all(&self.dir).map_err(|e| Self::err(&self.dir, e))?;
        let path = self.dir.join("rounds.jsonl");
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|e| Self::err(&path, e))?;
        writeln!(f, "{record}").map_err(|e| Self::err(&path, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_rounds_reads_the_tail_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let states = StateDir::new(dir.path());
        assert!(states.last_rounds(3).unwrap().is_empty());
        for i in 0..5 {
            states
                .append_round(&serde_json::json!({"round": i}))
                .unwrap();
        }
        let rounds: Vec<u64> = states
            .last_rounds(3)
            .unwrap()
            .iter()
            .map(|r| r["round"].as_u64().unwrap())
            .collect();
        assert_eq!(rounds, [2, 3, 4]);
    }

    #[test]
    fn stats_fold_and_state_round_trips() {
        let mut s = NodeStats::default();
        assert_eq!(s.proof_rate(), 1.0);
        s.record_query(Some(1.0), 50.0);
        s.record_query(Some(0.0), 50.0);
        assert!((s.recall.unwrap() - 0.7).abs() < 1e-9);
        for i in 0..30 {
            s.record_proof_round(i % 4 != 0);
        }
        assert_eq!(s.proof_rounds.len(), PROOF_WINDOW);
        assert!((s.proof_rate() - 0.75).abs() < 1e-9);

        let dir = tempfile::tempdir().unwrap();
        let sd = StateDir::new(dir.path());
        assert_eq!(sd.load().unwrap(), State::default());
        let mut state = State {
            challenge_rounds: 3,
            ..State::default()
        };
        state.nodes.insert("5Abc".into(), s);
        sd.save(&state).unwrap();
        assert_eq!(sd.load().unwrap(), state);
        sd.append_round(&serde_json::json!({"round": 1})).unwrap();
        sd.append_round(&serde_json::json!({"round": 2})).unwrap();
        let lines = std::fs::read_to_string(dir.path().join("rounds.jsonl")).unwrap();
        assert_eq!(lines.lines().count(), 2);
    }
}
