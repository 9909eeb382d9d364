//! Python's `json.dumps`, byte for byte: what the original's clients hash and encrypt.
//!
//! Signed requests hash `json.dumps(payload, sort_keys=True, separators=(',', ':'))`, and
//! encrypted memories carry `json.dumps({"text": …, "metadata": …})` with the default
//! separators. Both use `ensure_ascii` (every character outside space…`~` as `\uXXXX`,
//! astral characters as surrogate pairs) and Python's float `repr`.

use serde_json::Value;

use crate::pyrepr::number_repr;

/// How to lay out the output.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    /// Sort object keys (by code point, as Python sorts `str`).
    pub sort_keys: bool,
    /// `(',', ':')` when true, Python's default `(', ', ': ')` when false.
    pub compact: bool,
}

/// `json.dumps(value, sort_keys=…, separators=…)` with `ensure_ascii=True`.
pub fn dumps(value: &Value, style: Style) -> String {
    let mut out = String::new();
    write(&mut out, value, style);
    out
}

fn write(out: &mut String, value: &Value, style: Style) {
    let (item, key) = if style.compact {
        (",", ":")
    } else {
        (", ", ": ")
    };
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&number_repr(n)),
        Value::String(s) => write_str(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(item);
                }
                write(out, v, style);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            if style.sort_keys {
                // Python compares str by code point; UTF-16 order differs only for astral
                // characters, which Rust's UTF-8 byte order already sorts by code point.
                entries.sort_by(|a, b| a.0.cmp(b.0));
            }
            out.push('{');
            for (i, (k, v)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push_str(item);
                }
                write_str(out, k);
                out.push_str(key);
                write(out, v, style);
            }
            out.push('}');
        }
    }
}

fn write_str(out: &mut String, s: &str) {
    write_json_string(out, s, true);
}

/// A JSON string literal: `"`, `\\` and the named control escapes; other control
/// characters, and with `ensure_ascii` everything outside space…`~`, as `\uXXXX`
/// (astral characters as surrogate pairs). Without `ensure_ascii` non-ASCII stays raw UTF-8
/// (the canonical metadata JSON that CIDs hash).
pub(crate) fn write_json_string(out: &mut String, s: &str, ensure_ascii: bool) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            c if !ensure_ascii && (c as u32) >= 0x20 => out.push(c),
            _ => {
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{u:04x}"));
                }
            }
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn matches_python() {
        let v: Value = serde_json::from_str(
            r#"{"b": [1, 2.5, 1e-05, 1e16, -0.0, 123456789.0], "a": "é☃😀\u0001\"", "c": null, "d": true}"#,
        )
        .unwrap();
        let compact = Style {
            sort_keys: true,
            compact: true,
        };
        assert_eq!(
            dumps(&v, compact),
            r#"{"a":"\u00e9\u2603\ud83d\ude00\u0001\"","b":[1,2.5,1e-05,1e+16,-0.0,123456789.0],"c":null,"d":true}"#
        );
        let default = Style {
            sort_keys: false,
            compact: false,
        };
        assert_eq!(
            dumps(&json!({"text": "x", "metadata": {"k": [1, "y"]}}), default),
            r#"{"text": "x", "metadata": {"k": [1, "y"]}}"#
        );
    }
}
