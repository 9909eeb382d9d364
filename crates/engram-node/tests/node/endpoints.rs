use engram_core::merkle::{v1, v2};
use engram_core::proof::{proof_v1, proof_v2};
use engram_core::{Cid, cid_v1, embedding_hash_hex};
use engram_wire::{ChallengeRequest, IngestRequest, ListRequest, ProveMemoryRequest, QueryRequest};
use serde_json::json;

use super::{now_s, spawn_node_for_tests, vector};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_endpoint_answers_per_protocol() {
    let t = spawn_node_for_tests(|_| {}).await;
    let c = &t.client;
    assert_eq!(c.health().await.unwrap().status, "ok");

    // ingest: text, and a raw vector kept byte for byte
    let sky = IngestRequest {
        text: Some("The sky is blue because of Rayleigh scattering.".into()),
        metadata: json!({"source": "physics"}),
        ..Default::default()
    };
    let text = c.ingest(&sky).await.unwrap();
    assert!(text.stored && text.error.is_none());
    let again = c.ingest(&sky).await.unwrap();
    assert_eq!(
        (again.cid.as_ref(), again.stored),
        (text.cid.as_ref(), false)
    );
    let v = vector(7);
    let raw = c
        .ingest(&IngestRequest {
            raw_embedding: Some(v.clone()),
            metadata: json!({"n": 7}),
            model_version: "v1".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let raw_cid: Cid = raw.cid.clone().unwrap().parse().unwrap();
    let meta = json!({"n": 7});
    assert_eq!(raw_cid, cid_v1(&v, meta.as_object().unwrap(), "v1"));

    // query by text and by vector, with a filter
    let q = c
        .query(&QueryRequest {
            query_text: Some("why is the sky blue".into()),
            top_k: Some(1),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(q.results[0].cid, text.cid.clone().unwrap());
    assert_eq!(q.results[0].trust_tier.as_str(), "anonymous");
    let q = c
        .query(&QueryRequest {
            query_vector: Some(v.clone()),
            top_k: Some(2),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(q.results[0].cid, raw_cid.to_string());
    assert!((q.results[0].score - 1.0).abs() < 1e-5);
    assert!(q.results.windows(2).all(|w| w[0].score >= w[1].score));
    let filter = json!({"source": "physics"}).as_object().cloned();
    let q = c
        .query(&QueryRequest {
            query_vector: Some(v.clone()),
            filter,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(q.results.len(), 1);
    assert_eq!(q.results[0].cid, text.cid.clone().unwrap());

    // list: the public page, filtered, and its limits (core's page rule, 400 beyond it)
    let all = c.list(&ListRequest::default()).await.unwrap();
    assert_eq!((all.count, all.offset, all.limit), (2, 0, 50));
    assert!(all.records.iter().any(|r| r.cid == raw_cid.to_string()));
    let physics = c
        .list(&ListRequest {
            filter: json!({"source": "physics"}).as_object().cloned(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(physics.records.len(), 1);
    assert_eq!(
        physics.records[0].text.as_deref(),
        Some("The sky is blue because of Rayleigh scattering.")
    );
    for (limit, offset) in [(0, 0), (201, 0), (10, -1)] {
        let err = c
            .list(&ListRequest {
                limit: Some(limit),
                offset: Some(offset),
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert!(
            matches!(err, engram_client::ClientError::Http { status: 400, .. }),
            "{limit} {offset}: {err}"
        );
    }

    // retrieve returns the exact bytes
    let r = c.retrieve(&raw_cid).await.unwrap().unwrap();
    assert_eq!(r.embedding, v);
    assert_eq!(cid_v1(&r.embedding, &r.metadata, &r.model_version), raw_cid);
    assert!(
        c.retrieve(
            &format!("v1::{}", "00".repeat(32))
                .parse::<engram_core::Cid>()
                .unwrap()
        )
        .await
        .unwrap()
        .is_none()
    );

    // challenges: v1 without and with hotkey, v2
    let nonce = [9u8; 32];
    let hotkey = [4u8; 32];
    let ehash = embedding_hash_hex(&v);
    for (hk, version) in [
        (None, None),
        (Some(hotkey), Some(1)),
        (Some(hotkey), Some(2)),
        (None, Some(2)),
    ] {
        let resp = c
            .challenge(&ChallengeRequest {
                cid: raw_cid.to_string(),
                nonce_hex: hex::encode(nonce),
                expires_at: now_s() + 10.0,
                validator_hotkey_hex: hk.map(hex::encode),
                version,
            })
            .await
            .unwrap();
        assert_eq!(resp.embedding_hash, ehash);
        let want = match version {
            Some(2) => proof_v2(&raw_cid, &v, &nonce, hk.as_ref()),
            _ => proof_v1(&ehash, &nonce, hk.as_ref()),
        };
        assert_eq!(resp.proof, hex::encode(want), "{hk:?} {version:?}");
    }
    // an empty hotkey means none, as on the original network
    let resp = c
        .challenge(&ChallengeRequest {
            cid: raw_cid.to_string(),
            nonce_hex: hex::encode(nonce),
            expires_at: now_s() + 10.0,
            validator_hotkey_hex: Some(String::new()),
            version: None,
        })
        .await
        .unwrap();
    assert_eq!(resp.proof, hex::encode(proof_v1(&ehash, &nonce, None)));

    // commitment and inclusion proofs verify against it
    let com = c.commitment().await.unwrap();
    assert_eq!(com.size, 2);
    let p = c
        .prove_memory(&ProveMemoryRequest {
            cid: raw_cid.to_string(),
            embedding_hash: Some(ehash.clone()),
        })
        .await
        .unwrap();
    assert_eq!(p.root_hex, com.root_hex);
    let proof = v1::InclusionProof::from_json(&p.proof).unwrap();
    let mut root = [0u8; 32];
    hex::decode_to_slice(&com.root_hex, &mut root).unwrap();
    assert!(proof.verify_record(&raw_cid.to_string(), &ehash, &root));
    let proof2: v2::InclusionProof = serde_json::from_value(p.proof_v2).unwrap();
    hex::decode_to_slice(&com.root_v2_hex, &mut root).unwrap();
    assert!(proof2.verify(&root));

    // stats and metrics reflect the traffic
    let s = c.stats().await.unwrap();
    assert_eq!((s.memories, s.ingests, s.queries), (2, 3, 3));
    assert_eq!(s.challenges, 5);
    assert!((s.proof_rate - 1.0).abs() < 1e-9);
    assert!(s.p50_latency_ms > 0.0);
    let m = c.metrics().await.unwrap();
    assert!(
        m.contains("engram_requests_total{route=\"/IngestSynapse\",status=\"200\"} 3"),
        "{m}"
    );
    assert!(m.contains("engram_memories 2"));
    assert!(
        m.contains("engram_request_duration_seconds_bucket{route=\"/QuerySynapse\",le=\"+Inf\"} 3")
    );
    t.node.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_shutdown_keeps_everything_for_the_next_start() {
    let dir = tempfile::tempdir().unwrap();
    let config = super::test_config(dir.path());
    let node = engram_node::Node::bind(config.clone()).await.unwrap();
    let client = engram_client::Client::new(&format!("http://{}", node.local_addr())).unwrap();
    let mut cids = Vec::new();
    for i in 0..20 {
        let r = client
            .ingest(&IngestRequest {
                raw_embedding: Some(vector(i)),
                model_version: "v1".into(),
                ..Default::default()
            })
            .await
            .unwrap();
        cids.push(r.cid.unwrap());
    }
    let before = client.commitment().await.unwrap();
    node.shutdown().await.unwrap();
    let node = engram_node::Node::bind(config).await.unwrap();
    let client = engram_client::Client::new(&format!("http://{}", node.local_addr())).unwrap();
    assert_eq!(client.commitment().await.unwrap(), before);
    for (i, cid) in cids.iter().enumerate() {
        assert_eq!(
            client
                .retrieve(&cid.parse::<engram_core::Cid>().unwrap())
                .await
                .unwrap()
                .unwrap()
                .embedding,
            vector(i as u64)
        );
    }
    node.shutdown().await.unwrap();
}
