//! The web app's pages and assets, and the one way they are served.
//!
//! Two programs serve pages to people: the node (the playground, the memory browser, the CID
//! page and the dashboard, docs/web.md) and the cloud-mining gateway (the Mine page,
//! docs/cloud-mining.md). They share the shell, the stylesheet and the modules (sr25519 keys
//! in the browser, SHA-256, elements built without HTML strings), so those live here once,
//! with the rules every response follows: compiled into the binary (no Node toolchain,
//! nothing fetched at run time), a strict Content-Security-Policy (scripts, styles and
//! connections to the serving origin only; no inline script), so stored text rendered by a
//! page can never run as code, and revalidation by `ETag` (their SHA-256), so a new binary's
//! app is picked up at once and an unchanged one costs a 304.

use std::sync::OnceLock;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

/// Which program serves a page: each has its own pages and navigation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Site {
    /// `engram serve` / `engram web`.
    Node,
    /// `engram cloud gateway`.
    Gateway,
}

impl Site {
    fn nav(self) -> &'static str {
        match self {
            Site::Node => r#"<a href="/">Playground</a><a href="/dashboard">Dashboard</a>"#,
            Site::Gateway => r#"<a href="/">Mine</a>"#,
        }
    }
}

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
    asset!("mine.js", JS),
];

/// A page: its `<main>`, compiled in, inside the one shell every page shares (head,
/// stylesheet, header and navigation are written once, in `shell.html`).
struct Page {
    site: Site,
    name: &'static str,
    title: &'static str,
    script: &'static str,
    main: &'static str,
}

static PAGES: &[Page] = &[
    Page {
        site: Site::Node,
        name: "home",
        title: "playground",
        script: "home.js",
        main: include_str!("../web/home.html"),
    },
    Page {
        site: Site::Node,
        name: "cid",
        title: "memory",
        script: "cid.js",
        main: include_str!("../web/cid.html"),
    },
    Page {
        site: Site::Node,
        name: "dashboard",
        title: "dashboard",
        script: "dashboard.js",
        main: include_str!("../web/dashboard.html"),
    },
    Page {
        site: Site::Gateway,
        name: "mine",
        title: "mine",
        script: "mine.js",
        main: include_str!("../web/mine.html"),
    },
];

const SHELL: &str = include_str!("../web/shell.html");

/// The policy every page and asset is served with.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; \
                   connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'";

/// A response body as served: pages assembled, each with its ETag (a hash of its bytes).
struct Served {
    /// The site of a page; `None` for an asset (every site serves every asset).
    site: Option<Site>,
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
                .replace("{{nav}}", p.site.nav())
                .replace("{{script}}", p.script)
                .replace("{{main}}", p.main);
            (Some(p.site), p.name, "text/html; charset=utf-8", body)
        });
        let assets = ASSETS
            .iter()
            .map(|a| (None, a.name, a.content_type, a.body.to_string()));
        pages
            .chain(assets)
            .map(|(site, name, content_type, body)| Served {
                site,
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

fn serve(site: Option<Site>, name: &str, headers: &HeaderMap) -> Response {
    let Some(file) = served().iter().find(|f| f.name == name && f.site == site) else {
        return (
            StatusCode::NOT_FOUND,
            axum::Json(serde_json::json!({"error": format!("no web page or asset {name:?}")})),
        )
            .into_response();
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

/// The page `name` of `site` (404 when that site has no such page).
pub fn page(site: Site, name: &str, headers: &HeaderMap) -> Response {
    serve(Some(site), name, headers)
}

/// The script or stylesheet `name` (404 when there is none).
pub fn asset(name: &str, headers: &HeaderMap) -> Response {
    serve(None, name, headers)
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

    #[test]
    fn unknown_assets_are_404_and_etags_revalidate() {
        let none = HeaderMap::new();
        assert_eq!(asset("nope.js", &none).status(), StatusCode::NOT_FOUND);
        assert_eq!(page(Site::Node, "home", &none).status(), StatusCode::OK);
        let first = asset("app.css", &none);
        assert_eq!(first.status(), StatusCode::OK);
        let tag = first.headers()[header::ETAG].clone();
        let mut again = HeaderMap::new();
        again.insert(header::IF_NONE_MATCH, tag);
        assert_eq!(asset("app.css", &again).status(), StatusCode::NOT_MODIFIED);
    }

    #[test]
    fn each_site_serves_only_its_own_pages_with_its_own_navigation() {
        let none = HeaderMap::new();
        assert_eq!(
            page(Site::Gateway, "home", &none).status(),
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            page(Site::Node, "mine", &none).status(),
            StatusCode::NOT_FOUND
        );
        assert_eq!(page(Site::Gateway, "mine", &none).status(), StatusCode::OK);
        assert_eq!(
            asset("home", &none).status(),
            StatusCode::NOT_FOUND,
            "a page is no asset"
        );
        for f in served().iter().filter(|f| f.site.is_some()) {
            let body = std::str::from_utf8(&f.body).unwrap();
            assert!(body.contains(f.site.unwrap().nav()), "{}", f.name);
        }
    }
}
