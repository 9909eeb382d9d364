//! Conformance: every case the original network computed, matched byte for byte, plus
//! properties of the invariants the vectors cannot enumerate.

mod auth;
mod cid;
mod crypto;
mod dht;
mod keys;
mod merkle;
mod proof;
mod properties;
mod shamir;

use std::path::PathBuf;

use serde_json::Value;

/// Loads `tests/vectors/<name>`; a missing file fails the test, it is never skipped.
pub fn vectors(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/vectors")
        .join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("conformance vectors {} missing: {e}", path.display()));
    serde_json::from_str(&text).expect("vectors are JSON")
}

/// The cases of a vector file, asserting there are some.
pub fn cases<'a>(doc: &'a Value, key: &str) -> &'a [Value] {
    let cases = doc[key]
        .as_array()
        .unwrap_or_else(|| panic!("no `{key}` array"));
    assert!(!cases.is_empty(), "`{key}` is empty");
    cases
}

/// A JSON array of numbers as f32, each parsed exactly.
pub fn f32s(value: &Value) -> Vec<f32> {
    value
        .as_array()
        .expect("embedding array")
        .iter()
        .map(|x| x.as_f64().expect("number") as f32)
        .collect()
}

/// A 32-byte hex field.
pub fn hex32(value: &Value) -> [u8; 32] {
    let mut out = [0u8; 32];
    hex::decode_to_slice(value.as_str().expect("hex string"), &mut out).expect("32 hex bytes");
    out
}
