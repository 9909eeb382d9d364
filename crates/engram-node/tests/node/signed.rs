//! Signed requests against a real node: the SDK signs, the node verifies, and forged,
//! stale and replayed requests get 401 and store nothing; a challenge allowlist answers 403.

use engram_client::{Client, ClientError, ClientOptions};
use engram_core::keys::Keypair;
use engram_wire::{ChallengeRequest, IngestRequest, QueryRequest};
use serde_json::{Value, json};

use crate::{commitment, spawn_node_for_tests, vector};

fn signing_client(url: &str, key: &Keypair) -> Client {
    Client::with_options(
        url,
        ClientOptions {
            signer: Some(std::sync::Arc::new(key.clone())),
            retries: 0,
            ..ClientOptions::default()
        },
    )
    .unwrap()
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

async fn post(url: &str, path: &str, body: &Value) -> (u16, Value) {
    let resp = reqwest::Client::new()
        .post(format!("{url}{path}"))
        .json(body)
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_requests_are_required_verified_and_never_replayed() {
    let t = spawn_node_for_tests(|c| c.require_hotkey_sig = true).await;
    let alice = Keypair::from_uri("//Alice").unwrap();
    let signed = signing_client(&t.url, &alice);

    // Unsigned: refused, nothing stored.
    let before = commitment(&t).await;
    let err = t
        .client
        .ingest(&IngestRequest {
            raw_embedding: Some(vector(1)),
            ..IngestRequest::default()
        })
        .await
        .unwrap_err();
    assert!(
        matches!(err, ClientError::Http { status: 401, .. }),
        "{err}"
    );

    // Signed by the SDK: accepted, many in a row (nonces never collide).
    for i in 0..20 {
        signed
            .ingest(&IngestRequest {
                raw_embedding: Some(vector(100 + i)),
                ..IngestRequest::default()
            })
            .await
            .unwrap();
    }
    assert_eq!(commitment(&t).await.size, before.size + 20);
    let hits = signed
        .query(&QueryRequest {
            query_vector: Some(vector(100)),
            top_k: Some(1),
            ..QueryRequest::default()
        })
        .await
        .unwrap();
    assert_eq!(hits.results.len(), 1);

    // Hand-made bodies: a good one, its replay, a forged one, a stale one.
    let stored = commitment(&t).await;
    let mut body = json!({"raw_embedding": vector(7)})
        .as_object()
        .unwrap()
        .clone();
    engram_core::auth::sign_request(&mut body, "IngestSynapse", &alice, now_ms()).unwrap();
    let body = Value::Object(body);
    assert_eq!(post(&t.url, "/IngestSynapse", &body).await.0, 200);
    let after_one = commitment(&t).await;
    let (status, err) = post(&t.url, "/IngestSynapse", &body).await;
    assert_eq!(status, 401, "replay: {err}");
    assert!(err["error"].as_str().unwrap().contains("replayed"), "{err}");

    let mut forged = body.clone();
    forged["raw_embedding"] = json!(vector(8));
    let (status, err) = post(&t.url, "/IngestSynapse", &forged).await;
    assert_eq!(status, 401, "forged: {err}");

    let mut stale = json!({"raw_embedding": vector(9)})
        .as_object()
        .unwrap()
        .clone();
    engram_core::auth::sign_request(&mut stale, "IngestSynapse", &alice, now_ms() - 60_000)
        .unwrap();
    let (status, err) = post(&t.url, "/IngestSynapse", &Value::Object(stale)).await;
    assert_eq!(status, 401, "stale: {err}");
    assert!(err["error"].as_str().unwrap().contains("window"), "{err}");

    let mut wrong_endpoint = json!({"raw_embedding": vector(10)})
        .as_object()
        .unwrap()
        .clone();
    engram_core::auth::sign_request(&mut wrong_endpoint, "QuerySynapse", &alice, now_ms()).unwrap();
    assert_eq!(
        post(&t.url, "/IngestSynapse", &Value::Object(wrong_endpoint))
            .await
            .0,
        401
    );

    assert_eq!(commitment(&t).await, after_one, "refusals stored nothing");
    assert_eq!(after_one.size, stored.size + 1);
    t.node.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn challenges_only_from_allowlisted_validators() {
    let validator = Keypair::from_uri("//Bob").unwrap();
    let allow = vec![validator.ss58()];
    let t = spawn_node_for_tests(move |c| c.challenge_allowlist = allow).await;
    let cid = t
        .client
        .ingest(&IngestRequest {
            raw_embedding: Some(vector(3)),
            ..IngestRequest::default()
        })
        .await
        .unwrap()
        .cid
        .unwrap();
    let challenge = ChallengeRequest {
        cid,
        nonce_hex: "11".repeat(32),
        expires_at: (now_ms() / 1000 + 10) as f64,
        validator_hotkey_hex: Some(hex::encode(validator.public())),
        version: Some(2),
    };
    let err = t.client.challenge(&challenge).await.unwrap_err();
    assert!(
        matches!(err, ClientError::Http { status: 403, .. }),
        "unsigned: {err}"
    );
    let eve = signing_client(&t.url, &Keypair::from_uri("//Eve").unwrap());
    let err = eve.challenge(&challenge).await.unwrap_err();
    assert!(
        matches!(err, ClientError::Http { status: 403, .. }),
        "not listed: {err}"
    );
    let answer = signing_client(&t.url, &validator)
        .challenge(&challenge)
        .await
        .unwrap();
    assert_eq!(answer.proof.len(), 64);
    t.node.shutdown().await.unwrap();
}
