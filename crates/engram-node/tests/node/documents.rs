//! `POST /IngestDocument` and `GET /blob/{cid}` on a real node: a PDF becomes its chunks'
//! memories and a blob served byte for byte (and by range); a page is fetched only where
//! the operator allows; every bad document is refused with its status and changes nothing.

use base64::Engine as _;
use engram_core::Cid;
use serde_json::{Value, json};

use crate::{commitment, send, spawn_node_for_tests};

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn pages(n: usize) -> Vec<String> {
    (1..=n)
        .map(|i| {
            format!("Chapter {i}. The lighthouse keeper number {i} logs every passing ship. ")
                .repeat(25)
        })
        .collect()
}

async fn post(url: &str, body: Value) -> (u16, Value) {
    let (status, body, _) = send(
        url,
        "POST",
        "/IngestDocument",
        Some(serde_json::to_vec(&body).unwrap()),
    )
    .await;
    (status, body)
}

#[tokio::test]
async fn a_pdf_becomes_memories_and_a_blob_served_by_range() {
    let t = spawn_node_for_tests(|_| {}).await;
    let pdf = engram_media::pdf::build("Lighthouses", &pages(3));
    let (status, out) = post(
        &t.url,
        json!({"kind": "pdf", "data_b64": b64(&pdf), "filename": "lights.pdf", "metadata": {"shelf": "b"}}),
    )
    .await;
    assert_eq!(status, 200, "{out}");
    let content_cid = Cid::for_content(&pdf).to_string();
    assert_eq!(out["content_cid"], content_cid);
    assert_eq!(out["pages"], 3);
    assert_eq!(out["title"], "Lighthouses");
    assert_eq!(out["arweave"], "off");
    let cids = out["cids"].as_array().unwrap();
    assert!(cids.len() >= 6, "three long pages make several chunks each");

    // Each chunk is a memory whose metadata leads back to the blob and its page.
    let hits = t
        .client
        .query(&engram_wire::QueryRequest {
            query_text: Some("the keeper number 2 logs passing ships".into()),
            top_k: Some(50),
            ..Default::default()
        })
        .await
        .unwrap()
        .results;
    assert!(!hits.is_empty());
    for h in &hits {
        assert_eq!(h.metadata["content_cid"], content_cid);
        assert_eq!(h.metadata["type"], "pdf");
        assert_eq!(h.metadata["shelf"], "b");
        assert_eq!(h.metadata["filename"], "lights.pdf");
        assert!((1..=3).contains(&h.metadata["page"].as_u64().unwrap()));
    }

    // The blob: whole, by range, its record; checked by the SDK against the CID.
    assert_eq!(
        t.client.blob(&content_cid.parse().unwrap()).await.unwrap(),
        pdf
    );
    let http = reqwest::Client::new();
    let whole = http
        .get(format!("{}/blob/{content_cid}", t.url))
        .send()
        .await
        .unwrap();
    assert_eq!(whole.status(), 200);
    assert_eq!(whole.headers()["content-type"], "application/pdf");
    assert_eq!(whole.headers()["accept-ranges"], "bytes");
    let part = http
        .get(format!("{}/blob/{content_cid}", t.url))
        .header("range", "bytes=0-4")
        .send()
        .await
        .unwrap();
    assert_eq!(part.status(), 206);
    assert_eq!(
        part.headers()["content-range"].to_str().unwrap(),
        format!("bytes 0-4/{}", pdf.len())
    );
    assert_eq!(part.bytes().await.unwrap().as_ref(), b"%PDF-");
    let beyond = http
        .get(format!("{}/blob/{content_cid}", t.url))
        .header("range", format!("bytes={}-", pdf.len()))
        .send()
        .await
        .unwrap();
    assert_eq!(beyond.status(), 416);
    let (status, info, _) = send(&t.url, "GET", &format!("/blob/{content_cid}/info"), None).await;
    assert_eq!(status, 200);
    assert_eq!(info["size"], pdf.len());
    assert_eq!(info["namespace"], "public");
    let (status, _, _) = send(
        &t.url,
        "GET",
        &format!("/blob/{}", Cid::for_content(b"none")),
        None,
    )
    .await;
    assert_eq!(status, 404);
    let (status, _, _) = send(
        &t.url,
        "GET",
        &format!("/blob/{}", cids[0].as_str().unwrap()),
        None,
    )
    .await;
    assert_eq!(status, 400, "a memory CID is not a blob name");
    let health = t.client.health().await.unwrap();
    assert_eq!(health.blobs, Some(1));
    assert_eq!(health.pending_uploads, Some(0));

    // The same document again: the same CIDs, nothing new.
    let (status, again) = post(
        &t.url,
        json!({"kind": "pdf", "data_b64": b64(&pdf), "filename": "lights.pdf", "metadata": {"shelf": "b"}}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(again["cids"], out["cids"]);
    t.node.shutdown().await.unwrap();
}

#[tokio::test]
async fn bad_documents_get_their_status_and_change_nothing() {
    let t = spawn_node_for_tests(|c| c.max_document_bytes = 200_000).await;
    let before = commitment(&t).await;
    let pdf = engram_media::pdf::build("ok", &pages(1));
    let cases: Vec<(Value, u16, &str)> = vec![
        (
            json!({"kind": "pdf", "data_b64": b64(b"hello, not a pdf")}),
            400,
            "no %PDF- header",
        ),
        (json!({"kind": "pdf", "data_b64": "%%%"}), 400, "not base64"),
        (json!({"kind": "pdf"}), 400, "needs data_b64"),
        (
            json!({"kind": "pdf", "data_b64": b64(&vec![b'%'; 200_001])}),
            413,
            "limit",
        ),
        (
            json!({"kind": "zip", "data_b64": b64(&pdf)}),
            400,
            "kind must be",
        ),
        (
            json!({"kind": "image", "data_b64": b64(&pdf), "description": "x"}),
            400,
            "not a PNG",
        ),
        (
            json!({"kind": "pdf", "data_b64": b64(&pdf), "metadata": [1]}),
            400,
            "JSON object",
        ),
        (
            json!({"kind": "pdf", "data_b64": b64(&pdf), "metadata": {"big": "x".repeat(5000)}}),
            400,
            "metadata",
        ),
        (json!({"kind": "url"}), 400, "needs url"),
        (
            json!({"kind": "url", "url": format!("{}/health", t.url)}),
            403,
            "loopback",
        ),
        (
            json!({"kind": "url", "url": "http://169.254.169.254/latest/meta-data/"}),
            403,
            "link-local",
        ),
        (
            json!({"kind": "pdf", "data_b64": b64(&pdf), "namespace": "private-ns"}),
            401,
            "",
        ),
    ];
    for (body, want, says) in cases {
        let (status, out) = post(&t.url, body.clone()).await;
        assert_eq!(status, want, "{body:.200}: {out}");
        assert!(
            out["error"].as_str().unwrap_or_default().contains(says),
            "{body:.200}: {out}"
        );
    }
    assert_eq!(
        commitment(&t).await,
        before,
        "a refused document changes nothing"
    );
    assert_eq!(
        t.client.health().await.unwrap().blobs,
        Some(0),
        "and leaves no blob"
    );
    t.node.shutdown().await.unwrap();
}

#[tokio::test]
async fn pages_are_fetched_where_the_operator_allows_it() {
    use axum::routing::get;
    let page = "<html><head><title>Tide Tables</title></head><body><nav>x</nav>\
        <main><p>High tide in the harbour is at six in the morning.</p></main></body></html>";
    let app = axum::Router::new()
        .route(
            "/tides",
            get(move || async move { ([("content-type", "text/html")], page) }),
        )
        .route("/gone", get(|| async { axum::http::StatusCode::NOT_FOUND }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let site = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let t = spawn_node_for_tests(|c| c.allow_private_urls = true).await;
    let (status, out) = post(
        &t.url,
        json!({"kind": "url", "url": format!("{site}/tides")}),
    )
    .await;
    assert_eq!(status, 200, "{out}");
    assert_eq!(out["title"], "Tide Tables");
    assert_eq!(out["cids"].as_array().unwrap().len(), 1);
    let rec = t
        .client
        .retrieve(&out["cids"][0].as_str().unwrap().parse().unwrap())
        .await
        .unwrap()
        .expect("the page's memory is stored");
    assert_eq!(rec.metadata["type"], "url");
    assert_eq!(rec.metadata["source"], format!("{site}/tides"));
    assert_eq!(
        rec.metadata["text"],
        "High tide in the harbour is at six in the morning."
    );
    let blob = t
        .client
        .blob(&out["content_cid"].as_str().unwrap().parse().unwrap())
        .await
        .unwrap();
    assert_eq!(blob, page.as_bytes(), "the page is archived as fetched");
    let (status, out) = post(
        &t.url,
        json!({"kind": "url", "url": format!("{site}/gone")}),
    )
    .await;
    assert_eq!(status, 502, "{out}");
    t.node.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_rust_sdk_stores_documents_on_a_node() {
    let t = spawn_node_for_tests(|_| {}).await;
    let memory = engram_client::Memory::open(engram_client::MemoryConfig {
        node: Some(t.url.clone()),
        ..Default::default()
    })
    .unwrap();
    let pdf = engram_media::pdf::build("SDK", &pages(2));
    let out = memory
        .ingest_pdf(pdf.clone(), "sdk.pdf", json!({"via": "sdk"}), None)
        .await
        .unwrap();
    assert_eq!(out.pages, 2);
    assert!(out.cids.len() >= 2);
    let cid: Cid = out.content_cid.unwrap().parse().unwrap();
    assert_eq!(memory.blob(&cid, None).await.unwrap(), pdf);
    let err = memory
        .ingest_image(
            b"not an image".to_vec(),
            "x.png",
            Some("x".into()),
            Value::Null,
            None,
        )
        .await
        .unwrap_err();
    assert!(err.is_bad_input(), "{err}");
    t.node.shutdown().await.unwrap();
}
