//! Canonical metadata JSON: the exact bytes a CID hashes after the vector.
//!
//! The rule is the original network's (DESIGN §4): every value rendered with Python's
//! `str()`, `model_version` forced to the record's version, keys sorted by UTF-8 bytes,
//! compact, raw UTF-8, escaping only `"`, `\` and control characters.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::error::CoreError;
use crate::limits::MAX_METADATA_BYTES;
use crate::pyrepr::py_str;

/// A record's metadata as the user sent it: a JSON object with typed values.
pub type Metadata = serde_json::Map<String, Value>;

/// The key every canonical map carries.
pub const MODEL_VERSION_KEY: &str = "model_version";

/// The string map that is hashed: values rendered as Python's `str()`, `model_version` set.
pub fn rendered_metadata(metadata: &Metadata, model_version: &str) -> BTreeMap<String, String> {
    let mut map: BTreeMap<String, String> = metadata
        .iter()
        .map(|(k, v)| (k.clone(), py_str(v)))
        .collect();
    map.insert(MODEL_VERSION_KEY.to_string(), model_version.to_string());
    map
}

/// The canonical JSON bytes of `metadata` under `model_version`.
pub fn canonical_metadata_json(metadata: &Metadata, model_version: &str) -> String {
    // BTreeMap<String, _> orders by byte-wise comparison of the UTF-8, as the spec asks.
    let map = rendered_metadata(metadata, model_version);
    let mut out = String::with_capacity(64);
    out.push('{');
    for (i, (k, v)) in map.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_json_string(&mut out, k);
        out.push(':');
        write_json_string(&mut out, v);
    }
    out.push('}');
    out
}

fn write_json_string(out: &mut String, s: &str) {
    crate::pyjson::write_json_string(out, s, false);
}

/// Checks a metadata value sent on the wire: an object (or null, meaning empty) whose
/// compact JSON is within [`MAX_METADATA_BYTES`].
///
/// # Errors
/// [`CoreError::MetadataNotObject`] or [`CoreError::MetadataTooLarge`].
pub fn validate_metadata(value: &Value) -> Result<Metadata, CoreError> {
    let map = match value {
        Value::Object(map) => map.clone(),
        Value::Null => Metadata::new(),
        _ => return Err(CoreError::MetadataNotObject),
    };
    let bytes = serde_json::to_vec(&map)
        .map(|v| v.len())
        .unwrap_or(usize::MAX);
    if bytes > MAX_METADATA_BYTES {
        return Err(CoreError::MetadataTooLarge {
            bytes,
            limit: MAX_METADATA_BYTES,
        });
    }
    Ok(map)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn escapes_only_what_the_spec_names() {
        let meta = json!({"q": "he said \"hi\" \\ /\n\t\u{1}\u{7f}", "é": "日本"});
        let Value::Object(meta) = meta else {
            unreachable!()
        };
        assert_eq!(
            canonical_metadata_json(&meta, "v1"),
            "{\"model_version\":\"v1\",\"q\":\"he said \\\"hi\\\" \\\\ /\\n\\t\\u0001\u{7f}\",\"é\":\"日本\"}"
        );
    }

    #[test]
    fn model_version_overrides_user_key() {
        let Value::Object(meta) = json!({"model_version": "evil"}) else {
            unreachable!()
        };
        assert_eq!(
            canonical_metadata_json(&meta, "v1"),
            "{\"model_version\":\"v1\"}"
        );
    }

    #[test]
    fn metadata_limits() {
        assert!(validate_metadata(&json!(null)).unwrap().is_empty());
        assert_eq!(
            validate_metadata(&json!([1])),
            Err(CoreError::MetadataNotObject)
        );
        let big = "x".repeat(MAX_METADATA_BYTES);
        assert!(matches!(
            validate_metadata(&json!({ "k": big })),
            Err(CoreError::MetadataTooLarge { .. })
        ));
        // exactly at the limit: {"k":"…"} is 8 bytes of framing
        let edge = "x".repeat(MAX_METADATA_BYTES - 8);
        assert!(validate_metadata(&json!({ "k": edge })).is_ok());
    }
}
