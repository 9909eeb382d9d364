//! `kill -9` of a real `engram serve` under load: after a restart every acknowledged CID is
//! retrievable with the same vector.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use engram_client::Client;
use engram_client::api::IngestRequest;

use super::{serve, url_of, wait_healthy};

fn vector(seed: u64) -> Vec<f32> {
    engram_core::testing::unit_vector(seed)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_under_load_loses_no_acknowledged_ingest() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = serve(dir.path(), 0, &[], &[]);
    let url = url_of(dir.path(), &mut child).await;
    // The restart takes the same port back: the client's URL stays right.
    let port: u16 = url.rsplit(':').next().unwrap().parse().unwrap();
    let client = Client::with_options(
        &url,
        engram_client::ClientOptions {
            retries: 0,
            timeout: Duration::from_secs(5),
            ..Default::default()
        },
    )
    .unwrap();
    wait_healthy(&client).await;

    let acked: Arc<Mutex<Vec<(engram_core::Cid, u64)>>> = Arc::default();
    let mut writers = tokio::task::JoinSet::new();
    for w in 0..8u64 {
        let (client, acked) = (client.clone(), acked.clone());
        writers.spawn(async move {
            for n in 0.. {
                let seed = w * 1_000_000 + n;
                let req = IngestRequest {
                    raw_embedding: Some(vector(seed)),
                    model_version: "v1".into(),
                    ..Default::default()
                };
                match client.ingest(&req).await {
                    Ok(r) => {
                        let cid = r.cid.unwrap().parse().unwrap();
                        acked.lock().unwrap().push((cid, seed));
                    }
                    Err(_) => return, // the node is gone
                }
            }
        });
    }
    // A node that stopped acknowledging must fail the test, not hang it.
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    while acked.lock().unwrap().len() < 400 {
        assert!(
            std::time::Instant::now() < deadline,
            "only {} ingests acknowledged in 120 s",
            acked.lock().unwrap().len()
        );
        assert!(
            child.try_wait().unwrap().is_none(),
            "engram serve died under load"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    child.kill().unwrap(); // SIGKILL, mid-load
    child.wait().unwrap();
    while writers.join_next().await.is_some() {}

    let acked = acked.lock().unwrap().clone();
    assert!(acked.len() >= 400, "{} acknowledged", acked.len());
    let mut child = serve(dir.path(), port, &[], &[]);
    wait_healthy(&client).await;
    for (cid, seed) in &acked {
        let r = client
            .retrieve(cid)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("acknowledged {cid} lost"));
        assert_eq!(r.embedding, vector(*seed), "{cid} changed");
    }
    let count = client.stats().await.unwrap().memories;
    assert!(count >= acked.len() as u64);
    child.kill().unwrap();
    child.wait().unwrap();
}
