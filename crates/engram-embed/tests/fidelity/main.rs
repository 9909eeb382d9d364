//! Fidelity and determinism: the embedder reproduces sentence-transformers on every
//! reference case, and every kernel path this CPU runs gives the same bytes as the scalar
//! definition, in any batch.
//!
//! Needs the model that setup fetches (`./setup.sh`); a missing model fails with the
//! setup hint rather than skipping, because an unchecked embedder mints wrong CIDs.

use std::path::PathBuf;
use std::sync::OnceLock;

use engram_core::cosine;
use engram_embed::resolve_model_dir;
use engram_embed::{EmbedError, Embedder, Kernels};
use serde_json::Value;

/// The embedder on the best path this CPU has.
fn embedder() -> &'static Embedder {
    static E: OnceLock<Embedder> = OnceLock::new();
    E.get_or_init(|| on(Kernels::best()))
}

fn on(kernels: Kernels) -> Embedder {
    Embedder::load_with(&resolve_model_dir(None), kernels).unwrap_or_else(|e| panic!("{e}"))
}

/// 2,000 real English sentences (CPython docstrings, `scripts/make-corpus.py`).
fn sentences() -> Vec<String> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../engram-bench/data/sentences.txt");
    let text = std::fs::read_to_string(&path).expect("sentences.txt present");
    let all: Vec<String> = text.lines().map(str::to_string).collect();
    assert!(all.len() >= 2000, "corpus is complete");
    all.into_iter().take(2000).collect()
}

fn bits(v: &[Vec<f32>]) -> Vec<Vec<u32>> {
    v.iter()
        .map(|v| v.iter().map(|x| x.to_bits()).collect())
        .collect()
}

/// One text, one vector on every CPU: each path this machine runs equals the scalar
/// definition byte for byte, on every reference case and 2,000 real sentences.
#[test]
fn every_kernel_path_gives_the_scalar_bytes() {
    let mut texts: Vec<String> = reference().into_iter().map(|(t, _)| t).collect();
    texts.extend(sentences());
    texts.push("memory ".repeat(400)); // truncated at 256 tokens: the longest attention
    let timed = |kernels: Kernels| {
        let e = on(kernels);
        let started = std::time::Instant::now();
        let v = bits(&e.embed_batch(&texts).unwrap());
        eprintln!("{kernels}: {:.1} s", started.elapsed().as_secs_f64());
        v
    };
    let scalar = timed(Kernels::Scalar);
    let paths = Kernels::available();
    for kernels in &paths {
        if *kernels == Kernels::Scalar {
            continue;
        }
        let got = timed(*kernels);
        let differ: Vec<&str> = texts
            .iter()
            .zip(got.iter().zip(&scalar))
            .filter(|(_, (a, b))| a != b)
            .map(|(t, _)| t.as_str())
            .collect();
        assert!(
            differ.is_empty(),
            "{kernels}: {} of {} texts differ from scalar, first {:?}",
            differ.len(),
            texts.len(),
            differ.first()
        );
    }
    eprintln!("{} texts, identical bytes on {paths:?}", texts.len());
}

/// A text's bytes do not depend on the batch it came in.
#[test]
fn a_text_has_the_same_bytes_alone_and_in_any_batch() {
    let texts = sentences();
    let texts = &texts[..96];
    let batched = bits(&embedder().embed_batch(texts).unwrap());
    let reversed: Vec<&String> = texts.iter().rev().collect();
    let mut back = bits(&embedder().embed_batch(&reversed).unwrap());
    back.reverse();
    assert_eq!(batched, back, "order within the batch");
    for (text, want) in texts.iter().zip(&batched).step_by(7) {
        let alone = embedder().embed(text).unwrap();
        assert_eq!(&bits(&[alone])[0], want, "{text:?} alone");
    }
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
