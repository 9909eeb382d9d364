//! Fidelity: the embedder reproduces sentence-transformers on every reference case.
//!
//! Needs the model that setup fetches (`./setup.sh`); a missing model fails with the
//! setup hint rather than skipping, because an unchecked embedder mints wrong CIDs.

use std::path::PathBuf;
use std::sync::OnceLock;

use engram_core::cosine;
use engram_embed::resolve_model_dir;
use engram_embed::{EmbedError, Embedder};
use serde_json::Value;

fn embedder() -> &'static Embedder {
    static E: OnceLock<Embedder> = OnceLock::new();
    E.get_or_init(|| {
        let dir = resolve_model_dir(None);
        Embedder::load(&dir).unwrap_or_else(|e| panic!("{e}"))
    })
}

fn reference() -> Vec<(String, Vec<f32>)> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../engram-core/tests/vectors/embeddings.json");
    let doc: Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("embeddings.json present"))
            .unwrap();
    doc["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let v = c["embedding"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap() as f32)
                .collect();
            (c["text"].as_str().unwrap().to_string(), v)
        })
        .collect()
}

#[test]
fn every_reference_vector_is_reproduced_in_a_batch() {
    let cases = reference();
    assert!(cases.len() >= 100, "reference set is complete");
    let texts: Vec<&str> = cases.iter().map(|(t, _)| t.as_str()).collect();
    let got = embedder().embed_batch(&texts).unwrap();
    let mut worst = 1.0f32;
    for ((text, want), v) in cases.iter().zip(&got) {
        assert_eq!(v.len(), 384);
        let c = cosine(v, want);
        worst = worst.min(c);
        assert!(c >= 0.9999, "cosine {c} for {text:?}");
    }
    eprintln!("{} cases, worst cosine {worst}", cases.len());
}

#[test]
fn single_and_batched_agree() {
    let cases = reference();
    for (text, want) in cases.iter().take(20) {
        let v = embedder().embed(text).unwrap();
        assert!(cosine(&v, want) >= 0.9999);
        let norm: f32 = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-5);
    }
}

#[test]
fn long_text_is_truncated_to_256_tokens() {
    let long = "memory ".repeat(2000);
    assert_eq!(
        embedder().token_count(&long).unwrap(),
        engram_embed::MAX_TOKENS
    );
    assert_eq!(embedder().embed(&long).unwrap().len(), 384);
}

#[test]
fn missing_or_wrong_model_is_one_clear_error() {
    let empty = std::env::temp_dir().join(format!("engram-no-model-{}", std::process::id()));
    std::fs::create_dir_all(&empty).unwrap();
    let err = Embedder::load(&empty).err().expect("no model there");
    assert!(matches!(err, EmbedError::ModelMissing { .. }));
    assert!(err.to_string().contains("setup.sh"), "{err}");

    std::fs::write(empty.join("model.safetensors"), b"not a model").unwrap();
    std::fs::write(empty.join("tokenizer.json"), b"{}").unwrap();
    let err = Embedder::load(&empty).err().expect("wrong weights");
    assert!(matches!(err, EmbedError::ModelChecksum { .. }), "{err}");
    assert!(err.to_string().contains("setup.sh"));
    std::fs::remove_dir_all(&empty).unwrap();
}
