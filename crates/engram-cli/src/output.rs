//! Printing results for people (default) or programs (`--json`).

use engram_store::{Hit, Record};
use serde_json::{Value, json};

/// A record as JSON, with the vector when asked.
pub(crate) fn record_json(r: &Record, with_vector: bool) -> Value {
    let mut v = json!({
        "cid": r.cid,
        "namespace": r.namespace,
        "metadata": r.metadata,
        "model_version": r.model_version,
        "created_ms": r.created_ms,
        "text": r.text,
    });
    if with_vector {
        v["embedding"] = json!(r.vector);
    }
    v
}

/// A search hit as JSON (the wire protocol's result fields plus text and namespace).
pub(crate) fn hit_json(h: &Hit) -> Value {
    json!({
        "cid": h.record.cid,
        "score": h.score,
        "metadata": h.record.metadata,
        "text": h.record.text,
        "namespace": h.record.namespace,
    })
}

/// One line per hit: rank, score, CID, text, metadata.
pub(crate) fn print_hits(hits: &[Hit]) {
    if hits.is_empty() {
        println!("no memories found");
        return;
    }
    for (i, h) in hits.iter().enumerate() {
        let text = h.record.text.as_deref().unwrap_or("(no text)");
        let text = if text.chars().count() > 120 {
            format!("{}…", text.chars().take(119).collect::<String>())
        } else {
            text.to_string()
        };
        let meta = if h.record.metadata.is_empty() {
            String::new()
        } else {
            format!("  {}", Value::Object(h.record.metadata.clone()))
        };
        println!(
            "{:>3}  {:.4}  {}  {}{}",
            i + 1,
            h.score,
            h.record.cid,
            text.replace('\n', " "),
            meta
        );
    }
}

/// Human-readable byte count.
pub(crate) fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// Prints a JSON value on one line.
pub(crate) fn print_json(v: &Value) {
    println!("{v}");
}
