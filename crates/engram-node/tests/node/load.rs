use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use engram_wire::{IngestRequest, QueryRequest};

use super::{spawn_node_for_tests, vector};

/// 64 concurrent clients mixing text and vector ingests and queries for 30 s: no request
/// fails, and the node's count is exactly the number of distinct memories acknowledged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_four_clients_for_thirty_seconds_lose_nothing() {
    let t = spawn_node_for_tests(|_| {}).await;
    let acked: Arc<Mutex<HashSet<String>>> = Arc::default();
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut tasks = tokio::task::JoinSet::new();
    for client_id in 0..64u64 {
        let client = t.client.clone();
        let acked = acked.clone();
        tasks.spawn(async move {
            let mut n = 0u64;
            let mut requests = 0u64;
            while Instant::now() < deadline {
                let seed = client_id * 1_000_000 + n;
                match n % 4 {
                    0 => {
                        let r = client
                            .ingest(&IngestRequest {
                                raw_embedding: Some(vector(seed)),
                                model_version: "v1".into(),
                                ..Default::default()
                            })
                            .await?;
                        acked.lock().unwrap().insert(r.cid.unwrap());
                    }
                    1 => {
                        let text = format!("client {client_id} remembers fact number {n}");
                        let r = client
                            .ingest(&IngestRequest {
                                text: Some(text),
                                model_version: "v1".into(),
                                ..Default::default()
                            })
                            .await?;
                        acked.lock().unwrap().insert(r.cid.unwrap());
                    }
                    2 => {
                        let r = client
                            .query(&QueryRequest {
                                query_vector: Some(vector(seed)),
                                top_k: Some(5),
                                ..Default::default()
                            })
                            .await?;
                        assert!(r.results.len() <= 5);
                    }
                    _ => {
                        client
                            .query(&QueryRequest {
                                query_text: Some(format!("fact number {n}")),
                                top_k: Some(3),
                                ..Default::default()
                            })
                            .await?;
                    }
                }
                n += 1;
                requests += 1;
            }
            Ok::<u64, engram_client::ClientError>(requests)
        });
    }
    let mut total = 0;
    while let Some(r) = tasks.join_next().await {
        total += r
            .unwrap()
            .unwrap_or_else(|e| panic!("a request failed under load: {e}"));
    }
    let expected = acked.lock().unwrap().len() as u64;
    let stats = t.client.stats().await.unwrap();
    assert_eq!(
        stats.memories, expected,
        "exact count after {total} requests"
    );
    assert_eq!(t.client.commitment().await.unwrap().size, expected);
    eprintln!("{total} requests in 30 s, {expected} memories");
    t.node.shutdown().await.unwrap();
}
