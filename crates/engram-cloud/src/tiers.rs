//! What a cloud miner may be: three sizes, as the original gateway sells them.
//!
//! Resources are the original's (`engram/cloud/akash_sdl.py`): 1 vCPU / 2 GiB, 2 / 4 and
//! 4 / 8, with 10, 20 and 40 GiB of persistent storage. Prices are per hour in USDC's
//! smallest unit (6 decimals), what the gateway asks through x402; the Akash bid is the
//! most the deployment pays a provider per block, in uakt.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::CloudError;

/// A miner size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    /// 1 vCPU, 2 GiB: a small share of the network's load.
    Lite,
    /// 2 vCPU, 4 GiB: the recommended size.
    Standard,
    /// 4 vCPU, 8 GiB: embedding-heavy load.
    Pro,
}

/// The resources and prices of a tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Spec {
    /// The tier.
    pub tier: Tier,
    /// CPU in thousandths of a vCPU.
    pub cpu_millis: u32,
    /// Memory in MiB.
    pub memory_mib: u32,
    /// Persistent storage for the data directory, in GiB.
    pub storage_gib: u32,
    /// Price per hour in USDC micro-units (1 USDC = 1,000,000).
    pub usdc_micros_per_hour: u64,
    /// Highest Akash bid per block, in uakt.
    pub bid_uakt_per_block: u32,
}

impl Tier {
    /// Every tier, smallest first.
    pub const ALL: [Tier; 3] = [Tier::Lite, Tier::Standard, Tier::Pro];

    /// Its resources and prices.
    pub fn spec(self) -> Spec {
        let (cpu_millis, memory_mib, storage_gib, usdc_micros_per_hour, bid_uakt_per_block) =
            match self {
                Tier::Lite => (1000, 2048, 10, 50_000, 1_000),
                Tier::Standard => (2000, 4096, 20, 100_000, 2_000),
                Tier::Pro => (4000, 8192, 40, 180_000, 4_000),
            };
        Spec {
            tier: self,
            cpu_millis,
            memory_mib,
            storage_gib,
            usdc_micros_per_hour,
            bid_uakt_per_block,
        }
    }

    /// The price of `hours` hours, in USDC micro-units.
    pub fn price(self, hours: u32) -> u128 {
        u128::from(self.spec().usdc_micros_per_hour) * u128::from(hours)
    }

    /// Its lowercase name.
    pub fn name(self) -> &'static str {
        match self {
            Tier::Lite => "lite",
            Tier::Standard => "standard",
            Tier::Pro => "pro",
        }
    }
}

impl fmt::Display for Tier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Tier {
    type Err = CloudError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Tier::ALL
            .into_iter()
            .find(|t| t.name() == s)
            .ok_or_else(|| CloudError::UnknownTier(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiers_parse_by_name_and_grow_in_every_resource() {
        for t in Tier::ALL {
            assert_eq!(t.name().parse::<Tier>().unwrap(), t);
        }
        assert!("Lite".parse::<Tier>().is_err());
        assert!("".parse::<Tier>().is_err());
        let specs: Vec<Spec> = Tier::ALL.into_iter().map(Tier::spec).collect();
        for w in specs.windows(2) {
            assert!(w[1].cpu_millis > w[0].cpu_millis);
            assert!(w[1].memory_mib > w[0].memory_mib);
            assert!(w[1].storage_gib > w[0].storage_gib);
            assert!(w[1].usdc_micros_per_hour > w[0].usdc_micros_per_hour);
        }
    }
}
