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
    Pdf(#[source] lopdf::Error),
    /// A page whose text cannot be read.
    #[error("the PDF is damaged: page {page}: {source}")]
    PdfPage {
        /// The 1-based page.
        page: u32,
        /// The extractor's error.
        #[source]
        source: pdf_extract::OutputError,
    },
    /// The PDF parser gave up (a panic inside it, caught).
    #[error("the PDF is damaged: the parser gave up ({0})")]
    PdfPanic(String),
    /// A PDF with no pages.
    #[error("the PDF is damaged: it has no pages")]
    NoPages,
    /// Drawings (form XObjects) that draw themselves, directly or through others.
    #[error("the PDF is damaged or hostile: its drawings refer to themselves in a loop")]
    PdfLoop,
    /// Drawings nested or repeated past what a document needs.
    #[error(
        "the PDF's drawings are nested {depth} deep or repeated {calls} times; the limits are {max_depth} and {max_calls}"
    )]
    PdfNesting {
        /// Deepest nesting found.
        depth: usize,
        /// Most drawing invocations one drawing makes, nested ones counted.
        calls: u64,
        /// Deepest allowed.
        max_depth: usize,
        /// Most invocations allowed.
        max_calls: u64,
    },
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
    /// `tesseract` could not be started (not installed?).
    #[error("OCR: cannot run {program}: {source}")]
    OcrSpawn {
        /// The program.
        program: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Talking to the `tesseract` process failed.
    #[error("OCR: {0}")]
    OcrIo(#[source] std::io::Error),
    /// `tesseract` ran and failed.
    #[error("OCR with tesseract failed ({status}): {message}")]
    OcrFailed {
        /// Its exit status.
        status: String,
        /// The last line it printed to stderr.
        message: String,
    },
    /// `tesseract` took too long.
    #[error("OCR with tesseract gave no answer within {secs} s")]
    OcrTimeout {
        /// The limit.
        secs: u64,
    },
    /// The vision model could not be reached.
    #[error("vision model at {url}: {source}")]
    VisionRequest {
        /// The endpoint.
        url: String,
        /// The HTTP error.
        #[source]
        source: reqwest::Error,
    },
    /// The vision model answered an error status.
    #[error("vision model at {url}: HTTP {status}: {body}")]
    VisionStatus {
        /// The endpoint.
        url: String,
        /// The status.
        status: u16,
        /// The start of its answer.
        body: String,
    },
    /// The vision model's answer is not a chat completion.
    #[error("vision model at {url}: not a chat completion: {source}")]
    VisionAnswer {
        /// The endpoint.
        url: String,
        /// The parse error.
        #[source]
        source: serde_json::Error,
    },
    /// The vision model answered an empty description.
    #[error("vision model at {url}: the model returned an empty description")]
    VisionEmpty {
        /// The endpoint.
        url: String,
    },
    /// A URL that does not parse.
    #[error("bad URL {url:?}: {source}")]
    UrlParse {
        /// The URL.
        url: String,
        /// The parse error.
        #[source]
        source: url::ParseError,
    },
    /// A URL whose host does not resolve.
    #[error("bad URL {url:?}: {host} does not resolve: {source}")]
    Resolve {
        /// The URL.
        url: String,
        /// The host.
        host: String,
        /// The resolver's error.
        #[source]
        source: std::io::Error,
    },
    /// A URL that cannot be fetched as given (scheme, no host, credentials, …).
    #[error("bad URL {url:?}: {reason}")]
    BadUrl {
        /// The URL.
        url: String,
        /// Why.
        reason: &'static str,
    },
    /// A document that makes more chunks than allowed.
    #[error("the document makes more than {limit} chunks (memories); split it or raise the limit")]
    TooManyChunks {
        /// The limit.
        limit: usize,
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
        !matches!(
            self,
            MediaError::OcrSpawn { .. }
                | MediaError::OcrIo(_)
                | MediaError::OcrFailed { .. }
                | MediaError::OcrTimeout { .. }
                | MediaError::VisionRequest { .. }
                | MediaError::VisionStatus { .. }
                | MediaError::VisionAnswer { .. }
                | MediaError::VisionEmpty { .. }
        )
    }
}
