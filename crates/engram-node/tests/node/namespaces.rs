//! Private namespaces on a real node: the first signer owns one; others, the unsigned and
//! the stale are refused and store nothing; nothing private shows in public queries; the
//! deprecated shared key still works for its own namespace.

use engram_client::ClientError;
use engram_client::api::{IngestRequest, NamespaceAuth, QueryRequest};
use engram_core::keys::Keypair;

use crate::{commitment, spawn_node_for_tests, vector};

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

fn status(e: ClientError) -> u16 {
    match e {
        ClientError::Http { status, .. } => status,
        other => panic!("expected an HTTP refusal, got {other}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn private_namespaces_belong_to_their_first_signer() {
    let t = spawn_node_for_tests(|_| {}).await;
    let (alice, bob) = (
        Keypair::from_uri("//Alice").unwrap(),
        Keypair::from_uri("//Bob").unwrap(),
    );
    let ingest = |auth: NamespaceAuth, i: u64| IngestRequest {
        raw_embedding: Some(vector(i)),
        auth,
        ..IngestRequest::default()
    };
    let secret = t
        .client
        .ingest(&ingest(
            NamespaceAuth::signed("alice-notes", &alice, now_ms()),
            1,
        ))
        .await
        .unwrap()
        .cid
        .unwrap();
    let before = commitment(&t).await;

    let refusals = [
        (NamespaceAuth::signed("alice-notes", &bob, now_ms()), 403),
        (
            NamespaceAuth {
                namespace: Some("alice-notes".into()),
                ..NamespaceAuth::default()
            },
            401,
        ),
        (
            NamespaceAuth::signed("alice-notes", &alice, now_ms() - 61_000),
            401,
        ),
        (
            NamespaceAuth {
                namespace_hotkey: Some(alice.ss58()),
                ..NamespaceAuth::signed("alice-notes", &bob, now_ms())
            },
            401,
        ),
    ];
    for (auth, want) in refusals {
        let got = status(t.client.ingest(&ingest(auth.clone(), 2)).await.unwrap_err());
        assert_eq!(got, want, "{auth:?}");
        let q = QueryRequest {
            query_vector: Some(vector(1)),
            auth,
            ..QueryRequest::default()
        };
        assert!(t.client.query(&q).await.is_err());
    }
    assert_eq!(commitment(&t).await, before, "refusals stored nothing");

    // The owner finds it; a public query does not.
    let mine = QueryRequest {
        query_vector: Some(vector(1)),
        top_k: Some(5),
        auth: NamespaceAuth::signed("alice-notes", &alice, now_ms()),
        ..QueryRequest::default()
    };
    assert_eq!(t.client.query(&mine).await.unwrap().results[0].cid, secret);
    let public = QueryRequest {
        query_vector: Some(vector(1)),
        top_k: Some(100),
        ..QueryRequest::default()
    };
    assert!(
        t.client
            .query(&public)
            .await
            .unwrap()
            .results
            .iter()
            .all(|r| r.cid != secret)
    );
    assert!(
        t.client.retrieve(&secret).await.unwrap().is_none(),
        "not served publicly"
    );

    // Text embedded by the node for a private namespace is stored with noise (ε = 3):
    // the same text as a query no longer scores 1.
    let text = IngestRequest {
        text: Some("The vault code is written on the back of the painting.".into()),
        auth: NamespaceAuth::signed("alice-notes", &alice, now_ms()),
        ..IngestRequest::default()
    };
    t.client.ingest(&text).await.unwrap();
    let q = QueryRequest {
        query_text: text.text.clone(),
        top_k: Some(1),
        auth: NamespaceAuth::signed("alice-notes", &alice, now_ms()),
        ..QueryRequest::default()
    };
    let score = t.client.query(&q).await.unwrap().results[0].score;
    assert!(
        (0.85..0.99).contains(&score),
        "noisy self-match score {score}"
    );

    // The deprecated shared key: owns its namespace by the key's hash.
    let legacy = |key: &str| NamespaceAuth {
        namespace: Some("shared".into()),
        namespace_key: Some(key.into()),
        ..NamespaceAuth::default()
    };
    t.client
        .ingest(&ingest(legacy("correct horse"), 3))
        .await
        .unwrap();
    assert_eq!(
        status(
            t.client
                .ingest(&ingest(legacy("wrong"), 4))
                .await
                .unwrap_err()
        ),
        403
    );
    assert_eq!(
        status(
            t.client
                .ingest(&ingest(
                    NamespaceAuth::signed("shared", &alice, now_ms()),
                    4
                ))
                .await
                .unwrap_err()
        ),
        403
    );
    t.node.shutdown().await.unwrap();
}
