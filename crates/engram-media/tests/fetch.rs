//! Fetching pages from a real HTTP server on 127.0.0.1: readable text, redirects, loops,
//! slow and oversized answers, and the private-address guard.

use std::time::Duration;

use axum::Router;
use axum::http::header;
use axum::response::{IntoResponse, Redirect};
use axum::routing::get;
use engram_media::fetch::{self, FetchPolicy};
use engram_media::{Kind, Limits, MediaError, pdf};

const PAGE: &str = r#"<!doctype html><html><head><title>Ocean Facts</title>
<script>track()</script></head><body><nav>Menu</nav>
<main><h1>Whales</h1><p>Blue whales are the largest animals ever known to have lived.</p></main>
<footer>© site</footer></body></html>"#;

async fn serve() -> String {
    let pdf_bytes = pdf::build("Served PDF", &["A PDF served over HTTP.".into()]);
    let app = Router::new()
        .route(
            "/page",
            get(|| async { ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], PAGE) }),
        )
        .route("/redirect", get(|| async { Redirect::temporary("/page") }))
        .route("/loop", get(|| async { Redirect::temporary("/loop") }))
        .route(
            "/to-private",
            get(|| async { Redirect::temporary("http://10.0.0.1/") }),
        )
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(5)).await;
                "late"
            }),
        )
        .route("/big", get(|| async { "x".repeat(2 << 20) }))
        .route(
            "/text",
            get(|| async { ([(header::CONTENT_TYPE, "text/plain")], "plain words") }),
        )
        .route(
            "/image",
            get(|| async { ([(header::CONTENT_TYPE, "image/png")], vec![0u8; 10]) }),
        )
        .route(
            "/empty",
            get(|| async { ([(header::CONTENT_TYPE, "text/html")], "") }),
        )
        .route(
            "/missing",
            get(|| async { axum::http::StatusCode::NOT_FOUND.into_response() }),
        )
        .route(
            "/doc.pdf",
            get(move || {
                let b = pdf_bytes.clone();
                async move { ([(header::CONTENT_TYPE, "application/pdf")], b) }
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

fn local() -> FetchPolicy {
    FetchPolicy {
        allow_private: true,
        timeout: Duration::from_secs(2),
        ..FetchPolicy::default()
    }
}

#[tokio::test]
async fn a_page_becomes_its_title_and_readable_text() {
    let base = serve().await;
    let doc = fetch::document(&format!("{base}/redirect"), &local(), &Limits::default())
        .await
        .unwrap();
    assert_eq!(doc.kind, Kind::Url);
    assert_eq!(
        doc.source,
        format!("{base}/page"),
        "the final URL is the source"
    );
    assert_eq!(doc.title.as_deref(), Some("Ocean Facts"));
    assert_eq!(
        doc.pages,
        vec!["Whales\n\nBlue whales are the largest animals ever known to have lived."]
    );
    assert_eq!(doc.bytes, PAGE.as_bytes(), "the HTML is kept as fetched");
    let text = fetch::document(&format!("{base}/text"), &local(), &Limits::default())
        .await
        .unwrap();
    assert_eq!(text.pages, vec!["plain words"]);
}

#[tokio::test]
async fn a_pdf_url_is_read_as_a_pdf() {
    let base = serve().await;
    let doc = fetch::document(&format!("{base}/doc.pdf"), &local(), &Limits::default())
        .await
        .unwrap();
    assert_eq!(doc.kind, Kind::Pdf);
    assert_eq!(doc.filename.as_deref(), Some("doc.pdf"));
    assert!(doc.pages[0].contains("A PDF served over HTTP."));
}

#[tokio::test]
async fn bad_urls_each_get_their_reason() {
    let base = serve().await;
    let p = local();
    let l = Limits {
        max_bytes: 1 << 20,
        ..Limits::default()
    };
    let err = |path: &str| {
        let url = format!("{base}{path}");
        let p = p.clone();
        async move { fetch::document(&url, &p, &l).await.unwrap_err() }
    };
    assert!(matches!(
        err("/loop").await,
        MediaError::Redirects { limit: 5, .. }
    ));
    assert!(matches!(
        err("/slow").await,
        MediaError::Timeout { secs: 2, .. }
    ));
    assert!(matches!(err("/big").await, MediaError::TooLarge { .. }));
    assert!(matches!(
        err("/missing").await,
        MediaError::Status { status: 404, .. }
    ));
    assert!(matches!(err("/empty").await, MediaError::Empty { .. }));
    assert!(matches!(
        err("/image").await,
        MediaError::Unsupported { .. }
    ));
    let e = fetch::document("ftp://example.com/x", &p, &l)
        .await
        .unwrap_err();
    assert!(matches!(e, MediaError::BadUrl { .. }), "{e}");
    let e = fetch::document("not a url", &p, &l).await.unwrap_err();
    assert!(matches!(e, MediaError::UrlParse { .. }), "{e}");
    let e = fetch::document(&format!("http://user:secret@{}/page", &base[7..]), &p, &l)
        .await
        .unwrap_err();
    assert!(matches!(e, MediaError::BadUrl { .. }), "{e}");
    assert!(
        !e.to_string().contains("secret"),
        "credentials never echo: {e}"
    );
    // Unreachable: a port nothing listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let e = fetch::document(&format!("http://127.0.0.1:{port}/"), &p, &l)
        .await
        .unwrap_err();
    assert!(matches!(e, MediaError::Fetch { .. }), "{e}");
}

#[tokio::test]
async fn private_addresses_are_refused_unless_allowed() {
    let base = serve().await;
    let public = FetchPolicy {
        timeout: Duration::from_secs(2),
        ..FetchPolicy::default()
    };
    let e = fetch::fetch(&format!("{base}/page"), &public, 1 << 20)
        .await
        .unwrap_err();
    assert!(matches!(e, MediaError::Forbidden { .. }), "{e}");
    assert!(e.to_string().contains("--allow-private-urls"));
    let e = fetch::fetch("http://localhost:9/", &public, 1 << 20)
        .await
        .unwrap_err();
    assert!(matches!(e, MediaError::Forbidden { .. }), "{e}");
    let e = fetch::fetch("http://169.254.169.254/latest/meta-data/", &public, 1 << 20)
        .await
        .unwrap_err();
    assert!(matches!(e, MediaError::Forbidden { .. }), "{e}");
    // Every hop is checked: an allowed server redirecting into a private network. (Our
    // test server is itself private, so allow it and check the redirect's target alone.)
    assert!(fetch::is_forbidden("10.0.0.1".parse().unwrap()));
    let e = fetch::fetch(
        &format!("{base}/to-private"),
        &FetchPolicy {
            allow_private: false,
            ..public
        },
        1 << 20,
    )
    .await
    .unwrap_err();
    assert!(matches!(e, MediaError::Forbidden { .. }));
}
