//! Yuma Consensus: how a subnet turns its validators' weights into miners' incentive and
//! validators' dividends, once per epoch.
//!
//! One validator's weights say what it measured; the network pays what a stake majority
//! agrees on. This is Bittensor's default ("original Yuma", subtensor's sparse
//! `epoch_mechanism` in `pallets/subtensor/src/epoch/run_epoch.rs`, formulas in its
//! `docs/consensus.md`), in f64 on dense matrices (a devnet has a handful of uids):
//!
//! 1. S = stake of validators with a permit, normalized; W = weights with rows of
//!    validators without a permit and self-weights removed, each row normalized.
//! 2. Consensus C_j = max{ w : Σ_i S_i·[W_ij ≥ w] ≥ κ } (stake-weighted κ-median, κ =
//!    32767/65535, a missing weight counting as 0).
//! 3. Clipping W̄ = min(W, C): weight above what the majority gave earns nothing.
//! 4. Incentive I = normalize(Σ_i S_i·W̄_ij); validator trust T_i = Σ_j W̄_ij.
//! 5. Bonds ΔB = colnorm(S ⊙ W̃) with W̃ = W + β(W̄ − W) (β = 1: W̃ = W̄);
//!    B = colnorm(α·ΔB + (1−α)·colnorm(B_prev)), α = 0.1.
//! 6. Dividends D = normalize(B·I).
//! 7. Emission E splits E·I_j/(ΣI+ΣD) to miners and E·D_i/(ΣI+ΣD) to validators (half each
//!    when both exist); with no usable weights, validators share E by stake.
//!
//! What is left out, and why: subtensor's fixed-point rounding (≈1e-9), u16 storage
//! quantization, permits by top-k stake lagging an epoch (every staked validator of a
//! devnet holds one), and the chain-level owner cut and root split, which a devnet has no
//! owner or root for. Activity is the caller's: the devnet registry gives a permit only to
//! staked validators whose weights are fresh (`ACTIVITY_CUTOFF_MS`).

use serde::{Deserialize, Serialize};

/// The consensus parameters, subtensor's defaults by [`Default`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Params {
    /// κ: the share of stake that decides consensus.
    pub kappa: f64,
    /// α: how fast bonds follow new weights.
    pub bond_alpha: f64,
    /// β: how much of the clipped-away weight bonds lose.
    pub bonds_penalty: f64,
}

impl Default for Params {
    fn default() -> Self {
        Self {
            kappa: 32_767.0 / 65_535.0,
            bond_alpha: 0.1,
            bonds_penalty: 1.0,
        }
    }
}

/// What one epoch computed, per uid.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Epoch {
    /// The stake that counted: validators' stake, normalized.
    pub active_stake: Vec<f64>,
    /// C: the consensus weight of each uid.
    pub consensus: Vec<f64>,
    /// I: each uid's share of the miners' emission.
    pub incentive: Vec<f64>,
    /// T: how much of each validator's weight survived clipping.
    pub validator_trust: Vec<f64>,
    /// D: each uid's share of the validators' emission.
    pub dividends: Vec<f64>,
    /// B: bonds, `bonds[i][j]` of validator i in miner j (columns sum to 1).
    pub bonds: Vec<Vec<f64>>,
    /// Emission earned as a miner.
    pub miner_emission: Vec<f64>,
    /// Emission earned as a validator.
    pub validator_emission: Vec<f64>,
}

impl Epoch {
    /// What `uid` earned in this epoch, as a miner and as a validator (`None` for a uid the
    /// epoch did not know).
    pub fn earned(&self, uid: usize) -> Option<f64> {
        Some(self.miner_emission.get(uid)? + self.validator_emission.get(uid)?)
    }
}

fn normalize(v: &mut [f64]) {
    let sum: f64 = v.iter().sum();
    if sum > 0.0 {
        v.iter_mut().for_each(|x| *x /= sum);
    }
}

fn col_normalize(m: &mut [Vec<f64>]) {
    let n = m.first().map_or(0, Vec::len);
    for j in 0..n {
        let sum: f64 = m.iter().map(|row| row[j]).sum();
        if sum > 0.0 {
            m.iter_mut().for_each(|row| row[j] /= sum);
        }
    }
}

