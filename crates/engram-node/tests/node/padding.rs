//! Uniform responses: a private namespace's query and retrieve answers are padded to size
//! buckets, so their length does not tell how many memories matched or how long they are.

use engram_core::keys::Keypair;
use engram_wire::{IngestRequest, NamespaceAuth, QueryRequest};
use serde_json::{Value, json};

use super::{spawn_node_for_tests, vector};

async fn raw(url: &str, path: &str, body: Option<&Value>) -> Vec<u8> {
    let http = reqwest::Client::new();
    let req = match body {
        Some(b) => http.post(format!("{url}{path}")).json(b),
        None => http.get(format!("{url}{path}")),
    };
    let resp = req.send().await.unwrap();
    assert_eq!(resp.status(), 200);
    resp.bytes().await.unwrap().to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn private_answers_have_one_length_whatever_matched() {
    let t = spawn_node_for_tests(|_| {}).await;
    let alice = Keypair::from_uri("//Alice").unwrap();
    let auth = || NamespaceAuth::signed_by("diary", &alice, engram_os::now_ms()).unwrap();
    let mut cids = Vec::new();
    for (i, (group, text)) in [
        ("one", "short"),
        (
            "many",
            "a much longer memory text that takes far more bytes on the wire than the others",
        ),
        ("many", "medium length memory"),
        ("many", "x"),
    ]
    .into_iter()
    .enumerate()
    {
        let r = t
            .client
            .ingest(&IngestRequest {
                raw_embedding: Some(vector(i as u64)),
                metadata: json!({"g": group}),
                model_version: "v1".into(),
                source_text: Some(text.into()),
                auth: auth(),
                ..Default::default()
            })
            .await
            .unwrap();
        cids.push(r.cid.unwrap());
    }
    let query = |group: &str| {
        let mut body = serde_json::to_value(QueryRequest {
            query_vector: Some(vector(1)),
            top_k: Some(10),
            auth: auth(),
            ..Default::default()
        })
        .unwrap();
        body["filter"] = json!({"g": group});
        body
    };
    let mut lengths = Vec::new();
    for group in ["none", "one", "many"] {
        let bytes = raw(&t.url, "/QuerySynapse", Some(&query(group))).await;
        let answer: Value = serde_json::from_slice(&bytes).expect("padding is JSON whitespace");
        let matched = answer["results"].as_array().unwrap().len();
        assert_eq!(matched, [0, 1, 3][lengths.len()], "{group}");
        lengths.push(bytes.len());
    }
    assert!(lengths.iter().all(|&l| l == lengths[0]), "{lengths:?}");
    assert!(lengths[0] >= 16 << 10);

    let mut sizes = Vec::new();
    for cid in [&cids[0], &cids[1]] {
        let a = auth();
        let path = format!(
            "/retrieve/{cid}?namespace=diary&namespace_hotkey={}&namespace_sig={}&namespace_timestamp_ms={}",
            a.namespace_hotkey.unwrap(),
            a.namespace_sig.unwrap(),
            a.namespace_timestamp_ms.unwrap()
        );
        sizes.push(raw(&t.url, &path, None).await.len());
    }
    assert_eq!(sizes[0], sizes[1], "a short and a long memory look alike");

    // Listings too: one memory or four, the same length.
    let mut listed = Vec::new();
    for group in ["one", "many"] {
        let mut body = serde_json::to_value(engram_wire::ListRequest {
            limit: Some(50),
            auth: auth(),
            ..Default::default()
        })
        .unwrap();
        body["filter"] = json!({"g": group});
        listed.push(raw(&t.url, "/list", Some(&body)).await.len());
    }
    let a = auth();
    let cids_path = format!(
        "/cids?namespace=diary&namespace_hotkey={}&namespace_sig={}&namespace_timestamp_ms={}",
        a.namespace_hotkey.unwrap(),
        a.namespace_sig.unwrap(),
        a.namespace_timestamp_ms.unwrap()
    );
    listed.push(raw(&t.url, &cids_path, None).await.len());
    assert!(
        listed.iter().all(|&l| l == lengths[0]),
        "{listed:?} vs {}",
        lengths[0]
    );

    // Public answers are not padded.
    let public = raw(
        &t.url,
        "/QuerySynapse",
        Some(&json!({"query_vector": vector(1)})),
    )
    .await;
    assert!(public.len() < 1024, "{}", public.len());
    t.node.shutdown().await.unwrap();
}
