//! A private namespace from the command line against a real node joined to a devnet
//! registry: signing with a wallet, attestation, tiers that follow stake, and get/delete
//! that only the owner can do.

use std::time::{Duration, Instant};

use serde_json::Value;

use super::{Killed, engram, fails, json, serve, url_of, wait_healthy};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_private_namespace_from_the_cli_signed_attested_and_tiered() {
    let net = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let me = tempfile::tempdir().unwrap();
    let n = net.path().to_str().unwrap();
    let wallets = net.path().join("wallets");
    let wallets = wallets.to_str().unwrap();
    for name in ["alice", "bob", "node"] {
        json(me.path(), &["--network", n, "wallet", "new", name]);
    }
    let staked = json(
        me.path(),
        &[
            "devnet", "stake", "--dir", n, "--wallet", "alice", "--amount", "150",
        ],
    );
    assert_eq!(staked["trust_tier"], "verified");

    let mut node = Killed(serve(
        data.path(),
        0,
        &["--network", n, "--wallet", "node"],
        &[("ENGRAM_ATTESTATION_REFRESH_S", "1")],
    ));
    let url = url_of(data.path(), &mut node.0).await;
    wait_healthy(&engram_client::Client::new(&url).unwrap()).await;

    let at = |extra: &[&str]| -> Vec<String> {
        let mut v: Vec<String> = ["--node", &url, "--wallet-dir", wallets]
            .iter()
            .map(|s| s.to_string())
            .collect();
        v.extend(extra.iter().map(|s| s.to_string()));
        v
    };
    let run = |extra: &[&str]| -> Value {
        let args = at(extra);
        json(
            me.path(),
            &args.iter().map(String::as_str).collect::<Vec<_>>(),
        )
    };
    let refused = |extra: &[&str], code: i32| -> String {
        let args = at(extra);
        fails(
            me.path(),
            &args.iter().map(String::as_str).collect::<Vec<_>>(),
            None,
            code,
        )
    };

    let text = "The spare key is taped under the third drawer.";
    let cid = run(&["ingest", text, "--namespace", "diary", "--wallet", "alice"])["cid"]
        .as_str()
        .unwrap()
        .to_string();
    let public = run(&["ingest", "A public fact about drawers."])["cid"]
        .as_str()
        .unwrap()
        .to_string();

    // Unsigned or someone else's: clear refusals.
    let e = refused(&["query", "spare key", "--namespace", "diary"], 1);
    assert!(e.contains("401") || e.contains("private"), "{e}");
    let e = refused(
        &[
            "query",
            "spare key",
            "--namespace",
            "diary",
            "--wallet",
            "bob",
        ],
        1,
    );
    assert!(e.contains("another key"), "{e}");
    let e = fails(
        me.path(),
        &["query", "x", "--namespace", "diary", "--wallet", "alice"],
        None,
        2,
    );
    assert!(e.contains("--node"), "{e}");

    // The owner reads it; not yet attested, so anonymous.
    let q = |min: Option<&str>| -> Vec<Value> {
        let mut args = vec![
            "query",
            "where is the spare key",
            "--namespace",
            "diary",
            "--wallet",
            "alice",
        ];
        if let Some(m) = min {
            args.extend(["--min-tier", m]);
        }
        run(&args)["results"].as_array().unwrap().clone()
    };
    let hits = q(None);
    assert_eq!(hits[0]["cid"], cid.as_str());
    assert_eq!(hits[0]["trust_tier"], "anonymous");

    // Attested by its owner at 150 stake: verified.
    let a = run(&["attest", "diary", "--wallet", "alice"]);
    assert_eq!(a["trust_tier"], "verified");
    let e = refused(&["attest", "diary", "--wallet", "bob"], 1);
    assert!(e.contains("another key"), "{e}");
    assert_eq!(q(None)[0]["trust_tier"], "verified");
    assert_eq!(q(Some("verified")).len(), 1);
    assert!(q(Some("sovereign")).is_empty());

    // More stake: the node's refresh lifts the tier.
    json(
        me.path(),
        &[
            "devnet", "stake", "--dir", n, "--wallet", "alice", "--amount", "900",
        ],
    );
    let deadline = Instant::now() + Duration::from_secs(15);
    while q(None)[0]["trust_tier"] != "sovereign" {
        assert!(Instant::now() < deadline, "tier did not follow the stake");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let shown = run(&["attestation", "diary"]);
    assert_eq!(shown["attested"], true);
    assert_eq!(shown["stake_tao"], 1050.0);

    // Vectors made here for a private namespace leave noised unless told otherwise.
    let record = serde_json::json!({"embedding": engram_core::testing::unit_vector(5)}).to_string();
    let exact = String::from_utf8(engram(me.path(), &["cid"], Some(&record)).stdout).unwrap();
    let send = |extra: &[&str]| -> String {
        let mut args = at(&[
            "--json",
            "ingest",
            "--vector",
            "-",
            "--namespace",
            "diary",
            "--wallet",
            "alice",
        ]);
        args.extend(extra.iter().map(|s| s.to_string()));
        let out = engram(
            me.path(),
            &args.iter().map(String::as_str).collect::<Vec<_>>(),
            Some(&record),
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<Value>(&out.stdout).unwrap()["cid"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_ne!(send(&[]), exact.trim(), "noised by default");
    assert_eq!(send(&["--dp-epsilon", "none"]), exact.trim());
    let bad = engram(me.path(), &["ingest", "x", "--dp-epsilon", "0"], None);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("positive number or `none`"));

    // Get and delete: the owner only; public memories are permanent.
    let rec = run(&["get", &cid, "--namespace", "diary", "--wallet", "alice"]);
    assert_eq!(rec["text"], text);
    refused(&["get", &cid, "--namespace", "diary"], 1);
    refused(
        &["delete", &cid, "--namespace", "diary", "--wallet", "bob"],
        1,
    );
    let e = refused(&["delete", &public, "--wallet", "alice"], 1);
    assert!(e.contains("permanent"), "{e}");
    run(&["delete", &cid, "--namespace", "diary", "--wallet", "alice"]);
    let e = refused(
        &["get", &cid, "--namespace", "diary", "--wallet", "alice"],
        1,
    );
    assert!(e.contains("no memory"), "{e}");
    let out = engram(
        me.path(),
        &at(&["get", &public])
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
        None,
    );
    assert!(out.status.success(), "the public memory is still there");
}
