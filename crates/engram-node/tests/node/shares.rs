//! Key shares: kept for a namespace's signed owner only, each signature good once, bad
//! shares refused with their reason, the original's status codes.

use engram_core::keys::Keypair;
use engram_os::now_ms;
use engram_wire::{KeyShareRequest, NamespaceAuth};

use super::spawn_node_for_tests;

fn share_req(auth: NamespaceAuth, index: i64, hex: &str, k: i64, n: i64) -> KeyShareRequest {
    KeyShareRequest {
        auth,
        share_index: Some(index),
        share_hex: Some(hex.into()),
        threshold: Some(k),
        total: Some(n),
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
        .key_share(&signed(&alice, now_ms() + 1))
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
        c.key_share(&again).await.unwrap().unwrap().share_hex,
        "00ff"
    );

    // Replayed: the same signature a second time.
    let (code, why) = status(c.key_share(&again).await.unwrap_err());
    assert_eq!(code, 401, "{why}");
    assert!(why.contains("already used"), "{why}");
    // Another hotkey, signing for itself: not the owner.
    let (code, why) = status(c.key_share(&signed(&bob, now_ms())).await.unwrap_err());
    assert_eq!(code, 403, "{why}");
    // Forged: Bob's hotkey named over Alice's signature.
    let mut forged = signed(&alice, now_ms() + 4);
    forged.namespace_hotkey = Some(bob.ss58());
    assert_eq!(status(c.key_share(&forged).await.unwrap_err()).0, 401);
    // Unsigned, or with the deprecated shared key: refused.
    let unsigned = NamespaceAuth {
        namespace: Some("diary".into()),
        namespace_key: Some("a long shared password".into()),
        ..NamespaceAuth::default()
    };
    let (code, why) = status(c.key_share(&unsigned).await.unwrap_err());
    assert_eq!(code, 401, "{why}");
    assert!(why.contains("namespace_hotkey, namespace_sig"), "{why}");
    // Nothing stored for a namespace its owner has no share in.
    let other = NamespaceAuth::signed_by("other", &alice, now_ms()).unwrap();
    c.put_key_share(&share_req(other, 1, "01", 2, 2))
        .await
        .unwrap();
    let fresh = NamespaceAuth::signed_by("empty", &alice, now_ms()).unwrap();
    assert_eq!(
        status(c.key_share(&fresh).await.unwrap_err()).0,
        403,
        "unowned here"
    );

    // Bad shares, each with its reason; nothing replaced.
    for (index, hex, k, n, needle) in [
        (0, "ab", 2, 3, "share_index"),
        (4, "ab", 2, 3, "share_index"),
        (1, "ab", 1, 3, "2 ≤ threshold"),
        (1, "ab", 4, 3, "2 ≤ threshold"),
        (1, "AB", 2, 3, "lowercase hex"),
        (1, "abc", 2, 3, "lowercase hex"),
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
    assert_eq!(c.key_share(&last).await.unwrap().unwrap().share_hex, "00ff");
    t.node.shutdown().await.unwrap();
}
