//! The web app: the playground, memory browser, CID page and dashboard, served by the node
//! itself.
//!
//! Pages and assets are compiled into the binary (no Node toolchain, nothing fetched at run
//! time) and talk only to this node's own API, so the app works wherever the node does,
//! offline included. Every response carries a strict Content-Security-Policy (scripts,
//! styles and connections to this origin only; no inline script), so a memory's text
//! rendered by the app can never run as code. Assets revalidate by `ETag` (their SHA-256),
//! so a new binary's app is picked up at once and an unchanged one costs a 304.
//!
//! A browser also lets any web page send requests to a node on this machine, so
//! [`browser_guard`] refuses what only another site's page sends: a cross-origin `Origin`
//! or `Sec-Fetch-Site: cross-site` (a page posting memories into your store), and, on a
//! node listening on loopback, a `Host` that is not a loopback name (a page whose DNS was
//! rebound to 127.0.0.1 to read your store). Programs (SDKs, validators, curl) send
//! neither header and are unaffected.

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, OnceLock};

use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use crate::error::ApiError;

/// A script or stylesheet, compiled in.
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

static ASSETS: &[Asset] = &[
    asset!("app.css", "text/css; charset=utf-8"),
    asset!("common.js", JS),
    asset!("home.js", JS),
    asset!("cid.js", JS),
    asset!("dashboard.js", JS),
    asset!("verify.js", JS),
    asset!("keys.js", JS),
];

/// A page: its `<main>`, compiled in, inside the one shell every page shares (head,
/// stylesheet, header and navigation are written once, in `shell.html`).
struct Page {
    name: &'static str,
    title: &'static str,
    script: &'static str,
    main: &'static str,
}

static PAGES: &[Page] = &[
    Page {
        name: "home",
        title: "playground",
        script: "home.js",
        main: include_str!("../web/home.html"),
    },
    Page {
        name: "cid",
        title: "memory",
        script: "cid.js",
        main: include_str!("../web/cid.html"),
    },
    Page {
        name: "dashboard",
        title: "dashboard",
        script: "dashboard.js",
        main: include_str!("../web/dashboard.html"),
    },
];

const SHELL: &str = include_str!("../web/shell.html");

/// The policy every page and asset is served with.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; \
                   connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'";

/// A response body as served: pages assembled, each with its ETag (a hash of its bytes).
struct Served {
    name: &'static str,
    content_type: &'static str,
    /// Shared bytes: answering clones a reference count, not the page.
    body: axum::body::Bytes,
    etag: String,
}

fn served() -> &'static [Served] {
    static SERVED: OnceLock<Vec<Served>> = OnceLock::new();
    SERVED.get_or_init(|| {
        let pages = PAGES.iter().map(|p| {
            let body = SHELL
                .replace("{{title}}", p.title)
                .replace("{{script}}", p.script)
                .replace("{{main}}", p.main);
            (p.name, "text/html; charset=utf-8", body)
        });
        let assets = ASSETS
            .iter()
            .map(|a| (a.name, a.content_type, a.body.to_string()));
        pages
            .chain(assets)
            .map(|(name, content_type, body)| Served {
                name,
                content_type,
                etag: format!(
                    "\"{}\"",
                    hex::encode(&Sha256::digest(body.as_bytes())[..12])
                ),
                body: body.into(),
            })
            .collect()
    })
}

fn serve(name: &str, headers: &HeaderMap) -> Response {
    let Some(file) = served().iter().find(|f| f.name == name) else {
        return ApiError::NotFound(format!("no web asset {name:?}")).into_response();
    };
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == file.etag));
    let mut response = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        (
            [(header::CONTENT_TYPE, file.content_type)],
            file.body.clone(),
        )
            .into_response()
    };
    let h = response.headers_mut();
    h.insert(
        header::ETAG,
        HeaderValue::from_str(&file.etag).expect("hex etag"),
    );
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

/// Why a request is refused as one a foreign web page sent, if it is.
fn foreign_page(headers: &HeaderMap, listen: SocketAddr) -> Option<String> {
    let text = |name| {
        headers
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
    };
    let host = text(header::HOST).unwrap_or_default();
    if listen.ip().is_loopback() && !host.is_empty() && !loopback_host(host) {
        return Some(format!(
            "this node listens on loopback and answers only to localhost, 127.0.0.1 or [::1], not to Host {host:?}"
        ));
    }
    if text(header::HeaderName::from_static("sec-fetch-site")) == Some("cross-site") {
        return Some(
            "cross-site request refused: only this node's own pages may call it from a browser"
                .into(),
        );
    }
    match text(header::ORIGIN) {
        Some(origin) => {
            let from = origin
                .strip_prefix("http://")
                .or_else(|| origin.strip_prefix("https://"));
            (from != Some(host)).then(|| {
                format!("cross-origin request from {origin:?} refused: only this node's own pages may call it from a browser")
            })
        }
        None => None,
    }
}

