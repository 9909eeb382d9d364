//! Where a CID lives: Kademlia-style placement by XOR distance.
//!
//! Every client and node must agree, without talking, on which nodes hold a CID: the
//! [`REPLICATION`] nodes whose id is closest to the CID's key. A node's id is SHA-256 of
//! its SS58 hotkey (as UTF-8); a CID's key is SHA-256 of everything after its first `::`;
//! distance is the XOR of the two read as a big-endian integer. `tests/vectors/dht.json`
//! holds the original's placements.

use sha2::{Digest, Sha256};

/// Replicas per CID.
pub const REPLICATION: usize = 3;

/// A 256-bit id or key.
pub type Key = [u8; 32];

/// A node's id: SHA-256 of its SS58 hotkey string.
pub fn node_id(hotkey: &str) -> Key {
    Sha256::digest(hotkey.as_bytes()).into()
}

/// A CID's key: SHA-256 of everything after the first `::` (the whole string if none).
pub fn cid_key(cid: &str) -> Key {
    let rest = cid.split_once("::").map_or(cid, |(_, rest)| rest);
    Sha256::digest(rest.as_bytes()).into()
}

/// XOR distance; byte arrays compare as big-endian integers.
pub fn distance(a: &Key, b: &Key) -> Key {
    std::array::from_fn(|i| a[i] ^ b[i])
}

/// Indices of `hotkeys` ordered by distance from `cid`, nearest first.
pub fn by_distance<S: AsRef<str>>(cid: &str, hotkeys: &[S]) -> Vec<usize> {
    let key = cid_key(cid);
    let mut order: Vec<(Key, usize)> = hotkeys
        .iter()
        .enumerate()
        .map(|(i, h)| (distance(&key, &node_id(h.as_ref())), i))
        .collect();
    order.sort();
    order.into_iter().map(|(_, i)| i).collect()
}

/// Indices of the `r` hotkeys nearest `cid`: its replica set among these nodes.
pub fn replicas<S: AsRef<str>>(cid: &str, hotkeys: &[S], r: usize) -> Vec<usize> {
    let mut order = by_distance(cid, hotkeys);
    order.truncate(r);
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replica_sets_are_the_nearest_and_stable_under_reordering() {
        let hotkeys: Vec<String> = (0..8).map(|i| format!("node-{i}")).collect();
        let cid = "v1::00ff";
        let set = replicas(cid, &hotkeys, 3);
        assert_eq!(set.len(), 3);
        let mut reversed = hotkeys.clone();
        reversed.reverse();
        let again: Vec<&String> = replicas(cid, &reversed, 3)
            .into_iter()
            .map(|i| &reversed[i])
            .collect();
        let first: Vec<&String> = set.iter().map(|&i| &hotkeys[i]).collect();
        assert_eq!(first, again);
        assert_eq!(replicas(cid, &hotkeys[..2], 3).len(), 2);
    }
}
