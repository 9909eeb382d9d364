//! Hostile requests: bodies built to crash, exhaust or fool a node. Each must get a clear
//! 4xx with an `error` message and leave the store exactly as it was: same commitment
//! roots, same leaf count, same number of memories (private ones included).

use engram_core::keys::Keypair;
use engram_wire::{IngestRequest, NamespaceAuth};
use serde_json::{Map, Value, json};

use crate::{commitment, now_ms, now_s, send, spawn_node_for_tests, vector};

/// A body signed by `key` for `endpoint` at `nonce`.
fn signed(body: Value, endpoint: &str, key: &Keypair, nonce: u64) -> Map<String, Value> {
    let Value::Object(mut map) = body else {
        panic!("object body")
    };
    engram_core::auth::sign_request(&mut map, endpoint, key, nonce).unwrap();
    map
}

/// Sends a body larger than the node reads: the node answers 413 from the declared length
/// and closes while the body is still being written, which an HTTP client library reports
/// as a broken pipe instead of the answer; so write the request by hand and read what
/// comes back.
async fn send_huge(
    addr: std::net::SocketAddr,
    method: &str,
    path: &str,
    body: Vec<u8>,
) -> (u16, Value) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (mut read, mut write) = stream.into_split();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    );
    let writer = tokio::spawn(async move {
        // The node may stop reading at any point; that is the point.
        let _ = write.write_all(head.as_bytes()).await;
        let _ = write.write_all(&body).await;
    });
    let mut answer = Vec::new();
    let _ = read.read_to_end(&mut answer).await;
    writer.abort();
    let text = String::from_utf8_lossy(&answer);
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no HTTP answer: {text:?}"));
    let json = text
        .split_once("\r\n\r\n")
        .and_then(|(_, b)| serde_json::from_str(b).ok())
        .unwrap_or(Value::Null);
    (status, json)
}

fn bytes(v: impl serde::Serialize) -> Vec<u8> {
    serde_json::to_vec(&v).unwrap()
}