/// `localhost`, a loopback IP, or either with a port.
fn loopback_host(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or_default(),
        None => host.rsplit_once(':').map_or(host, |(name, _)| name),
    };
    name.eq_ignore_ascii_case("localhost")
        || name.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Middleware: 403 for requests a foreign web page sent (see the module docs).
pub(crate) async fn browser_guard(
    State(state): State<Arc<crate::AppState>>,
    req: Request,
    next: Next,
) -> Response {
    match foreign_page(req.headers(), state.config.listen) {
        Some(why) => ApiError::Forbidden(why).into_response(),
        None => next.run(req).await,
    }
}

/// `GET /`: the playground and memory browser.
pub(crate) async fn home(headers: HeaderMap) -> Response {
    serve("home", &headers)
}

/// `GET /cid/{cid}`: one memory and its verification (the page reads the CID from its URL).
pub(crate) async fn cid_page(headers: HeaderMap) -> Response {
    serve("cid", &headers)
}

/// `GET /dashboard`.
pub(crate) async fn dashboard(headers: HeaderMap) -> Response {
    serve("dashboard", &headers)
}

/// `GET /web/{file}`: the app's scripts and styles.
pub(crate) async fn asset(Path(name): Path<String>, headers: HeaderMap) -> Response {
    if !ASSETS.iter().any(|a| a.name == name) {
        return ApiError::NotFound(format!("no web asset {name:?}")).into_response();
    }
    serve(&name, &headers)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A served page as text.
    struct Text<'a> {
        name: &'a str,
        body: &'a str,
    }

    #[test]
    fn every_page_is_whole_and_names_only_assets_that_exist() {
        for file in served()
            .iter()
            .filter(|f| f.content_type.starts_with("text/html"))
        {
            let body = std::str::from_utf8(&file.body).expect("pages are UTF-8");
            let page = Text {
                name: file.name,
                body,
            };
            assert!(
                !page.body.contains("{{"),
                "{}: a placeholder is left",
                page.name
            );
            assert!(page.body.contains("<nav") && page.body.contains("</main>"));
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

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(k, v)| {
                (
                    header::HeaderName::from_static(k),
                    HeaderValue::from_str(v).unwrap(),
                )
            })
            .collect()
    }

    #[test]
    fn foreign_pages_are_refused_and_programs_are_not() {
        let local: SocketAddr = "127.0.0.1:8090".parse().unwrap();
        let public: SocketAddr = "0.0.0.0:8091".parse().unwrap();
        let ok = |h: &[(&'static str, &str)], at| foreign_page(&headers(h), at).is_none();
        // Programs: no Origin, no Sec-Fetch-Site.
        assert!(ok(&[("host", "127.0.0.1:8090")], local));
        assert!(ok(&[], local));
        // The node's own pages.
        for host in [
            "127.0.0.1:8090",
            "localhost:8090",
            "[::1]:8090",
            "LOCALHOST",
        ] {
            let origin = format!("http://{host}");
            assert!(
                ok(
                    &[
                        ("host", host),
                        ("origin", &origin),
                        ("sec-fetch-site", "same-origin")
                    ],
                    local
                ),
                "{host}"
            );
        }
        // Another site's page posting into the store, or a rebound DNS name reading it.
        assert!(!ok(
            &[
                ("host", "127.0.0.1:8090"),
                ("origin", "https://evil.example")
            ],
            local
        ));
        assert!(!ok(
            &[("host", "127.0.0.1:8090"), ("origin", "null")],
            local
        ));
        assert!(!ok(
            &[
                ("host", "127.0.0.1:8090"),
                ("origin", "http://localhost:3000")
            ],
            local
        ));
        assert!(!ok(
            &[("host", "127.0.0.1:8090"), ("sec-fetch-site", "cross-site")],
            local
        ));
        assert!(!ok(
            &[
                ("host", "evil.example:8090"),
                ("origin", "http://evil.example:8090")
            ],
            local
        ));
        // A node serving the world answers any name, but never another site's page.
        assert!(ok(
            &[
                ("host", "node.example:8091"),
                ("origin", "http://node.example:8091")
            ],
            public
        ));
        assert!(!ok(
            &[
                ("host", "node.example:8091"),
                ("origin", "http://evil.example")
            ],
            public
        ));
    }

    #[test]
    fn unknown_assets_are_404_and_etags_revalidate() {
        let none = HeaderMap::new();
        assert_eq!(serve("nope.js", &none).status(), StatusCode::NOT_FOUND);
        assert_eq!(serve("home", &none).status(), StatusCode::OK);
        let first = serve("app.css", &none);
        assert_eq!(first.status(), StatusCode::OK);
        let tag = first.headers()[header::ETAG].clone();
        let mut again = HeaderMap::new();
        again.insert(header::IF_NONE_MATCH, tag);
        assert_eq!(serve("app.css", &again).status(), StatusCode::NOT_MODIFIED);
    }
}
