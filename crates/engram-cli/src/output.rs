//! Printing results for people (default) or programs (`--json`).

use engram_client::api::QueryResult;
use serde_json::Value;

/// One line per hit: rank, score, CID, text, metadata.
pub(crate) fn print_hits(hits: &[QueryResult]) {
    if hits.is_empty() {
        println!("no memories found");
        return;
    }
    for (i, h) in hits.iter().enumerate() {
        let text = h.text.as_deref().unwrap_or("(no text)");
        let text = if text.chars().count() > 120 {
            format!("{}…", text.chars().take(119).collect::<String>())
        } else {
            text.to_string()
        };
        let meta = if h.metadata.is_empty() {
            String::new()
        } else {
            format!("  {}", Value::Object(h.metadata.clone()))
        };
        println!(
            "{:>3}  {:.4}  {}  {}{}",
            i + 1,
            h.score,
            h.cid,
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
