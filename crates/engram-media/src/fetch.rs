//! Fetching a URL for ingest, safely.
//!
//! A node that fetches any URL a client names is a proxy into the network it runs in:
//! `http://127.0.0.1:8091/…`, the cloud's metadata service at `169.254.169.254`, the
//! operator's private hosts. So every hop (the first request and each redirect) resolves
//! its host first, refuses loopback, private, link-local, shared, multicast and reserved
//! addresses unless the operator allows them, and then connects to exactly the addresses
//! it checked (pinned in the resolver, so a DNS answer that changes between check and
//! connect cannot slip through). Redirects are followed by hand, at most
//! [`FetchPolicy::max_redirects`]; the body is read up to the size cap and the whole fetch
//! is bounded by [`FetchPolicy::timeout`]. URLs carrying credentials (`user:pass@`) are
//! refused: they would end up in every chunk's public `source`.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use url::Url;

use crate::{Document, Kind, Limits, MediaError, html, pdf};

/// How a URL may be fetched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchPolicy {
    /// The whole fetch, redirects and body included (default 30 s).
    pub timeout: Duration,
    /// Connecting to one address (default 10 s).
    pub connect_timeout: Duration,
    /// Redirects followed before giving up (default 5).
    pub max_redirects: usize,
    /// Whether loopback, private and link-local addresses may be fetched (default false;
    /// the embedded CLI, fetching for its own user, allows them).
    pub allow_private: bool,
}

impl Default for FetchPolicy {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            max_redirects: 5,
            allow_private: false,
        }
    }
}

/// A fetched body.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// The URL finally answered (after redirects).
    pub url: String,
    /// The MIME type without parameters, lowercase (empty when not given).
    pub content_type: String,
    /// The `charset` parameter, if any.
    pub charset: Option<String>,
    /// The body.
    pub bytes: Vec<u8>,
}

/// True for addresses a public fetch must not reach.
pub fn is_forbidden(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return forbidden_v4(v4);
            }
            let s = v6.segments();
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00 // unique local
                || (s[0] & 0xffc0) == 0xfe80 // link-local
                || (s[0] & 0xffc0) == 0xfec0 // site-local (deprecated)
                || (s[0] == 0x64 && s[1] == 0xff9b && s[2] == 1) // local-use NAT64
                // 6to4 wrapping a forbidden IPv4 address
                || (s[0] == 0x2002 && forbidden_v4(Ipv4Addr::new(
                    (s[1] >> 8) as u8, s[1] as u8, (s[2] >> 8) as u8, s[2] as u8,
                )))
                || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
                // NAT64 to a forbidden IPv4 address
                || (s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0; 4] && {
                    let v4 = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
                    forbidden_v4(v4)
                })
        }
    }
}

fn forbidden_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT)
        || (a == 192 && b == 0 && ip.octets()[2] == 0) // IETF protocol assignments
        || (a == 198 && (18..20).contains(&b)) // benchmarking
        || a >= 240 // reserved
}

/// Fetches `url` under `policy`, reading at most `max_bytes` of body.
///
/// # Errors
/// [`MediaError::UrlParse`], [`MediaError::BadUrl`], [`MediaError::Resolve`],
/// [`MediaError::Forbidden`], [`MediaError::Redirects`],
/// [`MediaError::Fetch`], [`MediaError::Status`], [`MediaError::TooLarge`],
/// [`MediaError::Timeout`], [`MediaError::Empty`].
pub async fn fetch(
    url: &str,
    policy: &FetchPolicy,
    max_bytes: usize,
) -> Result<Fetched, MediaError> {
    tokio::time::timeout(policy.timeout, fetch_inner(url, policy, max_bytes))
        .await
        .unwrap_or_else(|_| {
            Err(MediaError::Timeout {
                url: url.into(),
                secs: policy.timeout.as_secs(),
            })
        })
}

