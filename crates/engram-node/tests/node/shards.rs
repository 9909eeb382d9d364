//! `GET|PUT /shards…` on one node: a manifest first, then shards that match it; every
//! refusal with its status, nothing kept from a refused write; page limits at each boundary.

use engram_core::Cid;
use engram_core::erasure::{DEFAULT_LAYOUT, encode};

use crate::{send, spawn_node_for_tests};

async fn put_raw(url: &str, path: &str, body: Vec<u8>) -> u16 {
    reqwest::Client::new()
        .put(format!("{url}{path}"))
        .header("content-type", "application/octet-stream")
        .body(body)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn shards_are_kept_only_under_a_matching_manifest() {
    let t = spawn_node_for_tests(|c| c.max_document_bytes = 200_000).await;
    let file: Vec<u8> = (0..100_000u32).map(|i| (i * 7 % 253) as u8).collect();
    let (m, shards) = encode(&file, "application/pdf", DEFAULT_LAYOUT).unwrap();
    let blob = m.blob.to_string();

    // Nothing yet: 404s and an empty listing.
    assert_eq!(
        send(&t.url, "GET", &format!("/shards/{blob}"), None)
            .await
            .0,
        404
    );
    assert_eq!(
        send(&t.url, "GET", &format!("/shards/{blob}/0"), None)
            .await
            .0,
        404
    );
    assert!(t.client.all_shard_holdings().await.unwrap().is_empty());
    // A shard before its manifest: 400, nothing kept.
    assert_eq!(
        put_raw(&t.url, &format!("/shards/{blob}/0"), shards[0].clone()).await,
        400
    );

    // Refused manifests: for another blob, inconsistent, a memory CID, over the size limit.
    let url = t.url.clone();
    let put = |path: String, body: &engram_core::erasure::Manifest| {
        let body = serde_json::to_vec(body).unwrap();
        let url = url.clone();
        async move { send(&url, "PUT", &path, Some(body)).await }
    };
    let other = Cid::for_content(b"another file");
    assert_eq!(put(format!("/shards/{other}"), &m).await.0, 400);
    let mut short = m.clone();
    short.shards.pop();
    let (status, body, _) = put(format!("/shards/{blob}"), &short).await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("manifest"),
        "{body}"
    );
    assert_eq!(
        put(format!("/shards/{}", Cid::V1([1; 32])), &m).await.0,
        400
    );
    // A memory CID in the path: the store refuses it, with its own message.
    let memory = Cid::V1([1; 32]);
    for path in [format!("/shards/{memory}"), format!("/shards/{memory}/0")] {
        let (status, body, _) = send(&t.url, "GET", &path, None).await;
        assert_eq!(status, 400, "{path}: {body}");
        assert!(
            body["error"].as_str().unwrap().contains("memory CID"),
            "{body}"
        );
    }
    let mut huge = m.clone();
    huge.size = 300_000;
    huge.shard_len = DEFAULT_LAYOUT.shard_len(300_000);
    assert_eq!(put(format!("/shards/{blob}"), &huge).await.0, 413);
    assert!(t.client.all_shard_holdings().await.unwrap().is_empty());

    // The manifest, then shard 2; wrong bytes for an index and an index out of range: 400.
    let kept = t.client.put_shard_manifest(&m).await.unwrap();
    assert!(kept.held.is_empty());
    assert_eq!(
        put_raw(&t.url, &format!("/shards/{blob}/1"), shards[2].clone()).await,
        400
    );
    assert_eq!(
        put_raw(&t.url, &format!("/shards/{blob}/6"), shards[2].clone()).await,
        400
    );
    let kept = t
        .client
        .put_shard(&m.blob, 2, shards[2].clone())
        .await
        .unwrap();
    assert_eq!(kept.held, vec![2]);
    assert_eq!(
        t.client.shard(&m.blob, 2).await.unwrap().unwrap(),
        shards[2]
    );
    assert_eq!(t.client.shard(&m.blob, 3).await.unwrap(), None);
    // Now the manifest is fixed: another one for the blob is refused.
    let mut retyped = m.clone();
    retyped.content_type = "image/png".into();
    assert_eq!(put(format!("/shards/{blob}"), &retyped).await.0, 400);
    assert_eq!(
        t.client
            .shard_manifest(&m.blob)
            .await
            .unwrap()
            .unwrap()
            .manifest,
        m
    );

    let listed = t.client.all_shard_holdings().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(
        (listed[0].blob, listed[0].shards.clone(), listed[0].whole),
        (m.blob, vec![2], false)
    );

    // Page limits: 0 and 1001 refused, 1 and 1000 served.
    for (limit, status) in [(0, 400), (1, 200), (1000, 200), (1001, 400)] {
        let (got, body, _) = send(&t.url, "GET", &format!("/shards?limit={limit}"), None).await;
        assert_eq!(got, status, "limit {limit}: {body}");
    }
    let (_, page, _) = send(&t.url, "GET", "/shards?offset=1&limit=1", None).await;
    assert_eq!(
        (
            page["total"].as_u64(),
            page["blobs"].as_array().map(Vec::len)
        ),
        (Some(1), Some(0))
    );
}
