//! A web page's title and readable text.
//!
//! What a reader sees is what gets embedded: scripts, styles, navigation, headers,
//! footers, forms and hidden elements are dropped; when the page marks its main content
//! (`<article>`, `<main>`, `role="main"`), only that is read. Block elements become
//! paragraph breaks so chunks can be cut where the page breaks. The page's bytes are
//! decoded by the charset its server or its `<meta>` declares (UTF-8 otherwise).

use ego_tree::NodeRef;
use ego_tree::iter::Edge;
use scraper::{Html, Node, Selector};

use crate::{Document, Kind, Limits, MediaError, chunk};

/// Elements whose content is never part of the readable text.
const SKIP: &[&str] = &[
    "script", "style", "noscript", "template", "svg", "nav", "header", "footer", "aside", "form",
    "iframe", "button", "select", "textarea", "canvas", "head", "object", "embed", "dialog",
    "menu",
];

/// Elements that end a paragraph.
const BLOCK: &[&str] = &[
    "p",
    "div",
    "section",
    "article",
    "main",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "li",
    "ul",
    "ol",
    "dl",
    "dt",
    "dd",
    "pre",
    "blockquote",
    "table",
    "tr",
    "figure",
    "figcaption",
    "hr",
    "address",
    "details",
    "summary",
];

/// Reads an HTML page fetched from `url` (or a file): title, text, and the page kept as
/// its blob.
///
/// # Errors
/// [`MediaError::Empty`], [`MediaError::TooLarge`], [`MediaError::NoTextFound`] when the
/// page has no readable text.
pub fn extract(
    bytes: Vec<u8>,
    charset: Option<&str>,
    url: &str,
    limits: &Limits,
) -> Result<Document, MediaError> {
    limits.check_size("page", bytes.len())?;
    let html = decode(&bytes, charset);
    let (title, text) = readable(&html);
    if text.trim().is_empty() {
        return Err(MediaError::NoTextFound { what: "page" });
    }
    Ok(Document {
        kind: Kind::Url,
        content_type: "text/html".into(),
        source: url.into(),
        filename: None,
        title,
        pages: vec![text],
        bytes,
    })
}

/// The text of `bytes` in `charset`, else the charset a `<meta>` in the first 1,024 bytes
/// declares, else UTF-8 (invalid sequences replaced).
pub fn decode(bytes: &[u8], charset: Option<&str>) -> String {
    let declared = charset.map(str::to_string).or_else(|| meta_charset(bytes));
    let encoding = declared
        .and_then(|label| encoding_rs::Encoding::for_label(label.trim().as_bytes()))
        .unwrap_or(encoding_rs::UTF_8);
    encoding.decode(bytes).0.into_owned()
}

fn meta_charset(bytes: &[u8]) -> Option<String> {
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(1024)]).to_ascii_lowercase();
    let at = head.find("charset=")? + "charset=".len();
    let rest = head[at..].trim_start_matches(['"', '\'']);
    let end = rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))?;
    Some(rest[..end].to_string()).filter(|s| !s.is_empty())
}

