//! Documents through the `engram` binary: PDFs, images (OCR) and pages into memories and
//! blobs; Arweave uploads against a real arlocal, a failed upload queued and pushed later;
//! bad documents refused with one message, changing nothing.

use std::path::Path;
use std::process::Output;

use serde_json::Value;

use crate::{engram, engram_command, fails, fingerprint, json};

#[path = "../../../engram-arweave/tests/support/arlocal.rs"]
mod arlocal;

fn fixture(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../engram-media/tests/fixtures")
        .join(name)
}

fn write_pdf(dir: &Path, name: &str, pages: usize) -> std::path::PathBuf {
    let text: Vec<String> = (1..=pages)
        .map(|i| format!("Page {i} of the atlas describes the river delta number {i}. ").repeat(10))
        .collect();
    let path = dir.join(name);
    std::fs::write(&path, engram_media::pdf::build("River Atlas", &text)).unwrap();
    path
}

#[test]
fn pdfs_and_images_become_memories_and_blobs() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let pdf = write_pdf(d, "atlas.pdf", 4);
    let out = json(
        d,
        &[
            "ingest",
            "--pdf",
            pdf.to_str().unwrap(),
            "--metadata",
            r#"{"box":"7"}"#,
        ],
    );
    assert_eq!(out["pages"], 4);
    assert_eq!(out["title"], "River Atlas");
    assert_eq!(out["arweave"], "off");
    let content_cid = out["content_cid"].as_str().unwrap().to_string();
    let hits = json(d, &["query", "river delta number 3", "--top-k", "1"]);
    let hit = &hits["results"][0];
    assert_eq!(hit["metadata"]["content_cid"], content_cid);
    assert_eq!(hit["metadata"]["page"], 3);
    assert_eq!(hit["metadata"]["box"], "7");

    let back = d.join("back.pdf");
    let got = engram(
        d,
        &["blob", "get", &content_cid, "--out", back.to_str().unwrap()],
        None,
    );
    assert!(
        got.status.success(),
        "{}",
        String::from_utf8_lossy(&got.stderr)
    );
    assert_eq!(std::fs::read(&back).unwrap(), std::fs::read(&pdf).unwrap());

    // An image: its text by OCR (tesseract, installed by scripts/test-tools.sh).
    let png = fixture("text.png");
    let out = json(d, &["ingest", "--image", png.to_str().unwrap()]);
    assert_eq!(out["cids"].as_array().unwrap().len(), 1);
    let hits = json(d, &["query", "quarterly revenue growth", "--top-k", "1"]);
    assert_eq!(hits["results"][0]["metadata"]["type"], "image");
    assert!(
        hits["results"][0]["metadata"]["text"]
            .as_str()
            .unwrap()
            .contains("Quarterly revenue grew 42 percent")
    );
    // With a description, that is what is embedded.
    let out = json(
        d,
        &[
            "ingest",
            "--image",
            fixture("text.jpg").to_str().unwrap(),
            "--description",
            "a banner about memories",
        ],
    );
    assert_eq!(out["cids"].as_array().unwrap().len(), 1);
    let status = json(d, &["status"]);
    assert_eq!(status["blobs"], 3);
    assert_eq!(status["pending_uploads"], 0);
}