fn nested(open: &str, close: &str, depth: usize, inner: &str) -> String {
    format!("{}{inner}{}", open.repeat(depth), close.repeat(depth))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_requests_get_4xx_and_change_nothing() {
    let t = spawn_node_for_tests(|_| {}).await;
    let (alice, bob) = (
        Keypair::from_uri("//Alice").unwrap(),
        Keypair::from_uri("//Bob").unwrap(),
    );
    // Something public and something private to protect.
    let stored = t
        .client
        .ingest(&IngestRequest {
            raw_embedding: Some(vector(1)),
            ..IngestRequest::default()
        })
        .await
        .unwrap()
        .cid
        .unwrap();
    t.client
        .ingest(&IngestRequest {
            raw_embedding: Some(vector(2)),
            auth: NamespaceAuth::signed("vault", &alice, now_ms()),
            ..IngestRequest::default()
        })
        .await
        .unwrap();
    // A signed ingest that is then replayed.
    let replayed = signed(
        json!({"raw_embedding": vector(3)}),
        "IngestSynapse",
        &alice,
        now_ms(),
    );
    let (first, _, _) = send(&t.url, "POST", "/IngestSynapse", Some(bytes(&replayed))).await;
    assert_eq!(first, 200);

    let before = commitment(&t).await;
    let memories = t.client.stats().await.unwrap().memories;

    let nonce = "ab".repeat(32);
    let exp = now_s() + 10.0;
    let v = |x: &str| format!("[{}]", vec![x; 384].join(","));
    let mut forged = signed(
        json!({"raw_embedding": vector(4)}),
        "IngestSynapse",
        &alice,
        now_ms(),
    );
    forged.insert("raw_embedding".into(), json!(vector(5)));
    let mut wrong_signer = signed(
        json!({"raw_embedding": vector(6)}),
        "IngestSynapse",
        &bob,
        now_ms(),
    );
    wrong_signer.insert("hotkey".into(), json!(alice.ss58()));
    let stale = signed(
        json!({"raw_embedding": vector(7)}),
        "IngestSynapse",
        &alice,
        now_ms() - 31_000,
    );
    let other_endpoint = signed(
        json!({"raw_embedding": vector(8)}),
        "QuerySynapse",
        &alice,
        now_ms(),
    );
    let mut bad_hotkey = signed(
        json!({"raw_embedding": vector(9)}),
        "IngestSynapse",
        &alice,
        now_ms(),
    );
    bad_hotkey.insert("hotkey".into(), json!("5NotAnAddress"));
    let mut bad_sig_hex = signed(
        json!({"raw_embedding": vector(10)}),
        "IngestSynapse",
        &alice,
        now_ms(),
    );
    bad_sig_hex.insert("signature".into(), json!(format!("0x{}", "gg".repeat(64))));
    let mut short_sig = signed(
        json!({"raw_embedding": vector(11)}),
        "IngestSynapse",
        &alice,
        now_ms(),
    );
    short_sig.insert("signature".into(), json!("0xabcd"));
    let mut huge_nonce = signed(
        json!({"raw_embedding": vector(12)}),
        "IngestSynapse",
        &alice,
        now_ms(),
    );
    huge_nonce.insert("nonce".into(), json!(u64::MAX));
    let ten_mb = vec![b' '; 10 << 20];
    let big_body = |field: &str| {
        let mut b = format!("{{\"{field}\": \"").into_bytes();
        b.extend(std::iter::repeat_n(b'a', 10 << 20));
        b.extend(b"\"}");
        b
    };
    let mut ns_sig = NamespaceAuth::signed("vault", &alice, now_ms());
    ns_sig.namespace_sig = Some("0xnothex".into());
    let emoji_ns = "🔥".repeat(100);
    let fullwidth_cid = format!("v1::{}", "０".repeat(64));
    let stored_path = format!("/retrieve/{stored}");
    let upper_path = format!("/retrieve/v1::{}", "AB".repeat(32));

    let cases: Vec<(&str, &str, &str, Vec<u8>, u16)> = vec![
        // Deep nesting: refused by the parser's depth limit, not by the stack.
        ("deep array in metadata", "POST", "/IngestSynapse",
            format!("{{\"text\":\"x\",\"metadata\":{{\"a\":{}}}}}", nested("[", "]", 100_000, "")).into_bytes(), 400),
        ("deep object in metadata", "POST", "/IngestSynapse",
            format!("{{\"text\":\"x\",\"metadata\":{}}}", nested("{\"a\":", "}", 50_000, "1")).into_bytes(), 400),
        ("deep unknown field", "POST", "/QuerySynapse",
            format!("{{\"query_text\":\"x\",\"zz\":{}}}", nested("[", "]", 100_000, "")).into_bytes(), 400),
        ("deep body of a signed request", "POST", "/IngestSynapse",
            format!("{{\"hotkey\":\"x\",\"nonce\":1,\"signature\":\"0x\",\"m\":{}}}", nested("[", "]", 100_000, "")).into_bytes(), 400),
        ("deep attestation", "POST", "/AttestNamespace", nested("[", "]", 100_000, "").into_bytes(), 400),
        // Huge numbers.
        ("top_k 1e400", "POST", "/QuerySynapse", br#"{"query_text":"x","top_k":1e400}"#.to_vec(), 400),
        ("top_k past u64", "POST", "/QuerySynapse", br#"{"query_text":"x","top_k":18446744073709551616}"#.to_vec(), 400),
        ("top_k i64::MAX", "POST", "/QuerySynapse", br#"{"query_text":"x","top_k":9223372036854775807}"#.to_vec(), 400),
        ("vector past f32", "POST", "/IngestSynapse", format!("{{\"raw_embedding\":{}}}", v("3.5e39")).into_bytes(), 400),
        ("metadata number 1e400", "POST", "/IngestSynapse", br#"{"text":"x","metadata":{"n":1e400}}"#.to_vec(), 400),
        ("expires_at 1e309", "POST", "/ChallengeSynapse",
            format!("{{\"cid\":\"{stored}\",\"nonce_hex\":\"{nonce}\",\"expires_at\":1e309}}").into_bytes(), 400),
        ("negative namespace timestamp", "POST", "/IngestSynapse",
            format!("{{\"raw_embedding\":{},\"namespace\":\"vault\",\"namespace_hotkey\":\"{}\",\"namespace_sig\":\"0x00\",\"namespace_timestamp_ms\":-1}}", v("0.1"), alice.ss58()).into_bytes(), 400),
        ("nonce u64::MAX", "POST", "/IngestSynapse", bytes(&huge_nonce), 401),
        // NaN and infinities are not JSON.
        ("NaN vector", "POST", "/QuerySynapse", format!("{{\"query_vector\":{}}}", v("NaN")).into_bytes(), 400),
        ("Infinity vector", "POST", "/IngestSynapse", format!("{{\"raw_embedding\":{}}}", v("Infinity")).into_bytes(), 400),
        ("-Infinity expires_at", "POST", "/ChallengeSynapse",
            format!("{{\"cid\":\"{stored}\",\"nonce_hex\":\"{nonce}\",\"expires_at\":-Infinity}}").into_bytes(), 400),
        // Wrong types.
        ("null body", "POST", "/IngestSynapse", b"null".to_vec(), 400),
        ("string body", "POST", "/QuerySynapse", br#""query""#.to_vec(), 400),
        ("number body", "POST", "/ChallengeSynapse", b"42".to_vec(), 400),
        ("text as list", "POST", "/IngestSynapse", br#"{"text":["a"]}"#.to_vec(), 400),
        ("metadata as string", "POST", "/IngestSynapse", br#"{"text":"a","metadata":"{}"}"#.to_vec(), 400),
        ("namespace as number", "POST", "/IngestSynapse", br#"{"text":"a","namespace":5}"#.to_vec(), 400),
        ("filter as list", "POST", "/QuerySynapse", br#"{"query_text":"a","filter":[1]}"#.to_vec(), 400),
        ("top_k fractional", "POST", "/QuerySynapse", br#"{"query_text":"a","top_k":5.5}"#.to_vec(), 400),
        ("top_k boolean", "POST", "/QuerySynapse", br#"{"query_text":"a","top_k":true}"#.to_vec(), 400),
        ("vector as object", "POST", "/IngestSynapse", br#"{"raw_embedding":{"0":1}}"#.to_vec(), 400),
        ("cid as number", "POST", "/ChallengeSynapse", format!("{{\"cid\":1,\"nonce_hex\":\"{nonce}\",\"expires_at\":{exp}}}").into_bytes(), 400),
        ("version as string", "POST", "/ChallengeSynapse",
            format!("{{\"cid\":\"{stored}\",\"nonce_hex\":\"{nonce}\",\"expires_at\":{exp},\"version\":\"2\"}}").into_bytes(), 400),
        ("timestamp as string", "POST", "/AttestNamespace",
            format!("{{\"namespace\":\"n\",\"owner_hotkey\":\"{}\",\"signature\":\"0x\",\"timestamp_ms\":\"1\"}}", alice.ss58()).into_bytes(), 400),
        ("list body on delete", "DELETE", &stored_path, b"[1]".to_vec(), 400),
        // Unicode edge cases.
        ("lone surrogate", "POST", "/IngestSynapse", br#"{"text":"\ud800"}"#.to_vec(), 400),
        ("invalid UTF-8", "POST", "/IngestSynapse", b"{\"text\":\"\xff\xfe\"}".to_vec(), 400),
        ("overlong UTF-8", "POST", "/IngestSynapse", b"{\"text\":\"\xc0\xaf\"}".to_vec(), 400),
        ("byte order mark", "POST", "/IngestSynapse", b"\xef\xbb\xbf{\"text\":\"x\"}".to_vec(), 400),
        ("NUL in namespace", "POST", "/IngestSynapse", bytes(json!({"text": "x", "namespace": "va\u{0}ult"})), 400),
        ("namespace of 400 bytes", "POST", "/QuerySynapse", bytes(json!({"query_text": "x", "namespace": emoji_ns})), 400),
        ("8193 astral characters", "POST", "/IngestSynapse", bytes(json!({"text": "𝕏".repeat(8193)})), 400),
        ("fullwidth digits in a CID", "POST", "/prove-memory", bytes(json!({"cid": fullwidth_cid})), 400),
        ("RTL override in a CID", "GET", "/retrieve/v1::%E2%80%AEabc", vec![], 400),
        ("NUL in an attestation lookup", "GET", "/attestation/va%00ult", vec![], 400),
        // 10 MB bodies.
        ("10 MB of whitespace", "POST", "/IngestSynapse", ten_mb.clone(), 413),
        ("10 MB text", "POST", "/IngestSynapse", big_body("text"), 413),
        ("10 MB query", "POST", "/QuerySynapse", big_body("query_text"), 413),
        ("10 MB challenge", "POST", "/ChallengeSynapse", big_body("cid"), 413),
        ("10 MB attestation", "POST", "/AttestNamespace", big_body("namespace"), 413),
        ("10 MB delete", "DELETE", &stored_path, big_body("namespace"), 413),
        // Bad hex.
        ("nonce_hex not hex", "POST", "/ChallengeSynapse",
            bytes(json!({"cid": stored, "nonce_hex": "zz".repeat(32), "expires_at": exp})), 400),
        ("nonce_hex odd length", "POST", "/ChallengeSynapse",
            bytes(json!({"cid": stored, "nonce_hex": "abc", "expires_at": exp})), 400),
        ("nonce_hex multibyte", "POST", "/ChallengeSynapse",
            bytes(json!({"cid": stored, "nonce_hex": "é".repeat(32), "expires_at": exp})), 400),
        ("hotkey hex short", "POST", "/ChallengeSynapse",
            bytes(json!({"cid": stored, "nonce_hex": nonce, "expires_at": exp, "validator_hotkey_hex": "ab".repeat(31)})), 400),
        ("embedding_hash not hex", "POST", "/prove-memory", bytes(json!({"cid": stored, "embedding_hash": "zz"})), 400),
        ("namespace_sig not hex", "POST", "/QuerySynapse",
            bytes(json!({"query_text": "x", "namespace": "vault", "namespace_hotkey": ns_sig.namespace_hotkey,
                "namespace_sig": ns_sig.namespace_sig, "namespace_timestamp_ms": ns_sig.namespace_timestamp_ms})), 401),
        ("request signature not hex", "POST", "/IngestSynapse", bytes(&bad_sig_hex), 401),
        ("request signature short", "POST", "/IngestSynapse", bytes(&short_sig), 401),
        ("CID with uppercase hex", "GET", &upper_path, vec![], 400),
        // Forged and replayed signatures.
        ("replayed request", "POST", "/IngestSynapse", bytes(&replayed), 401),
        ("body changed after signing", "POST", "/IngestSynapse", bytes(&forged), 401),
        ("signed by another key", "POST", "/IngestSynapse", bytes(&wrong_signer), 401),
        ("stale nonce", "POST", "/IngestSynapse", bytes(&stale), 401),
        ("signed for another endpoint", "POST", "/IngestSynapse", bytes(&other_endpoint), 401),
        ("hotkey not SS58", "POST", "/IngestSynapse", bytes(&bad_hotkey), 401),
        ("half the auth fields", "POST", "/IngestSynapse", bytes(json!({"raw_embedding": vector(13), "hotkey": alice.ss58()})), 401),
        ("someone else's namespace", "POST", "/IngestSynapse",
            bytes(IngestRequest { raw_embedding: Some(vector(14)), auth: NamespaceAuth::signed("vault", &bob, now_ms()), ..IngestRequest::default() }), 403),
        ("stale namespace signature", "POST", "/IngestSynapse",
            bytes(IngestRequest { raw_embedding: Some(vector(15)), auth: NamespaceAuth::signed("vault", &alice, now_ms() - 61_000), ..IngestRequest::default() }), 401),
        ("delete a public memory", "DELETE", &stored_path, b"{}".to_vec(), 403),
        ("delete signed by another key", "DELETE", &stored_path,
            bytes(NamespaceAuth::signed("vault", &bob, now_ms())), 403),
    ];
    let n = cases.len();
    for (name, method, path, body, want) in cases {
        let (status, json) = if body.len() > 1 << 20 {
            send_huge(t.node.local_addr(), method, path, body).await
        } else {
            let body = if method == "GET" { None } else { Some(body) };
            let (status, json, _) = send(&t.url, method, path, body).await;
            (status, json)
        };
        let message = json["error"].as_str().unwrap_or_default();
        assert_eq!(status, want, "{name}: {json}");
        assert!(!message.is_empty(), "{name}: no error message in {json}");
        assert_eq!(
            commitment(&t).await,
            before,
            "{name} changed the commitment"
        );
        assert_eq!(
            t.client.stats().await.unwrap().memories,
            memories,
            "{name} changed the memory count"
        );
    }
    assert!(n >= 60, "{n} cases");
    // And the node still serves.
    assert_eq!(t.client.health().await.unwrap().status, "ok");
    t.node.shutdown().await.unwrap();
}
