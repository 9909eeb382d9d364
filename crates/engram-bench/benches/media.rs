//! A 100-page PDF end to end, stage by stage: extraction, chunking, embedding, the blob
//! store, the whole `Engine::ingest_document`, and the upload to a local Arweave gateway
//! (arlocal). Baseline in the same run: lopdf's own `extract_text` on the same file, for
//! speed and for quality (the share of the pages' sentences each extractor gives back
//! verbatim).
//!
//! The PDF is built from the corpus sentences (`engram_media::pdf::build`, Helvetica, 30
//! sentences a page), so nothing is downloaded. `ENGRAM_BENCH_PAGES` changes the size.
//!
//! `cargo bench -p engram-bench --bench media` (needs the model from ./setup.sh; the upload
//! stage needs arlocal: `scripts/arlocal.sh`, which `make test` runs).

use std::time::Duration;

use engram_bench::{cpu_model, embedder, sentences, time};
use engram_engine::{Engine, EngineConfig};
use engram_media::{Limits, pdf};
use engram_store::Archive;

#[path = "../../engram-arweave/tests/support/arlocal.rs"]
mod arlocal;

fn verbatim(text: &str, sentences: &[String]) -> f64 {
    let flat = engram_media::chunk::normalize(text);
    let found = sentences
        .iter()
        .filter(|s| flat.contains(s.as_str()))
        .count();
    found as f64 / sentences.len() as f64
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

fn main() {
    let pages_n: usize = std::env::var("ENGRAM_BENCH_PAGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    println!("cpu: {}", cpu_model());
    let corpus: Vec<String> = sentences()
        .into_iter()
        .filter(|s| s.is_ascii() && s.len() > 30)
        .collect();
    let per_page = 30;
    let page_sentences: Vec<Vec<String>> = (0..pages_n)
        .map(|p| {
            (0..per_page)
                .map(|j| corpus[(p * per_page + j) % corpus.len()].clone())
                .collect()
        })
        .collect();
    let texts: Vec<String> = page_sentences.iter().map(|s| s.join(" ")).collect();
    let bytes = pdf::build("Benchmark document", &texts);
    let all: Vec<String> = page_sentences.concat();
    println!(
        "document: {pages_n} pages, {} sentences, {} characters, PDF {:.1} KiB",
        all.len(),
        texts.iter().map(|t| t.len()).sum::<usize>(),
        bytes.len() as f64 / 1024.0
    );
    let limits = Limits::default();

    // Extraction: ours (pdf-extract, per page, with the bomb check) against lopdf's own.
    let (doc, t_extract) =
        time(|| pdf::extract(bytes.clone(), "bench.pdf", None, &limits).expect("extracts"));
    let (lopdf_text, t_lopdf) = time(|| {
        let d = lopdf::Document::load_mem(&bytes).expect("lopdf loads");
        let pages: Vec<u32> = d.get_pages().keys().copied().collect();
        d.extract_text(&pages).unwrap_or_default()
    });
    let ours_q = verbatim(&doc.pages.join("\n"), &all);
    let lopdf_q = verbatim(&lopdf_text, &all);
    println!(
        "extract   ours (pdf-extract) {:>7.3} s  {:>5.1} pages/s  sentences verbatim {:>5.1} %",
        secs(t_extract),
        pages_n as f64 / secs(t_extract),
        ours_q * 100.0
    );
    println!(
        "extract   baseline lopdf     {:>7.3} s  {:>5.1} pages/s  sentences verbatim {:>5.1} %  (ours/baseline time {:.2}×)",
        secs(t_lopdf),
        pages_n as f64 / secs(t_lopdf),
        lopdf_q * 100.0,
        secs(t_extract) / secs(t_lopdf)
    );

    let (chunks, t_chunk) = time(|| doc.chunks(&limits).expect("within the chunk limit"));
    println!(
        "chunk     {:>7.3} s  {} chunks of ≤ {} characters",
        secs(t_chunk),
        chunks.len(),
        limits.chunk_chars
    );

    let e = embedder();
    let refs: Vec<&str> = chunks.iter().map(|c| c.text.as_str()).collect();
    let (_, t_embed) = time(|| e.embed_batch(&refs).expect("embeds"));
    println!(
        "embed     {:>7.3} s  {:.1} chunks/s",
        secs(t_embed),
        chunks.len() as f64 / secs(t_embed)
    );

    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(EngineConfig::new(dir.path().to_path_buf())).expect("engine opens");
    let (_, t_blob) = time(|| {
        engine
            .store()
            .blobs()
            .put(&bytes, pdf::MIME, "public", false, Archive::Off)
            .expect("blob stored")
    });
    println!("blob put  {:>7.3} s  (fsynced)", secs(t_blob));
    let (stored, t_ingest) = time(|| {
        engine
            .ingest_document(&doc, serde_json::Value::Null, None, &limits, Archive::Off)
            .expect("ingests")
    });
    println!(
        "ingest    {:>7.3} s  whole Engine::ingest_document: {} memories (embed + store + blob)",
        secs(t_ingest),
        stored.memories.len()
    );

    // The upload, against a real arlocal.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut gw = arlocal::Arlocal::start().await;
        let wallet = engram_arweave::Wallet::generate(2048).unwrap();
        gw.mint(wallet.address()).await;
        let archiver = engram_client::media::Archiver::new(wallet, &gw.url).unwrap();
        let cid = engram_core::Cid::for_content(&bytes);
        let start = std::time::Instant::now();
        let state = archiver
            .upload(&bytes, pdf::MIME, &cid, false)
            .await
            .expect("uploads to arlocal");
        let t_upload = start.elapsed();
        println!(
            "upload    {:>7.3} s  {:.1} KiB to arlocal ({}), {}",
            secs(t_upload),
            bytes.len() as f64 / 1024.0,
            if bytes.len() > 256 * 1024 {
                "chunked"
            } else {
                "inline"
            },
            match state {
                Archive::Uploaded { tx_id, .. } => tx_id,
                other => format!("{other:?}"),
            }
        );
        let total = t_extract + t_chunk + t_ingest + t_upload;
        println!(
            "total     {:>7.3} s  end to end ({:.2} s a page)",
            secs(total),
            secs(total) / pages_n as f64
        );
        gw.assert_alive();
    });
}