#[test]
fn bad_documents_are_refused_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    json(d, &["ingest", "a first memory"]);
    let before = fingerprint(d);
    let not_pdf = d.join("notes.pdf");
    std::fs::write(&not_pdf, "just text").unwrap();
    let pdf = write_pdf(d, "big.pdf", 2);
    let empty = d.join("empty.pdf");
    std::fs::write(&empty, "").unwrap();
    let (not_pdf, pdf, empty) = (
        not_pdf.to_str().unwrap(),
        pdf.to_str().unwrap(),
        empty.to_str().unwrap(),
    );
    let missing = d.join("missing.pdf");
    let closed = format!("http://127.0.0.1:{}/", crate::free_port());
    let cases: &[(&[&str], i32, &str)] = &[
        (&["ingest", "--pdf", not_pdf], 1, "not a PDF"),
        (
            &["ingest", "--pdf", pdf, "--max-bytes", "100"],
            1,
            "the limit is 100",
        ),
        (&["ingest", "--pdf", empty], 1, "empty"),
        (
            &["ingest", "--pdf", missing.to_str().unwrap()],
            1,
            "cannot read",
        ),
        (
            &["ingest", "--image", pdf, "--description", "x"],
            1,
            "not a PNG, JPEG, GIF or WebP image",
        ),
        (&["ingest", "--url", &closed], 1, "fetching"),
        (
            &["ingest", "--url", "ftp://example.com/a"],
            1,
            "only http and https",
        ),
        (&["blob", "get", "sha256:nothex"], 2, "malformed CID"),
    ];
    for (args, code, says) in cases {
        let err = fails(d, args, None, *code);
        assert!(err.contains(says), "{args:?}: {err}");
    }
    assert_eq!(fingerprint(d), before);
    assert_eq!(json(d, &["status"])["blobs"], 0);
}

fn with_arweave(d: &Path, key_file: &Path, gateway: &str, args: &[&str]) -> Output {
    engram_command()
        .arg("--data-dir")
        .arg(d)
        .arg("--json")
        .args(args)
        .env("ARWEAVE_KEY_FILE", key_file)
        .env_remove("ARWEAVE_KEY")
        .env("ENGRAM_ARWEAVE_URL", gateway)
        .output()
        .unwrap()
}

