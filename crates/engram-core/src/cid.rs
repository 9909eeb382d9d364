//! Content identifiers.
//!
//! A memory is named by what it is, not where it lives: `v1::<hex>` hashes the exact
//! embedding bytes and canonical metadata, `sha256:<hex>` hashes a raw file. Both carry a
//! 32-byte SHA-256 digest; parsing accepts only the canonical lowercase form so that one
//! memory has exactly one spelling.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};

use crate::error::CoreError;

const V1_PREFIX: &str = "v1::";
const CONTENT_PREFIX: &str = "sha256:";

/// A content identifier: a memory (`v1`) or a raw blob (`content`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Cid {
    /// `v1::<sha256(f32 LE bytes ‖ canonical metadata JSON)>`.
    V1([u8; 32]),
    /// `sha256:<sha256(file bytes)>`.
    Content([u8; 32]),
}

impl Cid {
    /// The CID of a raw file's bytes.
    pub fn for_content(bytes: &[u8]) -> Self {
        Cid::Content(Sha256::digest(bytes).into())
    }

    /// The 32-byte digest the CID carries.
    pub fn digest(&self) -> &[u8; 32] {
        match self {
            Cid::V1(d) | Cid::Content(d) => d,
        }
    }

    /// The lowercase hex of the digest (what follows the prefix).
    pub fn digest_hex(&self) -> String {
        hex::encode(self.digest())
    }
}

fn parse_digest(hex_part: &str) -> Option<[u8; 32]> {
    if hex_part.len() != 64
        || !hex_part
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    {
        return None;
    }
    let mut out = [0u8; 32];
    hex::decode_to_slice(hex_part, &mut out).ok()?;
    Some(out)
}

impl FromStr for Cid {
    type Err = CoreError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let parsed = if let Some(rest) = s.strip_prefix(V1_PREFIX) {
            parse_digest(rest).map(Cid::V1)
        } else if let Some(rest) = s.strip_prefix(CONTENT_PREFIX) {
            parse_digest(rest).map(Cid::Content)
        } else {
            None
        };
        parsed.ok_or_else(|| CoreError::MalformedCid {
            input: s.chars().take(100).collect(),
        })
    }
}

impl fmt::Display for Cid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let prefix = match self {
            Cid::V1(_) => V1_PREFIX,
            Cid::Content(_) => CONTENT_PREFIX,
        };
        write!(f, "{prefix}{}", self.digest_hex())
    }
}

impl fmt::Debug for Cid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Cid({self})")
    }
}

impl Serialize for Cid {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Cid {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX: &str = "3c3e75f84ac9c36badda24563e6798c8127f5327062aaeb93e6bcdf4645f42c2";

    #[test]
    fn round_trips_both_kinds() {
        for s in [format!("v1::{HEX}"), format!("sha256:{HEX}")] {
            let cid: Cid = s.parse().unwrap();
            assert_eq!(cid.to_string(), s);
            let json = serde_json::to_string(&cid).unwrap();
            assert_eq!(serde_json::from_str::<Cid>(&json).unwrap(), cid);
        }
    }

    #[test]
    fn rejects_malformed() {
        let upper = format!("v1::{}", HEX.to_uppercase());
        let short = format!("v1::{}", &HEX[..63]);
        let long = format!("v1::{HEX}0");
        let nonhex = format!("v1::{}g", &HEX[..63]);
        let noprefix = HEX.to_string();
        let v2 = format!("v2::{HEX}");
        for bad in ["", "v1::", &upper, &short, &long, &nonhex, &noprefix, &v2] {
            assert!(
                matches!(bad.parse::<Cid>(), Err(CoreError::MalformedCid { .. })),
                "{bad:?} parsed"
            );
        }
    }

    #[test]
    fn content_cid_hashes_bytes() {
        assert_eq!(
            Cid::for_content(b"").to_string(),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
