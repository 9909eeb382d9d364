//! The chain: who is on the subnet, where they serve, how much stake they hold, and the
//! weights validators set.
//!
//! Everything above this crate talks to the [`Chain`] trait, so the network runs the same
//! on a local devnet as it will on Bittensor's subtensor. [`Devnet`] is the local
//! implementation: one JSON file under the devnet directory, changed under an exclusive
//! file lock and replaced atomically, so several node and validator processes on one
//! machine share it safely.

mod devnet;
mod error;
mod wallet;
pub mod yuma;

pub use devnet::{ACTIVITY_CUTOFF_MS, Devnet, EPOCH_EMISSION, TEMPO_MS};
pub use error::ChainError;
pub use wallet::Wallet;

use engram_core::keys::Keypair;
use serde::{Deserialize, Serialize};

/// A node's or validator's position on the subnet.
pub type Uid = u16;

/// One registered hotkey.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Neuron {
    /// Position on the subnet, assigned at registration.
    pub uid: Uid,
    /// SS58 hotkey.
    pub hotkey: String,
    /// Where its node serves (`http://127.0.0.1:8091`), once it announced one.
    pub axon: Option<String>,
    /// Stake behind the hotkey.
    pub stake: f64,
    /// When it registered (unix ms).
    pub registered_ms: u64,
    /// Its last registry write (unix ms).
    pub last_update_ms: u64,
}

/// The weights one validator last set.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WeightSet {
    /// The validator's uid.
    pub validator: Uid,
    /// Version the validator tagged the weights with (its round counter).
    pub version: u64,
    /// When they were set (unix ms).
    pub timestamp_ms: u64,
    /// `(uid, weight)`, weights summing to 1 (or all zero).
    pub weights: Vec<(Uid, f32)>,
}

/// A snapshot of the subnet.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Metagraph {
    /// Every registered hotkey, by uid.
    pub neurons: Vec<Neuron>,
    /// The latest weights of each validator that set any.
    pub weights: Vec<WeightSet>,
    /// The last epochs' outcomes, oldest first (at most [`EPOCHS_KEPT`]).
    #[serde(default)]
    pub epochs: Vec<EpochRecord>,
    /// The validators' bonds after the last epoch, `bonds[i][j]` of uid i in uid j.
    #[serde(default)]
    pub bonds: Vec<Vec<f64>>,
}

/// Epoch outcomes a registry keeps.
pub const EPOCHS_KEPT: usize = 16;

/// One epoch of Yuma Consensus ([`yuma`]) as the registry ran it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    /// Its number: the start of its tempo over the tempo length.
    pub number: u64,
    /// When it ran (unix ms).
    pub at_ms: u64,
    /// What it distributed.
    pub emission: f64,
    /// The outcome, indexed by uid.
    pub outcome: yuma::Epoch,
}

impl Metagraph {
    /// The neuron with this hotkey.
    pub fn by_hotkey(&self, hotkey: &str) -> Option<&Neuron> {
        self.neurons.iter().find(|n| n.hotkey == hotkey)
    }

    /// A uid's weight: the validators' last weights on it, averaged by their stake (a plain
    /// mean when no validator has stake; 0 before any weights).
    pub fn mean_weight(&self, uid: Uid) -> f64 {
        let mut total = 0.0;
        let mut stake = 0.0;
        let mut plain = 0.0;
        for set in &self.weights {
            let w = f64::from(
                set.weights
                    .iter()
                    .find(|(u, _)| *u == uid)
                    .map_or(0.0, |(_, w)| *w),
            );
            let s = self
                .neurons
                .get(usize::from(set.validator))
                .map_or(0.0, |n| n.stake);
            total += s * w;
            stake += s;
            plain += w;
        }
        if stake > 0.0 {
            total / stake
        } else if self.weights.is_empty() {
            0.0
        } else {
            plain / self.weights.len() as f64
        }
    }

    /// The last epoch's outcome, if one ran.
    pub fn last_epoch(&self) -> Option<&EpochRecord> {
        self.epochs.last()
    }

    /// Neurons that serve an axon: the storage nodes a client can reach.
    pub fn serving(&self) -> Vec<&Neuron> {
        self.neurons.iter().filter(|n| n.axon.is_some()).collect()
    }
}

/// What Engram needs from a chain. Writes are made by the key that owns them.
pub trait Chain: Send + Sync {
    /// The current subnet.
    ///
    /// # Errors
    /// [`ChainError`] if the chain cannot be read.
    fn metagraph(&self) -> Result<Metagraph, ChainError>;

    /// Registers `key`'s hotkey (idempotent) and returns its uid.
    ///
    /// # Errors
    /// [`ChainError`] if the chain cannot be written.
    fn register(&self, key: &Keypair) -> Result<Uid, ChainError>;

    /// Announces where `key`'s node serves.
    ///
    /// # Errors
    /// [`ChainError::NotRegistered`], or an I/O failure.
    fn serve_axon(&self, key: &Keypair, axon: &str) -> Result<(), ChainError>;

    /// Sets `key`'s weights over uids, tagged with `version`.
    ///
    /// # Errors
    /// [`ChainError::NotRegistered`], [`ChainError::BadWeights`], or an I/O failure.
    fn set_weights(
        &self,
        key: &Keypair,
        weights: &[(Uid, f32)],
        version: u64,
    ) -> Result<(), ChainError>;

    /// Stake behind a hotkey (0 for an unknown one).
    ///
    /// # Errors
    /// [`ChainError`] if the chain cannot be read.
    fn stake_of(&self, hotkey: &str) -> Result<f64, ChainError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn neuron(uid: Uid, stake: f64) -> Neuron {
        Neuron {
            uid,
            hotkey: format!("h{uid}"),
            axon: None,
            stake,
            registered_ms: 0,
            last_update_ms: 0,
        }
    }

    fn weights(validator: Uid, w: &[(Uid, f32)]) -> WeightSet {
        WeightSet {
            validator,
            version: 1,
            timestamp_ms: 0,
            weights: w.to_vec(),
        }
    }

    #[test]
    fn mean_weight_is_stake_weighted() {
        let mut graph = Metagraph {
            neurons: vec![
                neuron(0, 0.0),
                neuron(1, 0.0),
                neuron(2, 3.0),
                neuron(3, 1.0),
            ],
            weights: vec![weights(2, &[(0, 1.0)]), weights(3, &[(0, 0.5), (1, 0.5)])],
            ..Metagraph::default()
        };
        assert!((graph.mean_weight(0) - 0.875).abs() < 1e-9);
        assert!((graph.mean_weight(1) - 0.125).abs() < 1e-9);
        graph.neurons[2].stake = 0.0;
        graph.neurons[3].stake = 0.0;
        assert!(
            (graph.mean_weight(0) - 0.75).abs() < 1e-9,
            "plain mean without stake"
        );
        graph.weights.clear();
        assert_eq!(graph.mean_weight(0), 0.0);
    }
}
