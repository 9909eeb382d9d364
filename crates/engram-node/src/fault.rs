//! Deliberate misbehaviour, for testing that validators catch it.
//!
//! Compiled in only with the `fault-injection` feature, which the workspace's tests enable
//! (a release build refuses `ENGRAM_FAULT`: production handlers carry no fault branches).
//! Set only through `ENGRAM_FAULT` (never the config file), and logged loudly at start:
//! `drop-half` acknowledges every ingest but silently keeps only the CIDs whose key is
//! even; `hash-only` behaves as a node that kept embedding hashes and threw the vectors
//! away (proof v1 still answers, proof v2, retrieval and queries cannot); `delay-ms=N`
//! answers queries N ms late; `tamper` serves every retrieved record with its first
//! embedding value changed and every shard with its first byte flipped (what a lying or
//! corrupted node serves: the web app's CID page must show it red, readers and validators
//! must refuse it); `lie-list` answers `POST /list` with CIDs it does not hold (each
//! listed CID replaced by another), which the validator's list audit must catch.

use std::str::FromStr;

use engram_core::Cid;
use engram_core::dht::cid_key;

/// A deliberate fault, or none.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Fault {
    /// An honest node.
    #[default]
    None,
    /// Keeps only half of what it acknowledges.
    DropHalf,
    /// Keeps embedding hashes only.
    HashOnly,
    /// Answers queries late by this many milliseconds.
    DelayMs(u64),
    /// Serves retrieved records and shards altered.
    Tamper,
    /// Lists memories it does not hold.
    LieList,
}

/// Why `ENGRAM_FAULT` was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FaultError {
    /// Not a fault this node knows.
    #[error("unknown fault {0:?}: use drop-half, hash-only, tamper, lie-list or delay-ms=N")]
    Unknown(String),
    /// A fault in a build without the `fault-injection` feature.
    #[error("ENGRAM_FAULT={0} needs a build with the test-only `fault-injection` feature")]
    NotBuilt(String),
}

impl FromStr for Fault {
    type Err = FaultError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "" | "none" => Ok(Self::None),
            "drop-half" => Ok(Self::DropHalf),
            "hash-only" => Ok(Self::HashOnly),
            "tamper" => Ok(Self::Tamper),
            "lie-list" => Ok(Self::LieList),
            _ => s
                .strip_prefix("delay-ms=")
                .and_then(|n| n.parse().ok())
                .map(Self::DelayMs)
                .ok_or_else(|| FaultError::Unknown(s.to_string())),
        }
    }
}

/// Whether this build can misbehave on purpose (the `fault-injection` feature).
pub const FAULT_INJECTION: bool = cfg!(feature = "fault-injection");

impl Fault {
    /// The fault `ENGRAM_FAULT` names ([`Fault::None`] when unset or empty).
    ///
    /// # Errors
    /// An unknown fault, or any fault in a build without fault injection.
    pub fn from_env() -> Result<Fault, FaultError> {
        let raw = std::env::var("ENGRAM_FAULT").unwrap_or_default();
        let fault: Fault = raw.parse()?;
        if fault != Fault::None && !FAULT_INJECTION {
            return Err(FaultError::NotBuilt(raw));
        }
        Ok(fault)
    }

    /// Whether this node silently discards `cid` instead of storing it.
    pub(crate) fn discards(self, cid: &Cid) -> bool {
        self == Self::DropHalf && cid_key(&cid.to_string())[31] & 1 == 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_fault_and_refuses_others() {
        assert_eq!("drop-half".parse(), Ok(Fault::DropHalf));
        assert_eq!("hash-only".parse(), Ok(Fault::HashOnly));
        assert_eq!("tamper".parse(), Ok(Fault::Tamper));
        assert_eq!("lie-list".parse(), Ok(Fault::LieList));
        assert_eq!("delay-ms=250".parse(), Ok(Fault::DelayMs(250)));
        assert_eq!("".parse(), Ok(Fault::None));
        assert!("delay-ms=x".parse::<Fault>().is_err());
        assert!("lie".parse::<Fault>().is_err());
    }
}
