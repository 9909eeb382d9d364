//! Key shares: kept for a namespace's signed owner only, each signature good once, bad
//! shares refused with their reason, the original's status codes.

use engram_core::keys::Keypair;
use engram_os::now_ms;
use engram_wire::{KeyShareRequest, KeyShareRetrieveRequest, NamespaceAuth};

use super::spawn_node_for_tests;

fn share_req(auth: NamespaceAuth, index: i64, hex: &str, k: i64, n: i64) -> KeyShareRequest {
    KeyShareRequest {
        auth,
        share_index: Some(index),
        share_hex: Some(hex.into()),
        threshold: Some(k),
        total: Some(n),
        node_hotkey: None,
    }
}

fn ask(auth: NamespaceAuth) -> KeyShareRetrieveRequest {
    KeyShareRetrieveRequest {
        auth,
        node_hotkey: None,
    }
}

fn status(e: engram_client::ClientError) -> (u16, String) {
    match e {
        engram_client::ClientError::Http { status, message } => (status, message),
        other => panic!("not an HTTP refusal: {other}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shares_are_kept_for_their_owner_only() {
    let t = spawn_node_for_tests(|_| {}).await;
    let c = &t.client;
    let (alice, bob) = (
        Keypair::from_uri("//Alice").unwrap(),
        Keypair::from_uri("//Bob").unwrap(),
    );
    let signed = |key: &Keypair, ms: u64| NamespaceAuth::signed_by("diary", key, ms).unwrap();

    // The first signed share claims a namespace this node has not met.
    let put = c
        .put_key_share(&share_req(signed(&alice, now_ms()), 2, "cb62", 2, 3))
        .await
        .unwrap();
    assert!(put.stored);
    let got = c
        .key_share(&ask(signed(&alice, now_ms() + 1)))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            got.share_index,
            got.share_hex.as_str(),
            got.threshold,
            got.total
        ),
        (2, "cb62", 2, 3)
    );
    // A new deposit replaces it.
    c.put_key_share(&share_req(signed(&alice, now_ms() + 2), 3, "00ff", 2, 3))
        .await
        .unwrap();
    let again = signed(&alice, now_ms() + 3);
    assert_eq!(
        c.key_share(&ask(again.clone()))
            .await
            .unwrap()
            .unwrap()
            .share_hex,
        "00ff"
    );

    // Replayed: the same signature a second time.
    let (code, why) = status(c.key_share(&ask(again.clone())).await.unwrap_err());
    assert_eq!(code, 401, "{why}");
    assert!(why.contains("already used"), "{why}");
    // Another hotkey, signing for itself: not the owner.
    let (code, why) = status(c.key_share(&ask(signed(&bob, now_ms()))).await.unwrap_err());
    assert_eq!(code, 403, "{why}");
    // Forged: Bob's hotkey named over Alice's signature.
    let mut forged = signed(&alice, now_ms() + 4);
    forged.namespace_hotkey = Some(bob.ss58());
    assert_eq!(status(c.key_share(&ask(forged)).await.unwrap_err()).0, 401);
    // Unsigned, or with the deprecated shared key: refused.
    let unsigned = NamespaceAuth {
        namespace: Some("diary".into()),
        namespace_key: Some("a long shared password".into()),
        ..NamespaceAuth::default()
    };
    let (code, why) = status(c.key_share(&ask(unsigned)).await.unwrap_err());
    assert_eq!(code, 401, "{why}");
    assert!(why.contains("namespace_hotkey, namespace_sig"), "{why}");
    // A namespace its owner claimed here by a write but gave no share: 404.
    c.ingest(&engram_wire::IngestRequest {
        raw_embedding: Some(super::vector(2)),
        model_version: "v1".into(),
        auth: NamespaceAuth::signed_by("noshare", &alice, now_ms()).unwrap(),
        ..Default::default()
    })
    .await
    .unwrap();
    let none = NamespaceAuth::signed_by("noshare", &alice, now_ms() + 7).unwrap();
    assert!(
        c.key_share(&ask(none)).await.unwrap().is_none(),
        "404: no share kept"
    );
    // A namespace this node never saw claimed: not the signer's here, so 403 (not 404).
    let other = NamespaceAuth::signed_by("other", &alice, now_ms()).unwrap();
    c.put_key_share(&share_req(other, 1, "01", 2, 2))
        .await
        .unwrap();
    let fresh = NamespaceAuth::signed_by("empty", &alice, now_ms()).unwrap();
    assert_eq!(
        status(c.key_share(&ask(fresh)).await.unwrap_err()).0,
        403,
        "unowned here"
    );

    // Bad shares, each with its reason; nothing replaced.
    for (index, hex, k, n, needle) in [
        (0, "ab", 2, 3, "share index 0"),
        (4, "ab", 2, 3, "share index 4"),
        (1, "ab", 1, 3, "2 ≤ threshold"),
        (1, "ab", 4, 3, "2 ≤ threshold"),
        (1, "AB", 2, 3, "lowercase hex"),
        (1, "abc", 2, 3, "not hex"),
        (1, "", 2, 3, "are required"),
        (1, "ab", 2, 300, "1–255"),
    ] {
        let req = share_req(signed(&alice, now_ms()), index, hex, k, n);
        let (code, why) = status(c.put_key_share(&req).await.unwrap_err());
        assert_eq!(code, 400, "{index} {hex} {k} {n}: {why}");
        assert!(why.contains(needle), "{why}");
    }
    let public = share_req(NamespaceAuth::default(), 1, "ab", 2, 3);
    assert_eq!(status(c.put_key_share(&public).await.unwrap_err()).0, 400);
    let last = signed(&alice, now_ms() + 5);
    assert_eq!(
        c.key_share(&ask(last)).await.unwrap().unwrap().share_hex,
        "00ff"
    );
    t.node.shutdown().await.unwrap();
}

