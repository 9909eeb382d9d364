//! Attestations and trust tiers on a real node joined to a devnet registry: only the owner
//! attests, the tier follows the owner's stake as the registry changes, every result
//! carries it, and queries filter on it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use engram_chain::{Chain, Devnet};
use engram_client::{Client, ClientError, ClientOptions};
use engram_core::keys::Keypair;
use engram_wire::{IngestRequest, QueryRequest, TrustTier};

use crate::{commitment, now_ms, spawn_node_for_tests, vector};

fn signer(key: &Keypair, url: &str) -> Client {
    Client::with_options(
        url,
        ClientOptions {
            signer: Some(Arc::new(key.clone())),
            ..ClientOptions::default()
        },
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tiers_follow_the_owners_stake_and_filter_results() {
    let mut t = spawn_node_for_tests(|c| c.attestation_refresh_s = 1).await;
    let chain_dir = tempfile::tempdir().unwrap();
    let chain = Arc::new(Devnet::open(chain_dir.path()));
    let (alice, bob) = (
        Keypair::from_uri("//Alice").unwrap(),
        Keypair::from_uri("//Bob").unwrap(),
    );
    chain.register(&alice).unwrap();
    chain.add_stake(&alice.ss58(), 150.0).unwrap();
    t.node
        .join_network(chain.clone(), Keypair::from_uri("//Node").unwrap())
        .await
        .unwrap();
    let (alice_c, bob_c) = (signer(&alice, &t.url), signer(&bob, &t.url));

    // Unattested: anonymous, and public results are anonymous.
    let before = t.client.attestation("alice-mem").await.unwrap();
    assert!(!before.attested);
    assert_eq!(before.trust_tier, TrustTier::Anonymous);
    t.client
        .ingest(&IngestRequest {
            raw_embedding: Some(vector(1)),
            ..IngestRequest::default()
        })
        .await
        .unwrap();
    let public = QueryRequest {
        query_vector: Some(vector(1)),
        ..QueryRequest::default()
    };
    let hits = t.client.query(&public).await.unwrap().results;
    assert_eq!(hits[0].trust_tier, TrustTier::Anonymous);

    // Alice's namespace, attested by Alice: verified at 150.
    alice_c
        .ingest(&IngestRequest {
            raw_embedding: Some(vector(2)),
            auth: alice_c.namespace_auth(Some("alice-mem")).unwrap(),
            ..IngestRequest::default()
        })
        .await
        .unwrap();
    let a = alice_c.attest("alice-mem").await.unwrap();
    assert!(a.ok);
    assert_eq!((a.trust_tier, a.stake_tao), (TrustTier::Verified, 150.0));
    let shown = t.client.attestation("alice-mem").await.unwrap();
    assert!(shown.attested);
    assert_eq!(shown.owner_hotkey.as_deref(), Some(alice.ss58().as_str()));

    // Bob can neither attest nor take it; without a signer there is nothing to attest with.
    let stolen = bob_c.attest("alice-mem").await.unwrap_err();
    assert!(
        matches!(stolen, ClientError::Http { status: 403, .. }),
        "{stolen}"
    );
    assert!(matches!(
        t.client.attest("x").await,
        Err(ClientError::NoSigner)
    ));
    let snapshot = commitment(&t).await;

    let query = |min: Option<TrustTier>| QueryRequest {
        query_vector: Some(vector(2)),
        min_trust_tier: min,
        auth: alice_c.namespace_auth(Some("alice-mem")).unwrap(),
        ..QueryRequest::default()
    };
    let hits = alice_c.query(&query(None)).await.unwrap().results;
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].trust_tier, TrustTier::Verified);
    assert_eq!(
        alice_c
            .query(&query(Some(TrustTier::Verified)))
            .await
            .unwrap()
            .results
            .len(),
        1
    );
    assert!(
        alice_c
            .query(&query(Some(TrustTier::Sovereign)))
            .await
            .unwrap()
            .results
            .is_empty()
    );
    assert!(
        t.client
            .query(&QueryRequest {
                min_trust_tier: Some(TrustTier::Community),
                ..public.clone()
            })
            .await
            .unwrap()
            .results
            .is_empty(),
        "public memories are anonymous"
    );

    // More stake: the refresh (every second here) raises the tier without a new attestation.
    chain.add_stake(&alice.ss58(), 900.0).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let tier = alice_c.query(&query(None)).await.unwrap().results[0].trust_tier;
        if tier == TrustTier::Sovereign {
            break;
        }
        assert!(Instant::now() < deadline, "tier stuck at {tier}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let shown = t.client.attestation("alice-mem").await.unwrap();
    assert_eq!(shown.stake_tao, Some(1050.0));
    assert_eq!(commitment(&t).await, snapshot, "attesting stores no memory");

    // Raw HTTP: bad attestations are 4xx with a message, and record nothing.
    let raw = reqwest::Client::new();
    let now = now_ms();
    let cases = [
        (
            serde_json::json!({"namespace": "n1", "owner_hotkey": alice.ss58(), "signature": "0x00", "timestamp_ms": now}),
            401,
        ),
        (
            serde_json::to_value(engram_wire::AttestRequest::signed(
                "n1",
                &alice,
                now - 120_000,
            ))
            .unwrap(),
            401,
        ),
        (
            serde_json::to_value(engram_wire::AttestRequest::signed("public", &alice, now))
                .unwrap(),
            400,
        ),
        (serde_json::json!({"namespace": "n1"}), 400),
    ];
    for (body, want) in cases {
        let resp = raw
            .post(format!("{}/AttestNamespace", t.url))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), want, "{body}");
        let err: serde_json::Value = resp.json().await.unwrap();
        assert!(err["error"].as_str().is_some_and(|m| !m.is_empty()));
    }
    assert!(!t.client.attestation("n1").await.unwrap().attested);
    t.node.shutdown().await.unwrap();
}
