//! The one error type of `engram-media`.

use thiserror::Error;

/// Why a document could not be turned into memories. Each says what to do about it.
#[derive(Debug, Error)]
pub enum MediaError {
    /// A file or download with no bytes.
    #[error("the {what} is empty")]
    Empty {
        /// What was empty ("PDF", "image", "page").
        what: &'static str,
    },
    /// A file or download over the configured cap.
    #[error("the {what} is {bytes} bytes; the limit is {limit} (raise it with --max-bytes)")]
    TooLarge {
        /// What was too large.
        what: &'static str,
        /// Its size (or the bytes read before stopping).
        bytes: usize,
        /// The cap.
        limit: usize,
    },
    /// Bytes that are not the kind of file they were given as.
    #[error("not a {expected}: {reason}")]
    WrongType {
        /// The kind expected ("PDF", "PNG, JPEG, GIF or WebP image", …).
        expected: &'static str,
        /// What was found instead.
        reason: String,
    },
    /// A PDF that is password-protected.
    #[error("the PDF is encrypted with a password; decrypt it first (e.g. `qpdf --decrypt`)")]
    Encrypted,
    /// A PDF that does not parse.
    #[error("the PDF is damaged: {0}")]
    CorruptPdf(String),
    /// Compressed streams that expand beyond the limits.
    #[error(
        "the PDF's compressed streams expand to more than {limit} bytes (a decompression bomb?)"
    )]
    Bomb {
        /// The limit that was crossed.
        limit: usize,
    },
    /// An image whose header gives more pixels than allowed.
    #[error("the image is {width}×{height} pixels; the limit is {limit} pixels")]
    TooManyPixels {
        /// Width from the header.
        width: u64,
        /// Height from the header.
        height: u64,
        /// The cap.
        limit: u64,
    },
    /// A PDF with pages but no text layer (scanned).
    #[error(
        "the PDF has {pages} page(s) but no text layer (a scan?); run OCR on it first (e.g. `ocrmypdf`)"
    )]
    NoText {
        /// Pages in the file.
        pages: usize,
    },
    /// A page or image with no text to embed.
    #[error("no text could be drawn from the {what}")]
    NoTextFound {
        /// What was read.
        what: &'static str,
    },
    /// An image with no description, no vision model and no OCR.
    #[error(
        "no text for this image: pass --description TEXT, configure a vision model (ENGRAM_VISION_URL, ENGRAM_VISION_KEY, ENGRAM_VISION_MODEL), or install tesseract for OCR"
    )]
    NoImageText,
    /// `tesseract` failed or is not installed.
    #[error("OCR with tesseract failed: {0}")]
    Ocr(String),
    /// The vision model could not describe the image.
    #[error("vision model at {url}: {reason}")]
    Vision {
        /// The endpoint.
        url: String,
        /// What went wrong.
        reason: String,
    },
    /// A URL that cannot be fetched as given.
    #[error("bad URL {url:?}: {reason}")]
    BadUrl {
        /// The URL.
        url: String,
        /// Why.
        reason: String,
    },
    /// A URL whose host resolves into a loopback, private or link-local network.
    #[error(
        "refusing to fetch {url}: {host} resolves to {addr}, a loopback, private or link-local address (allow it with --allow-private-urls)"
    )]
    Forbidden {
        /// The URL.
        url: String,
        /// Its host.
        host: String,
        /// The address it resolved to.
        addr: std::net::IpAddr,
    },
    /// More redirects than allowed (or a loop).
    #[error("too many redirects fetching {url} (limit {limit})")]
    Redirects {
        /// The URL first asked for.
        url: String,
        /// The limit.
        limit: usize,
    },
    /// A fetch that failed or timed out.
    #[error("fetching {url}: {source}")]
    Fetch {
        /// The URL.
        url: String,
        /// The HTTP error.
        #[source]
        source: reqwest::Error,
    },
    /// A fetch answered with an error status.
    #[error("fetching {url}: HTTP {status}")]
    Status {
        /// The URL.
        url: String,
        /// The status.
        status: u16,
    },
    /// A fetch took longer than allowed in all.
    #[error("fetching {url}: no complete answer within {secs} s")]
    Timeout {
        /// The URL.
        url: String,
        /// The limit.
        secs: u64,
    },
    /// A download of a kind that cannot be read.
    #[error("{url} is {content_type}; only HTML, plain text and PDF pages can be ingested")]
    Unsupported {
        /// The URL.
        url: String,
        /// Its content type.
        content_type: String,
    },
}

impl MediaError {
    /// True when the document or URL itself is at fault (as opposed to OCR or a vision
    /// service failing on a good one).
    pub fn is_bad_input(&self) -> bool {
        !matches!(self, MediaError::Ocr(_) | MediaError::Vision { .. })
    }
}
