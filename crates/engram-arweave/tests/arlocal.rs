//! The client against a real Arweave gateway: arlocal 1.1.66, started for this test on a free
//! loopback port.
//!
//! arlocal is found in `ENGRAM_ARLOCAL_DIR` (default `<repo root>/.arlocal`) and installed there
//! by `scripts/arlocal.sh` when missing; the script is run every time because it returns in a
//! fraction of a second once installed and prints the wrapper to start. Without Node.js or
//! network access for the first install the test fails and says why: it never skips.
//!
//! Uploads are checked the way a user of the data would: mined, then downloaded and compared byte
//! for byte and by SHA-256, and the stored header fetched back, verified and its tags compared.

use std::time::Duration;

use engram_arweave::{
    ArweaveError, Client, DataLayout, Tag, Transaction, TxId, TxStatus, Wallet, engram_tags,
};
use rsa::rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha256};

#[path = "support/arlocal.rs"]
mod arlocal;
use arlocal::Arlocal;

/// The signed-transaction fixture's key: a public 4096-bit test key, the production size.
const FIXTURE: &str = include_str!("vectors/signed_v2_tx.json");

#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn upload_confirm_and_download_against_arlocal() {
    let mut arlocal = Arlocal::start().await;
    let client = Client::with_timeout(&arlocal.url, Duration::from_secs(30)).unwrap();

    // 2048 bits keeps key generation short in a debug build; the fixture key is 4096.
    let small_wallet = Wallet::generate(2048).unwrap();
    let fixture: serde_json::Value = serde_json::from_str(FIXTURE).unwrap();
    let big_wallet = Wallet::from_jwk(&fixture["jwk"].to_string()).unwrap();
    arlocal.mint(big_wallet.address()).await;

    let small = b"Engram keeps the original of this memory on Arweave.".to_vec();
    let small_sha = sha256(&small);
    let small_tags = engram_tags(
        "text/plain",
        &hex::encode(small_sha),
        Some("v1-small-memory"),
        false,
    );

    // Not funded yet: the upload is refused before anything is posted, with the numbers.
    match client.upload(&small_wallet, &small, &small_tags).await {
        Err(err @ ArweaveError::InsufficientFunds { .. }) => {
            let ArweaveError::InsufficientFunds {
                ref address,
                balance,
                required,
            } = err
            else {
                unreachable!()
            };
            assert_eq!((address.as_str(), balance), (small_wallet.address(), 0));
            assert!(required > 0);
            assert!(err.to_string().contains("fund the wallet"), "{err}");
        }
        other => panic!("an unfunded upload was not refused: {other:?}"),
    }
    // ...and arlocal applies the same rule to a transaction that reaches it.
    let layout = DataLayout::new(&small);
    let reward = arlocal.ok(client.price(layout.data_size()).await);
    let mut tx =
        Transaction::new(&layout, vec![Tag::new("App-Name", "Engram")], "", reward).unwrap();
    tx.sign(&small_wallet).unwrap();
    let (status, body) = arlocal.post("/tx", tx.to_json(Some(&small)).unwrap()).await;
    assert_eq!(
        status, 410,
        "arlocal's answer to an unfunded transaction: {body}"
    );

    // Inline: one chunk's worth or less goes in the transaction body.
    arlocal.mint(small_wallet.address()).await;
    let small_id = arlocal.ok(client.upload(&small_wallet, &small, &small_tags).await);

    // Chunked: 700 KiB of random bytes (arlocal merges byte-identical chunks, so no pattern),
    // three chunks posted after the header.
    let mut big = vec![0u8; 700 * 1024];
    OsRng.fill_bytes(&mut big);
    let big_sha = sha256(&big);
    let layout = DataLayout::new(&big);
    assert!(!layout.fits_inline());
    assert_eq!(layout.chunks().len(), 3);
    let big_tags = engram_tags(
        "application/octet-stream",
        &format!("sha256:{}", hex::encode(big_sha)),
        Some("v1-big-memory"),
        true,
    );
    let big_id = arlocal.ok(client.upload(&big_wallet, &big, &big_tags).await);

    for id in [&small_id, &big_id] {
        assert_eq!(
            arlocal.ok(client.status(id).await),
            TxStatus::Pending,
            "{id}"
        );
    }
    arlocal.mine().await;
    for id in [&small_id, &big_id] {
        match arlocal.ok(client.status(id).await) {
            TxStatus::Confirmed { height, .. } => assert!(height >= 1, "{id} at height {height}"),
            other => panic!("{id} is {other:?} after mining"),
        }
    }

    for (id, data, sha, tags, wallet) in [
        (&small_id, &small, small_sha, &small_tags, &small_wallet),
        (&big_id, &big, big_sha, &big_tags, &big_wallet),
    ] {
        let downloaded = arlocal.ok(client.download(id).await);
        assert!(
            downloaded == *data,
            "{id}: {} bytes back, {} sent",
            downloaded.len(),
            data.len()
        );
        let verified = arlocal.ok(client.download_verified(id, sha).await);
        assert_eq!(sha256(&verified), sha);

        let mut wrong = sha;
        wrong[0] ^= 0xff;
        match client.download_verified(id, wrong).await {
            Err(ArweaveError::HashMismatch {
                expected, actual, ..
            }) => assert_eq!((expected, actual), (wrong, sha)),
            other => panic!("{id}: a wrong hash was not refused: {other:?}"),
        }

        let stored = arlocal.ok(client.transaction(id).await);
        arlocal.ok(stored.verify());
        assert_eq!(stored.id(), Some(id));
        assert_eq!(stored.tags(), tags.as_slice(), "{id}");
        assert_eq!(stored.data_size(), data.len() as u64);
        assert_eq!(stored.owner_address().as_deref(), Some(wallet.address()));
        assert!(client.data_url(id).ends_with(&format!("/{id}")));
    }
    // The tags as the gateway serves them, decoded independently of the crate.
    let raw: serde_json::Value =
        serde_json::from_str(&arlocal.get(&format!("/tx/{big_id}")).await).unwrap();
    let engram_cid = raw["tags"]
        .as_array()
        .unwrap()
        .iter()
        .find(|tag| tag["name"] == "RW5ncmFtLUNJRA") // base64url("Engram-CID")
        .expect("an Engram-CID tag");
    assert_eq!(engram_cid["value"], "djEtYmlnLW1lbW9yeQ"); // base64url("v1-big-memory")

    let unknown: TxId = "YYsecjlH5ymDGTRWWP9xFJzoPrQCxzaRsuC1xGoF2cA"
        .parse()
        .unwrap();
    assert_eq!(
        arlocal.ok(client.status(&unknown).await),
        TxStatus::NotFound
    );
    assert!(matches!(
        client.download(&unknown).await,
        Err(ArweaveError::NotFound { .. })
    ));

    arlocal.assert_alive();
}

fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}
