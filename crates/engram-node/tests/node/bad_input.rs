use std::time::Duration;

use engram_wire::IngestRequest;
use serde_json::{Value, json};

use super::{commitment, now_s, spawn_node_for_tests, vector};

async fn send(
    url: &str,
    method: &str,
    path: &str,
    body: Option<String>,
) -> (u16, Value, Option<String>) {
    crate::send(url, method, path, body.map(String::into_bytes)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_bad_request_gets_its_status_and_message_and_stores_nothing() {
    let t = spawn_node_for_tests(|c| c.max_body_bytes = 64 * 1024).await;
    let stored = t
        .client
        .ingest(&IngestRequest {
            raw_embedding: Some(vector(1)),
            model_version: "v1".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .cid
        .unwrap();
    let before = commitment(&t).await;
    let v383 = json!(vec![0.1; 383]);
    let mut inf = vec![json!(0.1); 384];
    inf[5] = json!(1e39);
    let nonce = "ab".repeat(32);
    let unknown = format!("v1::{}", "cd".repeat(32));
    let unknown_path = format!("/retrieve/{unknown}");
    let cases: Vec<(&str, &str, String, u16, &str)> = vec![
        // invalid JSON and wrong types
        ("POST", "/IngestSynapse", "{not json".into(), 400, "invalid JSON"),
        ("POST", "/IngestSynapse", "".into(), 400, "invalid JSON"),
        ("POST", "/IngestSynapse", json!({"text": 5}).to_string(), 400, "invalid request"),
        ("POST", "/IngestSynapse", json!({"raw_embedding": "x"}).to_string(), 400, "invalid request"),
        ("POST", "/IngestSynapse", "[1,2,3]".into(), 400, "invalid request"),
        ("POST", "/IngestSynapse", format!("{{\"raw_embedding\": [NaN{}]}}", ", 0.1".repeat(383)), 400, "invalid JSON"),
        // protocol limits
        ("POST", "/IngestSynapse", json!({}).to_string(), 400, "send text or raw_embedding"),
        ("POST", "/IngestSynapse", json!({"text": "a", "raw_embedding": vector(2)}).to_string(), 400, "not both"),
        ("POST", "/IngestSynapse", json!({"text": ""}).to_string(), 400, "empty"),
        ("POST", "/IngestSynapse", json!({"text": " \n\t "}).to_string(), 400, "empty"),
        ("POST", "/IngestSynapse", json!({"text": "x".repeat(8193)}).to_string(), 400, "8192"),
        ("POST", "/IngestSynapse", json!({"text": "ok", "metadata": {"k": "v".repeat(4100)}}).to_string(), 400, "4096"),
        ("POST", "/IngestSynapse", json!({"text": "ok", "metadata": [1]}).to_string(), 400, "object"),
        ("POST", "/IngestSynapse", json!({"text": "ok", "model_version": "v2"}).to_string(), 400, "raw_embedding"),
        ("POST", "/IngestSynapse", json!({"raw_embedding": v383}).to_string(), 400, "383"),
        ("POST", "/IngestSynapse", json!({"raw_embedding": vec![0.1; 385]}).to_string(), 400, "385"),
        ("POST", "/IngestSynapse", json!({"raw_embedding": inf}).to_string(), 400, "out of range"),
        ("POST", "/IngestSynapse", json!({"text": "x".repeat(70_000)}).to_string(), 413, "larger than the limit"),
        ("POST", "/QuerySynapse", json!({"query_text": "sky", "top_k": 0}).to_string(), 400, "top_k"),
        ("POST", "/QuerySynapse", json!({"query_text": "sky", "top_k": 101}).to_string(), 400, "top_k"),
        ("POST", "/QuerySynapse", json!({"query_text": "sky", "top_k": "ten"}).to_string(), 400, "invalid request"),
        ("POST", "/QuerySynapse", json!({"query_text": ""}).to_string(), 400, "empty"),
        ("POST", "/QuerySynapse", json!({}).to_string(), 400, "query_text or query_vector"),
        ("POST", "/QuerySynapse", json!({"query_vector": [0.5, 0.5]}).to_string(), 400, "dimensions"),
        ("POST", "/QuerySynapse", json!({"query_vector": vector(3), "filter": {"k": [1]}}).to_string(), 400, "filter"),
        // challenges
        ("POST", "/ChallengeSynapse", json!({"cid": "v1::zz", "nonce_hex": nonce, "expires_at": now_s() + 10.0}).to_string(), 400, "malformed CID"),
        ("POST", "/ChallengeSynapse", json!({"cid": unknown, "nonce_hex": nonce, "expires_at": now_s() + 10.0}).to_string(), 404, "not stored"),
        ("POST", "/ChallengeSynapse", json!({"cid": stored, "nonce_hex": nonce, "expires_at": now_s() - 1.0}).to_string(), 400, "expired"),
        ("POST", "/ChallengeSynapse", json!({"cid": stored, "nonce_hex": "abc", "expires_at": now_s() + 10.0}).to_string(), 400, "nonce_hex"),
        ("POST", "/ChallengeSynapse", json!({"cid": stored, "nonce_hex": nonce, "expires_at": now_s() + 10.0, "validator_hotkey_hex": "zz"}).to_string(), 400, "validator_hotkey_hex"),
        ("POST", "/ChallengeSynapse", json!({"cid": stored, "nonce_hex": nonce, "expires_at": now_s() + 10.0, "version": 3}).to_string(), 400, "version"),
        ("POST", "/ChallengeSynapse", json!({"cid": stored}).to_string(), 400, "invalid request"),
        // lookups
        ("GET", "/retrieve/v1::nothex", String::new(), 400, "malformed CID"),
        ("GET", &unknown_path, String::new(), 404, "not stored"),
        ("POST", "/prove-memory", json!({"cid": unknown}).to_string(), 404, "not stored"),
        ("POST", "/prove-memory", json!({"cid": stored, "embedding_hash": "00"}).to_string(), 400, "embedding hash"),
        ("GET", "/no-such-endpoint", String::new(), 404, "no such endpoint"),
        ("GET", "/IngestSynapse", String::new(), 405, "method not allowed"),
    ];
    for (method, path, body, status, needle) in cases {
        let body = if method == "GET" { None } else { Some(body) };
        let (got, json, _) = send(&t.url, method, path, body).await;
        let message = json["error"]
            .as_str()
            .unwrap_or_else(|| panic!("{path}: error body {json}"));
        assert_eq!(got, status, "{method} {path}: {message}");
        assert!(
            message.contains(needle),
            "{method} {path}: {message:?} lacks {needle:?}"
        );
        assert_eq!(
            commitment(&t).await,
            before,
            "{method} {path} changed the store"
        );
    }
    t.node.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limit_answers_429_with_retry_after() {
    let t = spawn_node_for_tests(|c| c.ingest_rate_per_minute = 5).await;
    for i in 0..5 {
        let (status, _, _) = send(
            &t.url,
            "POST",
            "/IngestSynapse",
            Some(json!({"raw_embedding": vector(i)}).to_string()),
        )
        .await;
        assert_eq!(status, 200);
    }
    let before = commitment(&t).await;
    let (status, body, retry) = send(
        &t.url,
        "POST",
        "/IngestSynapse",
        Some(json!({"raw_embedding": vector(99)}).to_string()),
    )
    .await;
    assert_eq!(status, 429);
    assert!(body["error"].as_str().unwrap().contains("rate limit"));
    let secs: u64 = retry.expect("Retry-After").parse().unwrap();
    assert!((1..=13).contains(&secs));
    assert_eq!(commitment(&t).await, before);
    // queries are not limited
    let (status, _, _) = send(
        &t.url,
        "POST",
        "/QuerySynapse",
        Some(json!({"query_vector": vector(1)}).to_string()),
    )
    .await;
    assert_eq!(status, 200);
    t.node.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_embedding_queue_answers_503_not_unbounded_growth() {
    let t = spawn_node_for_tests(|c| {
        c.embed_queue = 1;
        c.max_batch = 1;
    })
    .await;
    let long = "memory ".repeat(200);
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..48 {
        let url = t.url.clone();
        let body = json!({"query_text": format!("{long} {i}")}).to_string();
        tasks.spawn(async move { send(&url, "POST", "/QuerySynapse", Some(body)).await });
    }
    let (mut ok, mut busy) = (0, 0);
    while let Some(r) = tasks.join_next().await {
        let (status, body, retry) = r.unwrap();
        match status {
            200 => ok += 1,
            503 => {
                busy += 1;
                assert!(body["error"].as_str().unwrap().contains("busy"));
                assert_eq!(retry.as_deref(), Some("1"));
            }
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert!(ok >= 1 && busy >= 1, "ok {ok}, busy {busy}");
    // Every answer is in: nothing is queued, and the refused texts left no count behind.
    let metrics = t.client.metrics().await.unwrap();
    assert!(
        metrics.lines().any(|l| l == "engram_embed_queue_depth 0"),
        "{metrics}"
    );
    tokio::time::sleep(Duration::from_millis(50)).await;
    t.node.shutdown().await.unwrap();
}
