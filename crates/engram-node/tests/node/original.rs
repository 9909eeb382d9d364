//! The original's remaining endpoints: `POST /RepairSynapse` (signed, public records only),
//! `POST /namespace` and `GET /wallet-stats` (loopback operators only).

use std::net::{IpAddr, UdpSocket};

use engram_core::keys::Keypair;
use engram_wire::{IngestRequest, NamespaceAuth};
use serde_json::{Value, json};

use super::{spawn_node_for_tests, vector};

fn now_ms() -> u64 {
    engram_os::now_ms()
}

async fn send(url: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
    let http = reqwest::Client::new();
    let req = match body {
        Some(b) => http.post(format!("{url}{path}")).json(b),
        None => http.get(format!("{url}{path}")),
    };
    let resp = req.send().await.unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap())
}

/// `body` signed with a nonce never used before (each is good once per node).
fn signed(mut body: Value, endpoint: &str, key: &Keypair) -> Value {
    static LAST: std::sync::Mutex<u64> = std::sync::Mutex::new(0);
    let nonce = {
        let mut last = LAST.lock().unwrap();
        *last = now_ms().max(*last + 1);
        *last
    };
    engram_core::auth::sign_request(body.as_object_mut().unwrap(), endpoint, key, nonce).unwrap();
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repair_serves_public_records_to_signed_callers() {
    let t = spawn_node_for_tests(|_| {}).await;
    let alice = Keypair::from_uri("//Alice").unwrap();
    let public = t
        .client
        .ingest(&IngestRequest {
            raw_embedding: Some(vector(3)),
            metadata: json!({"k": "v"}),
            model_version: "v1".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .cid
        .unwrap();
    let private = t
        .client
        .ingest(&IngestRequest {
            raw_embedding: Some(vector(4)),
            model_version: "v1".into(),
            auth: NamespaceAuth::signed_by("mine", &alice, now_ms()).unwrap(),
            ..Default::default()
        })
        .await
        .unwrap()
        .cid
        .unwrap();

    let (code, body) = send(&t.url, "/RepairSynapse", Some(&json!({"cid": public}))).await;
    assert_eq!(code, 401, "unsigned: {body}");
    let ask = |cid: &str| signed(json!({"cid": cid}), "RepairSynapse", &alice);
    let (code, body) = send(&t.url, "/RepairSynapse", Some(&ask(&public))).await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["cid"], public);
    assert_eq!(body["metadata"], json!({"k": "v"}));
    let got: Vec<f32> = serde_json::from_value(body["embedding"].clone()).unwrap();
    assert_eq!(got, vector(3), "the exact vector");
    for (cid, want) in [(private.as_str(), 404), ("v1::nothex", 400), ("", 400)] {
        let (code, body) = send(&t.url, "/RepairSynapse", Some(&ask(cid))).await;
        assert_eq!(code, want, "{cid}: {body}");
    }
    let (_, body) = send(&t.url, "/RepairSynapse", Some(&ask(&private))).await;
    assert_eq!(
        body["error"], "not found",
        "a private record answers as a missing one"
    );
    // The Rust SDK signs it (with its own key: nonces are per hotkey).
    let sdk = engram_client::Client::with_options(
        &t.url,
        engram_client::ClientOptions {
            signer: Some(std::sync::Arc::new(Keypair::from_uri("//Bob").unwrap())),
            ..Default::default()
        },
    )
    .unwrap();
    let record = sdk
        .repair_read(&public.parse().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(record["cid"], public);
    assert!(
        sdk.repair_read(&private.parse().unwrap())
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        t.client
            .repair_read(&public.parse().unwrap())
            .await
            .is_err(),
        "unsigned"
    );
    assert!(t.client.metagraph().await.unwrap().neurons.is_empty());
    t.node.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operators_manage_password_namespaces_and_read_wallet_stats() {
    let t = spawn_node_for_tests(|_| {}).await;
    let url = &t.url;
    let admin = |v: Value| async move { send(url, "/namespace", Some(&v)).await };
    let key = "a long enough password";
    let (code, body) = admin(json!({"action": "create", "namespace": "acme", "key": key})).await;
    assert_eq!(
        (code, &body),
        (200, &json!({"ok": true, "namespace": "acme"}))
    );
    for (req, code, needle) in [
        (
            json!({"action": "create", "namespace": "acme", "key": key}),
            400,
            "already exists",
        ),
        (
            json!({"action": "create", "namespace": "acme-docs", "key": key}),
            400,
            "Got: 'acme-docs'",
        ),
        (
            json!({"action": "create", "namespace": "short", "key": "tiny"}),
            400,
            "at least 16",
        ),
        (
            json!({"action": "delete", "namespace": "acme", "key": "wrong password 123"}),
            403,
            "Invalid key",
        ),
        (
            json!({"action": "rotate", "namespace": "acme", "key": key}),
            400,
            "new_key is required",
        ),
        (
            json!({"action": "drop", "namespace": "acme"}),
            400,
            "Unknown action",
        ),
    ] {
        let (c, b) = admin(req.clone()).await;
        assert_eq!(c, code, "{req}: {b}");
        assert!(b["error"].as_str().unwrap().contains(needle), "{b}");
    }
    let rotated = "another long password";
    let (code, _) =
        admin(json!({"action": "rotate", "namespace": "acme", "key": key, "new_key": rotated}))
            .await;
    assert_eq!(code, 200);
    // The namespace now opens with the new password only.
    let with = |k: &str| NamespaceAuth {
        namespace: Some("acme".into()),
        namespace_key: Some(k.into()),
        ..NamespaceAuth::default()
    };
    let req = |k: &str| IngestRequest {
        raw_embedding: Some(vector(9)),
        model_version: "v1".into(),
        auth: with(k),
        ..Default::default()
    };
    assert!(t.client.ingest(&req(key)).await.is_err());
    t.client.ingest(&req(rotated)).await.unwrap();
    assert_eq!(
        admin(json!({"action": "list"})).await.1,
        json!({"namespaces": ["acme"]})
    );
    assert_eq!(
        admin(json!({"action": "delete", "namespace": "acme", "key": rotated}))
            .await
            .0,
        200
    );
    assert_eq!(
        admin(json!({"action": "list"})).await.1,
        json!({"namespaces": []})
    );

    // Wallet statistics count verified signatures only.
    let alice = Keypair::from_uri("//Alice").unwrap();
    let body = signed(
        json!({"raw_embedding": vector(5), "metadata": {}}),
        "IngestSynapse",
        &alice,
    );
    assert_eq!(send(url, "/IngestSynapse", Some(&body)).await.0, 200);
    let claimed = json!({"raw_embedding": vector(6), "metadata": {}, "hotkey": alice.ss58()});
    assert_eq!(
        send(url, "/IngestSynapse", Some(&claimed)).await.0,
        401,
        "a claim is no signature"
    );
    let q = signed(json!({"query_vector": vector(5)}), "QuerySynapse", &alice);
    assert_eq!(send(url, "/QuerySynapse", Some(&q)).await.0, 200);
    let (code, all) = send(url, "/wallet-stats", None).await;
    assert_eq!(code, 200);
    assert_eq!(all.as_array().unwrap().len(), 1);
    assert_eq!(all[0]["hotkey"], alice.ss58());
    assert_eq!(
        (
            all[0]["ingest_count"].as_u64(),
            all[0]["query_count"].as_u64(),
            all[0]["cid_count"].as_u64()
        ),
        (Some(1), Some(1), Some(1))
    );
    let (_, one) = send(url, &format!("/wallet-stats/{}", alice.ss58()), None).await;
    assert_eq!(one["cids"].as_array().unwrap().len(), 1);
    let (_, nobody) = send(url, "/wallet-stats/5Nobody", None).await;
    assert_eq!(
        nobody,
        json!({"ingest_count": 0, "query_count": 0, "last_seen": 0.0, "cids": []})
    );
    t.node.shutdown().await.unwrap();
}

/// This machine's address on its default route, when it has one besides loopback.
fn lan_address() -> Option<IpAddr> {
    let s = UdpSocket::bind("0.0.0.0:0").ok()?;
    s.connect("10.255.255.255:9").ok()?;
    let ip = s.local_addr().ok()?.ip();
    (!ip.is_loopback() && !ip.is_unspecified()).then_some(ip)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operator_endpoints_refuse_other_machines() {
    let Some(ip) = lan_address() else {
        panic!("this machine has no address besides loopback to call the node from");
    };
    let t = spawn_node_for_tests(|c| c.listen = "0.0.0.0:0".parse().unwrap()).await;
    let port = t.node.local_addr().port();
    let from_lan = format!("http://{ip}:{port}");
    let (code, body) = send(&from_lan, "/namespace", Some(&json!({"action": "list"}))).await;
    assert_eq!((code, body), (403, json!({"error": "Forbidden"})));
    let (code, _) = send(&from_lan, "/wallet-stats", None).await;
    assert_eq!(code, 403);
    // Everything else answers other machines as before.
    assert_eq!(send(&from_lan, "/health", None).await.0, 200);
    t.node.shutdown().await.unwrap();
}