fn ok_json(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn documents_go_to_arweave_and_a_failed_upload_is_retried() {
    let mut gw = arlocal::Arlocal::start().await;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_path_buf();
    let wallet = engram_arweave::Wallet::generate(2048).unwrap();
    gw.mint(wallet.address()).await;
    let key = d.join("wallet.json");
    std::fs::write(&key, wallet.to_jwk()).unwrap();

    // Uploaded at ingest: every chunk's metadata names the transaction.
    let pdf = write_pdf(&d, "atlas.pdf", 2);
    let bytes = std::fs::read(&pdf).unwrap();
    let (d2, k2, url2) = (d.clone(), key.clone(), gw.url.clone());
    let p2 = pdf.clone();
    let out = tokio::task::spawn_blocking(move || {
        with_arweave(&d2, &k2, &url2, &["ingest", "--pdf", p2.to_str().unwrap()])
    })
    .await
    .unwrap();
    let out = ok_json(&out);
    assert_eq!(out["arweave"], "uploaded", "{out}");
    let tx = out["arweave_tx_id"].as_str().unwrap().to_string();
    assert_eq!(out["arweave_url"], format!("{}/{tx}", gw.url));
    let rec = json(&d, &["get", out["cids"][0].as_str().unwrap()]);
    assert_eq!(rec["metadata"]["arweave_tx_id"], tx);
    gw.mine().await;
    let client = engram_arweave::Client::new(&gw.url).unwrap();
    let sha: [u8; 32] = *engram_core::Cid::for_content(&bytes).digest();
    assert_eq!(
        client
            .download_verified(&tx.parse().unwrap(), sha)
            .await
            .unwrap(),
        bytes
    );

    // The gateway unreachable: the ingest succeeds, the upload waits.
    let dead = format!("http://127.0.0.1:{}", crate::free_port());
    let png = fixture("text.png");
    let (d2, k2, p2) = (d.clone(), key.clone(), png.clone());
    let out = tokio::task::spawn_blocking(move || {
        with_arweave(
            &d2,
            &k2,
            &dead,
            &[
                "ingest",
                "--image",
                p2.to_str().unwrap(),
                "--description",
                "a chart",
            ],
        )
    })
    .await
    .unwrap();
    let out = ok_json(&out);
    assert_eq!(out["arweave"], "pending", "{out}");
    let rec = json(&d, &["get", out["cids"][0].as_str().unwrap()]);
    assert_eq!(rec["metadata"]["arweave"], "pending");
    assert_eq!(json(&d, &["status"])["pending_uploads"], 1);

    // Pushed once the gateway is back.
    let (d2, k2, url2) = (d.clone(), key.clone(), gw.url.clone());
    let pushed =
        tokio::task::spawn_blocking(move || with_arweave(&d2, &k2, &url2, &["blob", "push"]))
            .await
            .unwrap();
    assert_eq!(ok_json(&pushed)["uploaded"], 1);
    assert_eq!(json(&d, &["status"])["pending_uploads"], 0);
    let content_cid = out["content_cid"].as_str().unwrap();
    gw.mine().await;
    let info = json(&d, &["blob", "info", content_cid]);
    assert_eq!(info["archive"]["state"], "uploaded", "{info}");
    assert!(
        info["archive"]["confirmation"]
            .as_str()
            .unwrap()
            .starts_with("Confirmed"),
        "the gateway is asked: {info}"
    );
    let tx: engram_arweave::TxId = info["archive"]["tx_id"].as_str().unwrap().parse().unwrap();
    let png_bytes = std::fs::read(&png).unwrap();
    let sha: [u8; 32] = *engram_core::Cid::for_content(&png_bytes).digest();
    assert_eq!(client.download_verified(&tx, sha).await.unwrap(), png_bytes);
    gw.assert_alive();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_private_document_is_sealed_before_it_reaches_a_node() {
    let data = tempfile::tempdir().unwrap();
    let me = tempfile::tempdir().unwrap();
    let m = me.path();
    let wallets = m.join("wallets");
    let w = wallets.to_str().unwrap();
    for name in ["alice", "bob"] {
        json(m, &["--wallet-dir", w, "wallet", "new", name]);
    }
    let key = m.join("k.key");
    json(m, &["keys", "new", "--out", key.to_str().unwrap()]);
    let mut node = crate::Killed(crate::serve(data.path(), 0, &[], &[]));
    let url = crate::url_of(data.path(), &mut node.0).await;
    crate::wait_healthy(&engram_client::Client::new(&url).unwrap()).await;
    let pdf = write_pdf(m, "atlas.pdf", 3);
    let p = pdf.to_str().unwrap();
    let k = key.to_str().unwrap();
    let on = |args: &[&str]| -> Vec<String> {
        ["--node", url.as_str(), "--wallet-dir", w]
            .iter()
            .chain(args)
            .map(|s| s.to_string())
            .collect()
    };
    let run = |args: &[&str]| json(m, &on(args).iter().map(String::as_str).collect::<Vec<_>>());
    let refused = |args: &[&str]| {
        fails(
            m,
            &on(args).iter().map(String::as_str).collect::<Vec<_>>(),
            None,
            1,
        )
    };

    // Unsealed, or sealed without a private namespace: refused before anything is sent.
    let e = refused(&[
        "ingest",
        "--pdf",
        p,
        "--namespace",
        "vault",
        "--wallet",
        "alice",
    ]);
    assert!(e.contains("must be sealed first"), "{e}");
    let e = refused(&["ingest", "--pdf", p, "--encrypt", k]);
    assert!(e.contains("private namespace"), "{e}");

    let out = run(&[
        "ingest",
        "--pdf",
        p,
        "--namespace",
        "vault",
        "--wallet",
        "alice",
        "--encrypt",
        k,
    ]);
    let sealed_cid = out["content_cid"].as_str().unwrap().to_string();
    let plain_cid = engram_core::Cid::for_content(&std::fs::read(&pdf).unwrap()).to_string();
    assert_ne!(
        sealed_cid, plain_cid,
        "the node keeps the sealed file, not the PDF"
    );
    assert!(out["cids"].as_array().unwrap().len() >= 3);

    // The node holds ciphertext: no one but the signed owner gets even that.
    let anon = reqwest::get(format!("{url}/blob/{sealed_cid}"))
        .await
        .unwrap();
    assert_eq!(anon.status(), 403);
    let e = refused(&[
        "blob",
        "get",
        &sealed_cid,
        "--namespace",
        "vault",
        "--wallet",
        "bob",
    ]);
    assert!(e.contains("403") || e.contains("another"), "{e}");
    let back = m.join("back.pdf");
    let got = engram(
        m,
        &on(&[
            "blob",
            "get",
            &sealed_cid,
            "--namespace",
            "vault",
            "--wallet",
            "alice",
            "--decrypt",
            k,
            "--out",
            back.to_str().unwrap(),
        ])
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>(),
        None,
    );
    assert!(
        got.status.success(),
        "{}",
        String::from_utf8_lossy(&got.stderr)
    );
    assert_eq!(std::fs::read(&back).unwrap(), std::fs::read(&pdf).unwrap());

    // The memories are sealed too: only the key opens their text and metadata.
    let hits = run(&[
        "query",
        "river delta number 2",
        "--namespace",
        "vault",
        "--wallet",
        "alice",
        "--top-k",
        "1",
    ]);
    let meta = hits["results"][0]["metadata"].as_object().unwrap();
    assert_eq!(meta.keys().collect::<Vec<_>>(), vec!["engram_encrypted"]);
    let hits = run(&[
        "query",
        "river delta number 2",
        "--namespace",
        "vault",
        "--wallet",
        "alice",
        "--top-k",
        "20",
        "--decrypt",
        k,
    ]);
    // The vectors carry noise, so ranks are not asserted: every chunk comes back opened.
    let mut pages = std::collections::BTreeSet::new();
    for hit in hits["results"].as_array().unwrap() {
        let meta = &hit["metadata"];
        assert_eq!(meta["content_cid"], plain_cid);
        assert_eq!(meta["blob_cid"], sealed_cid);
        pages.insert(meta["page"].as_u64().unwrap());
    }
    assert_eq!(pages.into_iter().collect::<Vec<_>>(), vec![1, 2, 3]);

    // Forgetting the document: its sealed chunks are found with the key, then they and
    // the sealed file go in one request. Without the key, or by another wallet: nothing.
    let chunks = out["cids"].as_array().unwrap().len();
    let del = |wallet: &str, key: bool| {
        let mut a = vec![
            "delete",
            sealed_cid.as_str(),
            "--namespace",
            "vault",
            "--wallet",
            wallet,
        ];
        if key {
            a.extend(["--decrypt", k]);
        }
        on(&a)
    };
    fn strs(v: &[String]) -> Vec<&str> {
        v.iter().map(String::as_str).collect()
    }
    let e = fails(m, &strs(&del("alice", false)), None, 1);
    assert!(e.contains(&format!("{chunks} sealed memories")), "{e}");
    let e = fails(m, &strs(&del("bob", true)), None, 1);
    assert!(e.contains("403") || e.contains("owner"), "{e}");
    let hex = &sealed_cid["sha256:".len()..];
    let blob_file = data.path().join("blobs/sha256").join(&hex[..2]).join(hex);
    assert!(blob_file.exists(), "refused deletes left the file");
    let gone = json(m, &strs(&del("alice", true)));
    assert_eq!(gone["deleted"].as_array().unwrap().len(), chunks);
    assert_eq!(gone["blobs"], serde_json::json!([sealed_cid]));
    assert!(!blob_file.exists(), "the sealed file left the node's disk");
    let e = refused(&[
        "blob",
        "get",
        &sealed_cid,
        "--namespace",
        "vault",
        "--wallet",
        "alice",
    ]);
    assert!(e.contains("404") || e.contains("no blob"), "{e}");
    let listed = run(&["list", "--namespace", "vault", "--wallet", "alice"]);
    assert_eq!(listed["records"], serde_json::json!([]), "{listed}");
    let commitment: serde_json::Value = reqwest::get(format!("{url}/commitment"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(gone["root_v1"], commitment["root_hex"]);
    assert_eq!(commitment["size"], 0);
    let e = fails(m, &strs(&del("alice", true)), None, 1);
    assert!(e.contains("no document"), "{e}");
    assert!(node.0.try_wait().unwrap().is_none(), "the node is still up");
}
