//! The web app's routes and the views it reads: pages and assets compiled in, served with
//! a strict Content-Security-Policy and ETags; `/overview` and `/holders/{cid}` consistent
//! with what the node did. (The app itself runs in a real browser in
//! python/tests/test_web.py.)

use engram_wire::{IngestRequest, QueryRequest};
use reqwest::StatusCode;
use reqwest::header::{CONTENT_SECURITY_POLICY, CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use serde_json::json;

use super::spawn_node_for_tests;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_and_assets_are_served_with_their_policy() {
    let t = spawn_node_for_tests(|_| {}).await;
    let http = reqwest::Client::new();
    let cid_page = format!("/cid/v1::{}", "ab".repeat(32));
    for (path, kind, names) in [
        ("/", "text/html", "/web/home.js"),
        (cid_page.as_str(), "text/html", "/web/cid.js"),
        ("/dashboard", "text/html", "/web/dashboard.js"),
        ("/web/app.css", "text/css", "prefers-color-scheme"),
        ("/web/verify.js", "text/javascript", "canonicalMetadata"),
    ] {
        let r = http.get(format!("{}{path}", t.url)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        let h = r.headers().clone();
        assert!(
            h[CONTENT_TYPE].to_str().unwrap().starts_with(kind),
            "{path}"
        );
        let csp = h[CONTENT_SECURITY_POLICY].to_str().unwrap();
        assert!(csp.contains("script-src 'self'") && csp.contains("default-src 'none'"));
        assert_eq!(h["x-content-type-options"], "nosniff");
        let body = r.text().await.unwrap();
        assert!(body.contains(names), "{path} lacks {names}");
        let again = http
            .get(format!("{}{path}", t.url))
            .header(IF_NONE_MATCH, h[ETAG].clone())
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED, "{path}");
    }
    for missing in ["/web/nope.js", "/web/", "/web/..%2Fserver.rs", "/nope"] {
        let r = http
            .get(format!("{}{missing}", t.url))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{missing}");
        let body: serde_json::Value = r.json().await.unwrap();
        assert!(body["error"].is_string(), "{missing}: {body}");
    }
    t.node.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overview_and_holders_follow_what_the_node_did() {
    let t = spawn_node_for_tests(|_| {}).await;
    let c = &t.client;
    let empty = c.overview().await.unwrap();
    assert_eq!(empty.node.memories, 0);
    assert!(empty.network.is_none() && empty.node.hotkey.is_none());
    let mut cids = Vec::new();
    for text in ["Overview counts this.", "And this."] {
        let r = c
            .ingest(&IngestRequest {
                text: Some(text.into()),
                metadata: json!({}),
                ..Default::default()
            })
            .await
            .unwrap();
        cids.push(r.cid.unwrap().parse().unwrap());
    }
    for _ in 0..3 {
        c.query(&QueryRequest {
            query_text: Some("what does the overview count".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    }
    let o = c.overview().await.unwrap().node;
    assert_eq!(o.memories, 2);
    assert_eq!(o.root_v2_hex, c.commitment().await.unwrap().root_v2_hex);
    assert!(o.requests >= 6, "{o:?}");
    assert_eq!(o.server_errors, 0);
    assert!(
        o.query_p50_ms > 0.0 && o.query_p99_ms >= o.query_p50_ms,
        "{o:?}"
    );
    assert!(o.disk_bytes > 0 && o.uptime_s > 0.0);
    assert_eq!((o.challenges, o.proofs), (0, 0));

    let held = c.holders(&cids[0]).await.unwrap();
    assert!(!held.network);
    assert_eq!(held.nodes.len(), 1);
    assert_eq!(held.nodes[0].holds, Some(true));
    let unknown = format!("v1::{}", "cd".repeat(32)).parse().unwrap();
    assert_eq!(
        c.holders(&unknown).await.unwrap().nodes[0].holds,
        Some(false)
    );
    let graph: serde_json::Value = reqwest::get(format!("{}/metagraph", t.url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        graph,
        json!({"neurons": [], "block": null}),
        "on no network"
    );
    let bad = reqwest::get(format!("{}/holders/v1::nothex", t.url))
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    t.node.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_sites_page_cannot_write_or_read_the_store() {
    let t = spawn_node_for_tests(|_| {}).await;
    let http = reqwest::Client::new();
    let ingest = format!("{}/IngestSynapse", t.url);
    let body = r#"{"text": "planted by another site"}"#;
    // A form or fetch from another origin (text/plain needs no CORS preflight).
    let planted = http
        .post(&ingest)
        .header("origin", "https://evil.example")
        .header(CONTENT_TYPE, "text/plain")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(planted.status(), StatusCode::FORBIDDEN);
    let why: serde_json::Value = planted.json().await.unwrap();
    assert!(
        why["error"].as_str().unwrap().contains("cross-origin"),
        "{why}"
    );
    // A page whose name was rebound to 127.0.0.1, reading.
    let rebound = http
        .get(format!("{}/overview", t.url))
        .header("host", "evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(rebound.status(), StatusCode::FORBIDDEN);
    assert_eq!(t.client.overview().await.unwrap().node.memories, 0);
    // The node's own page, and a program, are served.
    let own = http
        .post(&ingest)
        .header("origin", t.url.as_str())
        .header(CONTENT_TYPE, "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(own.status(), StatusCode::OK);
    assert_eq!(t.client.overview().await.unwrap().node.memories, 1);
    t.node.shutdown().await.unwrap();
}
