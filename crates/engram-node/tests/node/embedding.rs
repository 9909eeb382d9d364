use std::sync::Arc;

use engram_embed::{Embedder, resolve_model_dir};
use engram_wire::IngestRequest;

use super::spawn_node_for_tests;

/// The value of the Prometheus sample `name` in `text`.
fn sample(text: &str, name: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("no {name} in /metrics:\n{text}"))
}

/// Two embedding threads, batches of at most 4, 24 texts at once: every stored vector has
/// the bytes the embedder gives the text alone (the batch and the thread change nothing),
/// and `/metrics` accounts for every text and batch.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_embedding_threads_store_the_same_bytes_and_are_measured() {
    let t = spawn_node_for_tests(|c| {
        c.embed_workers = 2;
        c.max_batch = 4;
    })
    .await;
    let texts: Vec<String> = (0..24)
        .map(|i| format!("sentence {i} about tide pools and the creatures that live in them"))
        .collect();
    let mut tasks = tokio::task::JoinSet::new();
    for (i, text) in texts.iter().enumerate() {
        let client = t.client.clone();
        let text = text.clone();
        tasks.spawn(async move {
            let r = client
                .ingest(&IngestRequest {
                    text: Some(text),
                    model_version: "v1".into(),
                    ..Default::default()
                })
                .await
                .unwrap();
            (i, r.cid.unwrap())
        });
    }
    let mut cids = vec![String::new(); texts.len()];
    while let Some(r) = tasks.join_next().await {
        let (i, cid) = r.unwrap();
        cids[i] = cid;
    }
    let embedder = Arc::new(Embedder::load(&resolve_model_dir(None)).unwrap());
    for (text, cid) in texts.iter().zip(&cids) {
        let stored = t
            .client
            .retrieve(&cid.parse().unwrap())
            .await
            .unwrap()
            .unwrap();
        let alone = embedder.embed(text).unwrap();
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&stored.embedding), bits(&alone), "{text}");
    }

    let m = t.client.metrics().await.unwrap();
    assert_eq!(sample(&m, "engram_embed_wait_seconds_count"), 24.0);
    assert_eq!(sample(&m, "engram_embed_batch_size_sum"), 24.0);
    assert_eq!(sample(&m, "engram_embed_batch_seconds_count"), 24.0);
    let batches = sample(&m, "engram_embed_batch_size_count");
    assert!((6.0..=24.0).contains(&batches), "{batches} batches of ≤ 4");
    assert_eq!(
        sample(&m, "engram_embed_batch_size_bucket{le=\"4\"}"),
        batches,
        "no batch over max_batch"
    );
    assert!(sample(&m, "engram_embed_batch_seconds_sum") > 0.0);
    assert_eq!(sample(&m, "engram_embed_queue_depth"), 0.0);
    t.node.shutdown().await.unwrap();
}