fn signing(url: &str, key: &Keypair) -> engram_client::Client {
    engram_client::Client::with_options(
        url,
        engram_client::ClientOptions {
            signer: Some(std::sync::Arc::new(key.clone())),
            retries: 0,
            ..Default::default()
        },
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_deposit_binds_the_share_to_signed_requests() {
    let t = spawn_node_for_tests(|_| {}).await;
    let (alice, bob) = (
        Keypair::from_uri("//Alice").unwrap(),
        Keypair::from_uri("//Bob").unwrap(),
    );
    let signed = |ms: u64| NamespaceAuth::signed_by("vault", &alice, ms).unwrap();
    let owner = signing(&t.url, &alice);
    owner
        .put_key_share(&share_req(signed(now_ms()), 1, "aa", 2, 3))
        .await
        .unwrap();
    assert_eq!(
        owner
            .key_share(&ask(signed(now_ms() + 1)))
            .await
            .unwrap()
            .unwrap()
            .share_hex,
        "aa"
    );
    // A namespace signature seen on the wire — here one a private query carried — opens
    // nothing: the bound share wants the owner's request signature.
    let seen = signed(now_ms() + 2);
    t.client
        .query(&engram_wire::QueryRequest {
            query_vector: Some(super::vector(1)),
            auth: seen.clone(),
            ..Default::default()
        })
        .await
        .unwrap();
    let (code, why) = status(t.client.key_share(&ask(seen.clone())).await.unwrap_err());
    assert_eq!(code, 401, "{why}");
    assert!(why.contains("released only"), "{why}");
    // Nor can an unsigned deposit replace it.
    let (code, why) = status(
        t.client
            .put_key_share(&share_req(signed(now_ms() + 3), 1, "bb", 2, 3))
            .await
            .unwrap_err(),
    );
    assert_eq!(code, 403, "{why}");
    // Another hotkey's request signature over the owner's namespace signature: refused.
    let (code, _) = status(
        signing(&t.url, &bob)
            .key_share(&ask(signed(now_ms() + 4)))
            .await
            .unwrap_err(),
    );
    assert_eq!(code, 403);
    // A request naming another node: refused (this node is on no network).
    let mut elsewhere = ask(signed(now_ms() + 5));
    elsewhere.node_hotkey = Some(bob.ss58());
    let (code, why) = status(owner.key_share(&elsewhere).await.unwrap_err());
    assert_eq!(code, 403, "{why}");
    assert!(why.contains("not this one"), "{why}");
    // The share is unchanged.
    assert_eq!(
        owner
            .key_share(&ask(signed(now_ms() + 6)))
            .await
            .unwrap()
            .unwrap()
            .share_hex,
        "aa"
    );
    t.node.shutdown().await.unwrap();
}
