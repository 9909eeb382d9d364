//! Trust tiers: how much stake stands behind a namespace's owner (DESIGN §5).
//!
//! Engram judges no content. A namespace's owner may attest it, binding it publicly to a
//! hotkey; the hotkey's stake on the subnet then puts every memory of the namespace in a
//! tier that readers can filter on. Stake is the cost of lying: a tier says how much an
//! owner would lose if slashed or unstaked, not that the content is true.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::CoreError;

/// Least stake for [`TrustTier::Sovereign`].
pub const SOVEREIGN_STAKE: f64 = 1000.0;
/// Least stake for [`TrustTier::Verified`].
pub const VERIFIED_STAKE: f64 = 100.0;
/// Least stake for [`TrustTier::Community`].
pub const COMMUNITY_STAKE: f64 = 1.0;

/// A namespace owner's tier, ordered from least to most trusted.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum TrustTier {
    /// Unattested, or under [`COMMUNITY_STAKE`].
    #[default]
    Anonymous,
    /// At least [`COMMUNITY_STAKE`].
    Community,
    /// At least [`VERIFIED_STAKE`].
    Verified,
    /// At least [`SOVEREIGN_STAKE`].
    Sovereign,
}

impl TrustTier {
    /// Every tier, least trusted first.
    pub const ALL: [TrustTier; 4] = [
        TrustTier::Anonymous,
        TrustTier::Community,
        TrustTier::Verified,
        TrustTier::Sovereign,
    ];

    /// The tier `stake` buys (NaN and negative stake buy nothing).
    pub fn from_stake(stake: f64) -> Self {
        if stake >= SOVEREIGN_STAKE {
            Self::Sovereign
        } else if stake >= VERIFIED_STAKE {
            Self::Verified
        } else if stake >= COMMUNITY_STAKE {
            Self::Community
        } else {
            Self::Anonymous
        }
    }

    /// Whether results of a namespace at this tier pass a query's `min_trust_tier`
    /// (no minimum passes everything).
    pub fn meets(self, min: Option<TrustTier>) -> bool {
        min.is_none_or(|min| self >= min)
    }

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Anonymous => "anonymous",
            Self::Community => "community",
            Self::Verified => "verified",
            Self::Sovereign => "sovereign",
        }
    }
}

impl fmt::Display for TrustTier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TrustTier {
    type Err = CoreError;

    fn from_str(s: &str) -> Result<Self, CoreError> {
        Self::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| CoreError::UnknownTier(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_are_inclusive_and_order_follows_trust() {
        let cases = [
            (f64::NAN, TrustTier::Anonymous),
            (-5.0, TrustTier::Anonymous),
            (0.999, TrustTier::Anonymous),
            (1.0, TrustTier::Community),
            (99.99, TrustTier::Community),
            (100.0, TrustTier::Verified),
            (999.0, TrustTier::Verified),
            (1000.0, TrustTier::Sovereign),
            (f64::INFINITY, TrustTier::Sovereign),
        ];
        for (stake, tier) in cases {
            assert_eq!(TrustTier::from_stake(stake), tier, "stake {stake}");
        }
        assert!(TrustTier::Sovereign > TrustTier::Verified);
        assert!(TrustTier::Community > TrustTier::Anonymous);
    }

    #[test]
    fn names_round_trip_and_unknown_names_are_refused() {
        for t in TrustTier::ALL {
            assert_eq!(t.to_string().parse::<TrustTier>().unwrap(), t);
            assert_eq!(
                serde_json::to_string(&t).unwrap(),
                format!("\"{}\"", t.as_str())
            );
        }
        assert!("gold".parse::<TrustTier>().is_err());
        assert!(serde_json::from_str::<TrustTier>("\"Verified\"").is_err());
    }
}
