//! The web app: the playground, memory browser, CID page and dashboard, served by the node
//! itself.
//!
//! The pages and how they are served (compiled in, strict CSP, ETags) are `engram_web`'s;
//! they talk only to this node's own API, so the app works wherever the node does, offline
//! included.
//!
//! A browser also lets any web page send requests to a node on this machine, so
//! [`browser_guard`] refuses what only another site's page sends: a cross-origin `Origin`
//! or `Sec-Fetch-Site: cross-site` (a page posting memories into your store), and, on a
//! node listening on loopback, a `Host` that is not a loopback name (a page whose DNS was
//! rebound to 127.0.0.1 to read your store). Programs (SDKs, validators, curl) send
//! neither header and are unaffected.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use engram_web::Site;

use crate::error::ApiError;

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
    engram_web::page(Site::Node, "home", &headers)
}

/// `GET /cid/{cid}`: one memory and its verification (the page reads the CID from its URL).
pub(crate) async fn cid_page(headers: HeaderMap) -> Response {
    engram_web::page(Site::Node, "cid", &headers)
}

/// `GET /dashboard`.
pub(crate) async fn dashboard(headers: HeaderMap) -> Response {
    engram_web::page(Site::Node, "dashboard", &headers)
}

/// `GET /web/{file}`: the app's scripts and styles.
pub(crate) async fn asset(Path(name): Path<String>, headers: HeaderMap) -> Response {
    engram_web::asset(&name, &headers)
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
