//! The web app: the playground, memory browser, CID page and dashboard, served by the node
//! itself.
//!
//! Pages and assets are compiled into the binary (no Node toolchain, nothing fetched at run
//! time) and talk only to this node's own API, so the app works wherever the node does,
//! offline included. Every response carries a strict Content-Security-Policy (scripts,
//! styles and connections to this origin only; no inline script), so a memory's text
//! rendered by the app can never run as code. Assets revalidate by `ETag` (their SHA-256),
//! so a new binary's app is picked up at once and an unchanged one costs a 304.

use std::sync::OnceLock;

use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use crate::error::ApiError;

/// One compiled-in file.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static str,
}

macro_rules! asset {
    ($name:literal, $type:expr) => {
        Asset {
            name: $name,
            content_type: $type,
            body: include_str!(concat!("../web/", $name)),
        }
    };
}

const JS: &str = "text/javascript; charset=utf-8";
const HTML: &str = "text/html; charset=utf-8";

static ASSETS: &[Asset] = &[
    asset!("index.html", HTML),
    asset!("cid.html", HTML),
    asset!("dashboard.html", HTML),
    asset!("app.css", "text/css; charset=utf-8"),
    asset!("common.js", JS),
    asset!("home.js", JS),
    asset!("cid.js", JS),
    asset!("dashboard.js", JS),
    asset!("verify.js", JS),
    asset!("keys.js", JS),
];

/// The policy every page and asset is served with.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; \
                   connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'";

fn etags() -> &'static [String] {
    static TAGS: OnceLock<Vec<String>> = OnceLock::new();
    TAGS.get_or_init(|| {
        ASSETS
            .iter()
            .map(|a| {
                format!(
                    "\"{}\"",
                    hex::encode(&Sha256::digest(a.body.as_bytes())[..12])
                )
            })
            .collect()
    })
}

fn serve(name: &str, headers: &HeaderMap) -> Response {
    let Some(i) = ASSETS.iter().position(|a| a.name == name) else {
        return ApiError::NotFound(format!("no web asset {name:?}")).into_response();
    };
    let asset = &ASSETS[i];
    let etag = &etags()[i];
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    let mut response = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        ([(header::CONTENT_TYPE, asset.content_type)], asset.body).into_response()
    };
    let h = response.headers_mut();
    h.insert(header::ETAG, HeaderValue::from_str(etag).expect("hex etag"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}

/// `GET /`: the playground and memory browser.
pub(crate) async fn home(headers: HeaderMap) -> Response {
    serve("index.html", &headers)
}

/// `GET /cid/{cid}`: one memory and its verification (the page reads the CID from its URL).
pub(crate) async fn cid_page(headers: HeaderMap) -> Response {
    serve("cid.html", &headers)
}

/// `GET /dashboard`.
pub(crate) async fn dashboard(headers: HeaderMap) -> Response {
    serve("dashboard.html", &headers)
}

/// `GET /web/{file}`: the app's scripts and styles.
pub(crate) async fn asset(Path(name): Path<String>, headers: HeaderMap) -> Response {
    serve(&name, &headers)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_page_names_only_assets_that_exist() {
        for page in ASSETS.iter().filter(|a| a.name.ends_with(".html")) {
            for part in page.body.split("/web/").skip(1) {
                let name: String = part
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
                    .collect();
                assert!(
                    ASSETS.iter().any(|a| a.name == name),
                    "{} links /web/{name}, which is not compiled in",
                    page.name
                );
            }
            assert!(
                !page.body.contains("<script>") && !page.body.contains(" style="),
                "{}: inline script or style breaks the CSP",
                page.name
            );
        }
    }

    #[test]
    fn unknown_assets_are_404_and_etags_revalidate() {
        let none = HeaderMap::new();
        assert_eq!(serve("nope.js", &none).status(), StatusCode::NOT_FOUND);
        let first = serve("app.css", &none);
        assert_eq!(first.status(), StatusCode::OK);
        let tag = first.headers()[header::ETAG].clone();
        let mut again = HeaderMap::new();
        again.insert(header::IF_NONE_MATCH, tag);
        assert_eq!(serve("app.css", &again).status(), StatusCode::NOT_MODIFIED);
    }
}
