//! A block-style YAML writer for JSON values, enough for an SDL.
//!
//! No YAML crate is needed to *write* a manifest: every string is written double-quoted in
//! JSON's escaping, which YAML's double-quoted scalars accept as is, so no value can be
//! misread (a hotkey as a number, `no` as false); maps and lists are written in block style
//! so the file reads like the SDL examples Akash publishes.

use serde_json::Value;

/// `value` as a YAML document.
pub(crate) fn to_yaml(value: &Value) -> String {
    let mut out = String::from("---\n");
    block(value, 0, &mut out);
    out
}

fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::Null => Some("null".into()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) => Some(Value::String(s.clone()).to_string()),
        Value::Array(a) if a.is_empty() => Some("[]".into()),
        Value::Object(m) if m.is_empty() => Some("{}".into()),
        _ => None,
    }
}

fn key(k: &str) -> String {
    if !k.is_empty()
        && k.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        k.to_string()
    } else {
        Value::String(k.to_string()).to_string()
    }
}

fn block(value: &Value, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                match scalar(v) {
                    Some(s) => out.push_str(&format!("{pad}{}: {s}\n", key(k))),
                    None => {
                        out.push_str(&format!("{pad}{}:\n", key(k)));
                        block(v, indent + 2, out);
                    }
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                match scalar(item) {
                    Some(s) => out.push_str(&format!("{pad}- {s}\n")),
                    None => {
                        // The item written two deeper, its first line's indent replaced by
                        // the dash.
                        let mut inner = String::new();
                        block(item, indent + 2, &mut inner);
                        out.push_str(&pad);
                        out.push_str("- ");
                        out.push_str(&inner[indent + 2..]);
                    }
                }
            }
        }
        other => {
            out.push_str(&pad);
            out.push_str(&scalar(other).unwrap_or_default());
            out.push('\n');
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn maps_lists_and_quoted_strings() {
        let v = json!({"version": "2.0", "a": {"b": [1, {"c": "no", "d": []}], "e": {}},
            "odd key": "say \"hi\"\n"});
        assert_eq!(
            to_yaml(&v),
            "---\nversion: \"2.0\"\na:\n  b:\n    - 1\n    - c: \"no\"\n      d: []\n  e: {}\n\"odd key\": \"say \\\"hi\\\"\\n\"\n"
        );
    }
}