async fn fetch_inner(
    first: &str,
    policy: &FetchPolicy,
    max_bytes: usize,
) -> Result<Fetched, MediaError> {
    let bad = |url: &str, reason: &'static str| MediaError::BadUrl {
        url: url.into(),
        reason,
    };
    let parse = |raw: &str, base: Option<&Url>| {
        let parsed = match base {
            Some(b) => b.join(raw),
            None => Url::parse(raw),
        };
        parsed.map_err(|source| MediaError::UrlParse {
            url: raw.into(),
            source,
        })
    };
    let mut url = parse(first, None)?;
    for _ in 0..=policy.max_redirects {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(bad(url.as_str(), "only http and https URLs can be fetched"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(MediaError::BadUrl {
                url: format!(
                    "{}://…@{}",
                    url.scheme(),
                    url.host_str().unwrap_or_default()
                ),
                reason: "URLs with credentials are refused (they would be stored in public metadata)",
            });
        }
        let host = url
            .host_str()
            .ok_or_else(|| bad(url.as_str(), "it has no host"))?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        let port = url.port_or_known_default().unwrap_or(80);
        let addrs: Vec<SocketAddr> = match host.parse::<IpAddr>() {
            Ok(ip) => vec![SocketAddr::new(ip, port)],
            Err(_) => tokio::net::lookup_host((host.as_str(), port))
                .await
                .map_err(|source| MediaError::Resolve {
                    url: url.to_string(),
                    host: host.clone(),
                    source,
                })?
                .collect(),
        };
        if addrs.is_empty() {
            return Err(bad(url.as_str(), "its host has no addresses"));
        }
        if !policy.allow_private
            && let Some(a) = addrs.iter().find(|a| is_forbidden(a.ip()))
        {
            return Err(MediaError::Forbidden {
                url: url.to_string(),
                host,
                addr: a.ip(),
            });
        }
        let fetch_err = |source| MediaError::Fetch {
            url: url.to_string(),
            source,
        };
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(policy.connect_timeout)
            .no_proxy()
            .resolve_to_addrs(&host, &addrs)
            .user_agent(concat!("engram/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(fetch_err)?;
        let mut resp = client
            .get(url.clone())
            .header(
                "accept",
                "text/html,application/xhtml+xml,application/pdf,text/plain;q=0.9,*/*;q=0.1",
            )
            .send()
            .await
            .map_err(|e| MediaError::Fetch {
                url: url.to_string(),
                source: e,
            })?;
        let status = resp.status();
        if status.is_redirection() {
            let location = resp
                .headers()
                .get("location")
                .and_then(|l| l.to_str().ok())
                .ok_or_else(|| bad(url.as_str(), "a redirect without a Location"))?;
            url = parse(location, Some(&url))?;
            continue;
        }
        if !status.is_success() {
            return Err(MediaError::Status {
                url: url.to_string(),
                status: status.as_u16(),
            });
        }
        let too_large = |bytes| MediaError::TooLarge {
            what: "page",
            bytes,
            limit: max_bytes,
        };
        if let Some(len) = resp.content_length()
            && len as usize > max_bytes
        {
            return Err(too_large(len as usize));
        }
        let (content_type, charset) = content_type(resp.headers());
        let mut bytes = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| MediaError::Fetch {
            url: url.to_string(),
            source: e,
        })? {
            bytes.extend_from_slice(&chunk);
            if bytes.len() > max_bytes {
                return Err(too_large(bytes.len()));
            }
        }
        if bytes.is_empty() {
            return Err(MediaError::Empty { what: "page" });
        }
        return Ok(Fetched {
            url: url.to_string(),
            content_type,
            charset,
            bytes,
        });
    }
    Err(MediaError::Redirects {
        url: first.into(),
        limit: policy.max_redirects,
    })
}

fn content_type(headers: &reqwest::header::HeaderMap) -> (String, Option<String>) {
    let raw = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let mut parts = raw.split(';');
    let mime = parts.next().unwrap_or_default().trim().to_string();
    let charset = parts
        .filter_map(|p| p.trim().strip_prefix("charset="))
        .map(|c| c.trim_matches('"').to_string())
        .next();
    (mime, charset)
}

/// Fetches `url` and reads it as a document: an HTML or plain-text page, or a PDF.
///
/// # Errors
/// As [`fetch`], then as [`html::extract`] or [`pdf::extract`];
/// [`MediaError::Unsupported`] for other content types.
pub async fn document(
    url: &str,
    policy: &FetchPolicy,
    limits: &Limits,
) -> Result<Document, MediaError> {
    let f = fetch(url, policy, limits.max_bytes).await?;
    let limits = *limits;
    // Parsing a large page or PDF is CPU work: off the async threads.
    tokio::task::spawn_blocking(move || read_fetched(f, &limits))
        .await
        .unwrap_or_else(|e| Err(MediaError::PdfPanic(e.to_string())))
}

/// A fetched body as a document, by its content type.
fn read_fetched(f: Fetched, limits: &Limits) -> Result<Document, MediaError> {
    let is_pdf = f.content_type == pdf::MIME
        || (f.content_type.is_empty() || f.content_type == "application/octet-stream")
            && f.bytes.starts_with(b"%PDF-");
    if is_pdf {
        let name = Url::parse(&f.url)
            .ok()
            .and_then(|u| u.path_segments()?.next_back().map(str::to_string))
            .filter(|n| !n.is_empty());
        return pdf::extract(f.bytes, &f.url, name.as_deref(), limits);
    }
    match f.content_type.as_str() {
        "text/html" | "application/xhtml+xml" | "" => {
            html::extract(f.bytes, f.charset.as_deref(), &f.url, limits)
        }
        "text/plain" | "text/markdown" => {
            limits.check_size("page", f.bytes.len())?;
            let text = html::decode(&f.bytes, f.charset.as_deref());
            if text.trim().is_empty() {
                return Err(MediaError::NoTextFound { what: "page" });
            }
            Ok(Document {
                kind: Kind::Url,
                content_type: f.content_type.clone(),
                source: f.url,
                filename: None,
                title: None,
                pages: vec![text],
                bytes: f.bytes,
            })
        }
        other => Err(MediaError::Unsupported {
            url: f.url,
            content_type: other.into(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_and_special_addresses_are_forbidden() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "2001:db8::1",
        ] {
            assert!(
                is_forbidden(ip.parse().unwrap()),
                "{ip} should be forbidden"
            );
        }
        for ip in [
            "93.184.216.34",
            "1.1.1.1",
            "2606:4700:4700::1111",
            "::ffff:8.8.8.8",
        ] {
            assert!(!is_forbidden(ip.parse().unwrap()), "{ip} should be allowed");
        }
    }
}