/// C_j for one column: the largest weight that validators holding at least κ of the stake
/// gave at least.
fn kappa_median(stake: &[f64], column: &[f64], kappa: f64) -> f64 {
    let mut values: Vec<f64> = column
        .iter()
        .zip(stake)
        .filter(|(_, s)| **s > 0.0)
        .map(|(w, _)| *w)
        .collect();
    values.sort_by(|a, b| b.total_cmp(a));
    values.dedup();
    values
        .into_iter()
        .find(|&w| {
            let backing: f64 = column
                .iter()
                .zip(stake)
                .filter(|(x, _)| **x >= w)
                .map(|(_, s)| s)
                .sum();
            backing >= kappa
        })
        .unwrap_or(0.0)
}

/// One epoch over `n` uids: `stake[i]`, `permit[i]` (may set weights that count),
/// `weights[i]` (validator i's raw weights over every uid, any scale), `prev_bonds` (the
/// last epoch's, or empty), distributing `emission`.
///
/// # Panics
/// When the vectors' lengths disagree (a caller's bug).
pub fn epoch(
    stake: &[f64],
    permit: &[bool],
    weights: &[Vec<f64>],
    prev_bonds: &[Vec<f64>],
    emission: f64,
    params: Params,
) -> Epoch {
    let n = stake.len();
    assert!(permit.len() == n && weights.len() == n, "one entry per uid");
    let mut s: Vec<f64> = stake
        .iter()
        .zip(permit)
        .map(|(s, p)| if *p && *s > 0.0 { *s } else { 0.0 })
        .collect();
    normalize(&mut s);

    let mut w: Vec<Vec<f64>> = weights
        .iter()
        .enumerate()
        .map(|(i, row)| {
            assert_eq!(row.len(), n, "a weight per uid");
            let mut row: Vec<f64> = if permit[i] {
                row.iter().map(|x| x.max(0.0)).collect()
            } else {
                vec![0.0; n]
            };
            row[i] = 0.0;
            normalize(&mut row);
            row
        })
        .collect();

    let consensus: Vec<f64> = (0..n)
        .map(|j| {
            let column: Vec<f64> = w.iter().map(|row| row[j]).collect();
            kappa_median(&s, &column, params.kappa)
        })
        .collect();
    let clipped: Vec<Vec<f64>> = w
        .iter()
        .map(|row| row.iter().zip(&consensus).map(|(x, c)| x.min(*c)).collect())
        .collect();
    let validator_trust: Vec<f64> = clipped.iter().map(|row| row.iter().sum()).collect();
    let mut incentive: Vec<f64> = (0..n)
        .map(|j| (0..n).map(|i| s[i] * clipped[i][j]).sum())
        .collect();
    normalize(&mut incentive);

    // Bonds: weights for bonds are W interpolated toward W̄ by β.
    for (row, clip) in w.iter_mut().zip(&clipped) {
        for (x, c) in row.iter_mut().zip(clip) {
            *x += params.bonds_penalty * (c - *x);
        }
    }
    let mut delta: Vec<Vec<f64>> = w
        .iter()
        .zip(&s)
        .map(|(row, si)| row.iter().map(|x| si * x).collect())
        .collect();
    col_normalize(&mut delta);
    let mut prev: Vec<Vec<f64>> =
        if prev_bonds.len() == n && prev_bonds.iter().all(|r| r.len() == n) {
            prev_bonds.to_vec()
        } else {
            vec![vec![0.0; n]; n]
        };
    col_normalize(&mut prev);
    let mut bonds: Vec<Vec<f64>> = delta
        .iter()
        .zip(&prev)
        .map(|(d, p)| {
            d.iter()
                .zip(p)
                .map(|(d, p)| params.bond_alpha * d + (1.0 - params.bond_alpha) * p)
                .collect()
        })
        .collect();
    col_normalize(&mut bonds);

    let mut dividends: Vec<f64> = bonds
        .iter()
        .map(|row| row.iter().zip(&incentive).map(|(b, i)| b * i).sum())
        .collect();
    normalize(&mut dividends);

    let total: f64 = incentive.iter().sum::<f64>() + dividends.iter().sum::<f64>();
    let (miner_emission, validator_emission) = if total > 0.0 {
        (
            incentive.iter().map(|i| emission * i / total).collect(),
            dividends.iter().map(|d| emission * d / total).collect(),
        )
    } else {
        (vec![0.0; n], s.iter().map(|x| emission * x).collect())
    };
    Epoch {
        active_stake: s,
        consensus,
        incentive,
        validator_trust,
        dividends,
        bonds,
        miner_emission,
        validator_emission,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: &[f64], b: &[f64]) {
        assert_eq!(a.len(), b.len());
        for (x, y) in a.iter().zip(b) {
            assert!((x - y).abs() < 1e-6, "{a:?} != {b:?}");
        }
    }

    /// uids 0–2 miners, 3–5 validators with 100 stake each; `v5` is the third validator's
    /// weights on the miners.
    fn run(v5: [f64; 3], stakes: [f64; 3]) -> Epoch {
        let mut stake = vec![0.0; 6];
        stake[3..].copy_from_slice(&stakes);
        let permit = [false, false, false, true, true, true];
        let mut weights = vec![vec![0.0; 6]; 6];
        weights[3][..3].copy_from_slice(&[0.5, 0.5, 0.0]);
        weights[4][..3].copy_from_slice(&[0.5, 0.5, 0.0]);
        weights[5][..3].copy_from_slice(&v5);
        epoch(&stake, &permit, &weights, &[], 1.0, Params::default())
    }

    #[test]
    fn a_validator_favouring_its_own_miner_is_clipped_and_earns_less() {
        // The worked example of docs/validator.md (subtensor's epoch by hand).
        let e = run([0.1, 0.1, 0.8], [100.0; 3]);
        close(&e.consensus[..3], &[0.5, 0.5, 0.0]);
        close(&e.validator_trust[3..], &[1.0, 1.0, 0.2]);
        close(&e.incentive[..3], &[0.5, 0.5, 0.0]);
        close(&e.dividends[3..], &[0.454_545, 0.454_545, 0.090_909]);
        close(&e.miner_emission[..3], &[0.25, 0.25, 0.0]);
        close(
            &e.validator_emission[3..],
            &[0.227_273, 0.227_273, 0.045_455],
        );
        let total: f64 = e.miner_emission.iter().chain(&e.validator_emission).sum();
        assert!((total - 1.0).abs() < 1e-12);
        // The next epoch with the same weights: the same split (bonds are at their fixed
        // point at once).
        let again = epoch(
            &[0.0, 0.0, 0.0, 100.0, 100.0, 100.0],
            &[false, false, false, true, true, true],
            &[
                vec![0.0; 6],
                vec![0.0; 6],
                vec![0.0; 6],
                vec![0.5, 0.5, 0.0, 0.0, 0.0, 0.0],
                vec![0.5, 0.5, 0.0, 0.0, 0.0, 0.0],
                vec![0.1, 0.1, 0.8, 0.0, 0.0, 0.0],
            ],
            &e.bonds,
            1.0,
            Params::default(),
        );
        close(&again.validator_emission, &e.validator_emission);
    }

    #[test]
    fn overweighting_a_good_miner_and_a_dishonest_majority() {
        let e = run([0.9, 0.1, 0.0], [100.0; 3]);
        close(&e.incentive[..3], &[0.576_923, 0.423_077, 0.0]);
        close(&e.dividends[3..], &[0.384_615, 0.384_615, 0.230_769]);
        // 60 % of stake sets consensus: Yuma is as honest as its stake majority.
        let e = run([0.1, 0.1, 0.8], [100.0, 100.0, 300.0]);
        close(&e.consensus[..3], &[0.1, 0.1, 0.8]);
        close(&e.incentive[..3], &[0.147_059, 0.147_059, 0.705_882]);
    }

    #[test]
    fn no_weights_pays_validators_by_stake_and_self_weight_is_ignored() {
        let stake = [0.0, 30.0, 10.0];
        let permit = [false, true, true];
        let weights = vec![vec![0.0, 0.0, 0.0], vec![0.0, 1.0, 0.0], vec![0.0; 3]];
        let e = epoch(&stake, &permit, &weights, &[], 2.0, Params::default());
        close(&e.incentive, &[0.0, 0.0, 0.0]);
        close(&e.validator_emission, &[0.0, 1.5, 0.5]);
        close(&e.miner_emission, &[0.0, 0.0, 0.0]);
    }
}
