//! The scoring rules of DESIGN §5, as pure functions.
//!
//! composite = 0.50·recall@10 + 0.30·latency_score + 0.20·proof_success_rate; a node under
//! 50 % proof success gets weight 0; weights are composites normalized to sum 1.

/// Weight of recall@10 in the composite.
pub const W_RECALL: f64 = 0.50;
/// Weight of the latency score.
pub const W_LATENCY: f64 = 0.30;
/// Weight of the proof success rate.
pub const W_PROOF: f64 = 0.20;
/// Proof success below which a node's weight is 0.
pub const SLASH_BELOW: f64 = 0.50;

/// 1 at ≤ 100 ms, 0 at ≥ 500 ms, linear between.
pub fn latency_score(ms: f64) -> f64 {
    ((500.0 - ms) / 400.0).clamp(0.0, 1.0)
}

/// |returned ∩ truth| / min(k, |truth|); `None` when there is no truth to measure against.
pub fn recall_at_k(returned: &[String], truth: &[String], k: usize) -> Option<f64> {
    let denom = truth.len().min(k);
    if denom == 0 {
        return None;
    }
    let truth = &truth[..denom];
    let hits = returned
        .iter()
        .take(k)
        .filter(|c| truth.contains(c))
        .count();
    Some(hits as f64 / denom as f64)
}

/// The composite score, 0 when proof success is under [`SLASH_BELOW`].
pub fn composite(recall: f64, latency_score: f64, proof_rate: f64) -> f64 {
    if proof_rate < SLASH_BELOW {
        return 0.0;
    }
    W_RECALL * recall + W_LATENCY * latency_score + W_PROOF * proof_rate
}

/// Scores normalized to sum 1 (all zero stays all zero).
pub fn normalize(scores: &[f64]) -> Vec<f64> {
    let total: f64 = scores.iter().sum();
    if total <= 0.0 {
        return vec![0.0; scores.len()];
    }
    scores.iter().map(|s| s / total).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_published_formula() {
        assert_eq!(latency_score(50.0), 1.0);
        assert_eq!(latency_score(300.0), 0.5);
        assert_eq!(latency_score(900.0), 0.0);
        let c = |s: &str| s.to_string();
        let truth = [c("a"), c("b"), c("c"), c("d")];
        assert_eq!(
            recall_at_k(&[c("a"), c("x"), c("c")], &truth, 10),
            Some(0.5)
        );
        assert_eq!(recall_at_k(&[], &[], 10), None);
        assert!((composite(1.0, 1.0, 1.0) - 1.0).abs() < 1e-12);
        assert_eq!(composite(1.0, 1.0, 0.49), 0.0, "the 50 % slash");
        assert!((composite(1.0, 0.5, 1.0) - 0.85).abs() < 1e-12);
        assert_eq!(normalize(&[1.0, 3.0]), vec![0.25, 0.75]);
        assert_eq!(normalize(&[0.0, 0.0]), vec![0.0, 0.0]);
    }
}
