//! Reading what the user hands over: ingest files, vector records, filters, metadata.
//! Everything is parsed and checked before anything is stored, and errors name the line.

use std::io::Read;
use std::path::Path;

use anyhow::{Context, Result, anyhow, bail};
use engram_client::NewText;
use engram_core::{DEFAULT_MODEL_VERSION, validate_metadata, validate_text};
use engram_engine::VectorItem;
use serde::Deserialize;
use serde_json::Value;

use crate::UsageError;
use crate::args::FileFormat;

/// Reads a file, or stdin for `-`.
pub(crate) fn read_source(path: &Path) -> Result<String> {
    if path == Path::new("-") {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .context("reading stdin")?;
        Ok(s)
    } else {
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonlLine {
    text: String,
    #[serde(default)]
    metadata: Value,
}

/// Parses an ingest file into items, checking every line; the first bad line is an error
/// naming its number, and then nothing is ingested.
pub(crate) fn parse_ingest_file(
    content: &str,
    format: FileFormat,
    namespace: Option<&str>,
) -> Result<Vec<NewText>> {
    let jsonl = match format {
        FileFormat::Jsonl => true,
        FileFormat::Text => false,
        FileFormat::Auto => content
            .lines()
            .find(|l| !l.trim().is_empty())
            .is_some_and(|l| l.trim_start().starts_with('{')),
    };
    let mut items = Vec::new();
    for (i, line) in content.lines().enumerate() {
        let n = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        let (text, metadata) = if jsonl {
            let parsed: JsonlLine = serde_json::from_str(line).map_err(|e| {
                anyhow!("line {n}: not a valid record ({{\"text\": …, \"metadata\"?: {{…}}}}): {e}")
            })?;
            (parsed.text, parsed.metadata)
        } else {
            (line.trim_end_matches('\r').to_string(), Value::Null)
        };
        validate_text(&text).map_err(|e| anyhow!("line {n}: {e}"))?;
        validate_metadata(&metadata).map_err(|e| anyhow!("line {n}: {e}"))?;
        items.push(NewText {
            text,
            metadata,
            namespace: namespace.map(str::to_string),
            expires_ms: None,
        });
    }
    if items.is_empty() {
        bail!("the file holds no memories");
    }
    Ok(items)
}

#[derive(Deserialize)]
struct VectorRecord {
    embedding: Vec<Value>,
    #[serde(default)]
    metadata: Value,
    #[serde(default)]
    model_version: Option<String>,
    #[serde(default)]
    text: Option<String>,
}

/// Parses a JSON record with `embedding`, `metadata`, `model_version`. Values are taken as
/// f32 exactly as JSON numbers parse; anything else is an error naming the index.
pub(crate) fn parse_vector_record(content: &str, namespace: Option<&str>) -> Result<VectorItem> {
    let rec: VectorRecord = serde_json::from_str(content).context(
        "not a valid vector record ({\"embedding\": [...], \"metadata\"?, \"model_version\"?})",
    )?;
    let embedding = rec
        .embedding
        .iter()
        .enumerate()
        .map(|(i, v)| {
            v.as_f64()
                .map(|x| x as f32)
                .ok_or_else(|| anyhow!("embedding[{i}] is not a number"))
        })
        .collect::<Result<Vec<f32>>>()?;
    Ok(VectorItem {
        embedding,
        metadata: rec.metadata,
        model_version: rec
            .model_version
            .unwrap_or_else(|| DEFAULT_MODEL_VERSION.to_string()),
        namespace: namespace.map(str::to_string),
        text: rec.text,
        expires_ms: None,
    })
}

/// Parses `KEY=VALUE` filters: VALUE as JSON when it is a number or boolean, else a string.
pub(crate) fn parse_filters(raw: &[String]) -> Result<Vec<(String, Value)>> {
    raw.iter()
        .map(|f| {
            let (k, v) = f
                .split_once('=')
                .filter(|(k, _)| !k.is_empty())
                .ok_or_else(|| UsageError(format!("filter {f:?} is not KEY=VALUE")))?;
            let value = match serde_json::from_str::<Value>(v) {
                Ok(j @ (Value::Bool(_) | Value::Number(_))) => j,
                _ => Value::String(v.to_string()),
            };
            Ok((k.to_string(), value))
        })
        .collect()
}

/// Parses `--metadata` as a JSON object.
pub(crate) fn parse_metadata_arg(raw: Option<&str>) -> Result<Value> {
    match raw {
        None => Ok(Value::Null),
        Some(s) => {
            let v: Value = serde_json::from_str(s)
                .map_err(|e| UsageError(format!("--metadata is not valid JSON: {e}")))?;
            validate_metadata(&v)?;
            Ok(v)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jsonl_errors_name_the_line() {
        let content = "{\"text\": \"ok\"}\n\n{\"text\": \"\"}\n";
        let err = parse_ingest_file(content, FileFormat::Auto, None).unwrap_err();
        assert!(err.to_string().starts_with("line 3:"), "{err}");
        let err =
            parse_ingest_file("{\"text\": \"a\"}\n{broken\n", FileFormat::Auto, None).unwrap_err();
        assert!(err.to_string().starts_with("line 2:"), "{err}");
        let long = format!("{{\"text\": \"{}\"}}", "x".repeat(8193));
        let err = parse_ingest_file(&long, FileFormat::Jsonl, None).unwrap_err();
        assert!(err.to_string().contains("8192"), "{err}");
    }

    #[test]
    fn plain_text_is_one_memory_per_line() {
        let items = parse_ingest_file("first\n\nsecond\r\n", FileFormat::Auto, Some("ns")).unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!(items[1].text, "second");
        assert_eq!(items[0].namespace.as_deref(), Some("ns"));
    }

    #[test]
    fn filters_parse_typed_values() {
        let f = parse_filters(&["a=1".into(), "b=true".into(), "c=x=y".into()]).unwrap();
        assert_eq!(f[0].1, serde_json::json!(1));
        assert_eq!(f[1].1, serde_json::json!(true));
        assert_eq!(f[2], ("c".to_string(), serde_json::json!("x=y")));
        assert!(parse_filters(&["novalue".into()]).is_err());
    }
}
