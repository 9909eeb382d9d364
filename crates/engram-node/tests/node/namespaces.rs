//! Private namespaces on a real node: the first signer owns one; others, the unsigned and
//! the stale are refused and store nothing; nothing private shows in public queries; the
//! deprecated shared key still works for its own namespace.

use engram_client::ClientError;
use engram_core::keys::Keypair;
use engram_wire::{IngestRequest, NamespaceAuth, QueryRequest};

use crate::{commitment, now_ms, spawn_node_for_tests, vector};

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
        t.client
            .retrieve(&secret.parse::<engram_core::Cid>().unwrap())
            .await
            .unwrap()
            .is_none(),
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retrieve_list_and_delete_in_a_private_namespace_need_its_owner() {
    let t = spawn_node_for_tests(|_| {}).await;
    let (alice, bob) = (
        Keypair::from_uri("//Alice").unwrap(),
        Keypair::from_uri("//Bob").unwrap(),
    );
    let client = |key: &Keypair| {
        engram_client::Client::with_options(
            &t.url,
            engram_client::ClientOptions {
                signer: Some(std::sync::Arc::new(key.clone())),
                ..Default::default()
            },
        )
        .unwrap()
    };
    let (a, b) = (client(&alice), client(&bob));
    let mut cids = Vec::new();
    for i in 10..13 {
        let r = a
            .ingest(&IngestRequest {
                raw_embedding: Some(vector(i)),
                auth: a.namespace_auth(Some("diary")).unwrap(),
                ..IngestRequest::default()
            })
            .await
            .unwrap();
        cids.push(r.cid.unwrap());
    }
    let public = t
        .client
        .ingest(&IngestRequest {
            raw_embedding: Some(vector(20)),
            ..IngestRequest::default()
        })
        .await
        .unwrap()
        .cid
        .unwrap();
    let mine = a.namespace_auth(Some("diary")).unwrap();

    // Retrieve and list: the owner sees them; nobody else does.
    let got = a
        .retrieve_in(&cids[0].parse::<engram_core::Cid>().unwrap(), &mine)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (got.namespace.as_str(), got.cid.as_str()),
        ("diary", cids[0].as_str())
    );
    assert!(
        t.client
            .retrieve(&cids[0].parse::<engram_core::Cid>().unwrap())
            .await
            .unwrap()
            .is_none()
    );
    let theirs = b.namespace_auth(Some("diary")).unwrap();
    assert_eq!(
        status(
            b.retrieve_in(&cids[0].parse::<engram_core::Cid>().unwrap(), &theirs)
                .await
                .unwrap_err()
        ),
        403
    );
    let unsigned = NamespaceAuth {
        namespace: Some("diary".into()),
        ..NamespaceAuth::default()
    };
    assert_eq!(
        status(
            t.client
                .retrieve_in(&cids[0].parse::<engram_core::Cid>().unwrap(), &unsigned)
                .await
                .unwrap_err()
        ),
        401
    );
    let mut listed = a.cids_in(&mine, 0, 100).await.unwrap().cids;
    listed.sort();
    let mut want = cids.clone();
    want.sort();
    assert_eq!(listed, want);
    assert_eq!(t.client.all_cids().await.unwrap(), vec![public.clone()]);
    assert_eq!(status(b.cids_in(&theirs, 0, 100).await.unwrap_err()), 403);

    // Delete: never public memories, never someone else's.
    let before = commitment(&t).await;
    let count = t.client.stats().await.unwrap().memories;
    assert_eq!(
        status(
            a.delete(
                &public.parse::<engram_core::Cid>().unwrap(),
                &NamespaceAuth::default()
            )
            .await
            .unwrap_err()
        ),
        403
    );
    assert_eq!(
        status(
            b.delete(&cids[0].parse::<engram_core::Cid>().unwrap(), &theirs)
                .await
                .unwrap_err()
        ),
        403
    );
    assert_eq!(
        status(
            t.client
                .delete(&cids[0].parse::<engram_core::Cid>().unwrap(), &unsigned)
                .await
                .unwrap_err()
        ),
        401
    );
    assert_eq!(commitment(&t).await, before);
    assert_eq!(t.client.stats().await.unwrap().memories, count);
    assert!(
        a.delete(
            &cids[0].parse::<engram_core::Cid>().unwrap(),
            &a.namespace_auth(Some("diary")).unwrap()
        )
        .await
        .unwrap()
    );
    assert!(
        !a.delete(
            &cids[0].parse::<engram_core::Cid>().unwrap(),
            &a.namespace_auth(Some("diary")).unwrap()
        )
        .await
        .unwrap(),
        "already gone"
    );
    assert!(
        a.retrieve_in(
            &cids[0].parse::<engram_core::Cid>().unwrap(),
            &a.namespace_auth(Some("diary")).unwrap()
        )
        .await
        .unwrap()
        .is_none()
    );
    assert_eq!(t.client.stats().await.unwrap().memories, count - 1);
    assert_eq!(commitment(&t).await.size, before.size - 1);
    t.node.shutdown().await.unwrap();
}