/// The title and readable text of an HTML document.
pub fn readable(html: &str) -> (Option<String>, String) {
    let doc = Html::parse_document(html);
    let sel = |s: &str| Selector::parse(s).expect("static selector parses");
    let text_of = |s: &str| {
        doc.select(&sel(s))
            .next()
            .map(|e| chunk::normalize(&e.text().collect::<String>()))
            .filter(|t| !t.is_empty())
    };
    let title = text_of("title")
        .or_else(|| {
            doc.select(&sel(r#"meta[property="og:title"]"#))
                .next()
                .and_then(|e| e.value().attr("content"))
                .map(chunk::normalize)
                .filter(|t| !t.is_empty())
        })
        .or_else(|| text_of("h1"));
    let root = ["article", "main", r#"[role="main"]"#, "body"]
        .iter()
        .find_map(|s| doc.select(&sel(s)).next())
        .map(|e| *e)
        .unwrap_or_else(|| doc.tree.root());
    let mut out = String::new();
    walk(root, &mut out);
    (title, chunk::normalize(&out))
}

/// Appends the readable text under `root`, walking without recursion: a page of 200,000
/// nested `<span>`s must not overflow the stack.
fn walk(root: NodeRef<'_, Node>, out: &mut String) {
    let mut skipping: Option<ego_tree::NodeId> = None;
    for edge in root.traverse() {
        match edge {
            Edge::Open(node) => {
                if skipping.is_some() {
                    continue;
                }
                match node.value() {
                    Node::Text(t) => out.push_str(t),
                    Node::Element(e) => {
                        let name = e.name();
                        if SKIP.contains(&name)
                            || e.attr("hidden").is_some()
                            || e.attr("aria-hidden") == Some("true")
                        {
                            skipping = Some(node.id());
                        } else if name == "br" {
                            out.push('\n');
                        } else if BLOCK.contains(&name) {
                            out.push_str("\n\n");
                        }
                    }
                    _ => {}
                }
            }
            Edge::Close(node) => {
                if skipping == Some(node.id()) {
                    skipping = None;
                    continue;
                }
                if skipping.is_some() {
                    continue;
                }
                if let Node::Element(e) = node.value() {
                    if BLOCK.contains(&e.name()) {
                        out.push_str("\n\n");
                    } else if matches!(e.name(), "td" | "th") {
                        out.push(' ');
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_article_and_drops_chrome() {
        let page = r#"<html><head><title> A  Title </title><style>p{}</style>
            <script>var secret = 1;</script></head><body>
            <nav>Home | About</nav><header>Site header</header>
            <article><h1>Heading</h1><p>First paragraph.</p><p>Second <b>bold</b> one.</p>
            <div hidden>invisible</div><script>evil()</script></article>
            <footer>Copyright</footer></body></html>"#;
        let (title, text) = readable(page);
        assert_eq!(title.as_deref(), Some("A Title"));
        assert_eq!(text, "Heading\n\nFirst paragraph.\n\nSecond bold one.");
    }

    #[test]
    fn falls_back_to_the_body_and_og_title() {
        let page = r#"<html><head><meta property="og:title" content="OG"></head>
            <body><p>Just text</p><noscript>enable js</noscript></body></html>"#;
        let (title, text) = readable(page);
        assert_eq!(title.as_deref(), Some("OG"));
        assert_eq!(text, "Just text");
        assert_eq!(readable("<p>x</p>").0, None);
    }

    #[test]
    fn deep_nesting_does_not_overflow_the_stack() {
        let depth = 100_000;
        let page = format!(
            "<html><body><p>top</p>{}deep{}</body></html>",
            "<span>".repeat(depth),
            "</span>".repeat(depth)
        );
        // Run on a small stack, as a worker thread has.
        let (title, text) = std::thread::Builder::new()
            .stack_size(256 << 10)
            .spawn(move || readable(&page))
            .unwrap()
            .join()
            .unwrap();
        assert_eq!(title, None);
        assert!(
            text.starts_with("top") && text.ends_with("deep"),
            "{text:.80}"
        );
    }

    #[test]
    fn decodes_declared_charsets() {
        let latin1 =
            b"<html><head><meta charset=\"iso-8859-1\"></head><body>Gr\xfc\xdfe</body></html>";
        assert!(decode(latin1, None).contains("Grüße"));
        assert!(decode("Grüße".as_bytes(), Some("utf-8")).contains("Grüße"));
        assert!(decode(b"caf\xe9", Some("windows-1252")).contains("café"));
    }

    #[test]
    fn a_page_without_text_is_an_error() {
        let err = extract(
            b"<html><body><script>x()</script></body></html>".to_vec(),
            None,
            "http://x/",
            &Limits::default(),
        )
        .unwrap_err();
        assert!(matches!(err, MediaError::NoTextFound { .. }));
        assert!(matches!(
            extract(Vec::new(), None, "http://x/", &Limits::default()),
            Err(MediaError::Empty { .. })
        ));
    }
}
