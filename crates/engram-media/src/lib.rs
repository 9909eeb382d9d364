//! Documents into memories: the text of PDFs, web pages and images, cut into chunks that
//! each become one memory, with the raw bytes kept under their content CID.
//!
//! Engram embeds text. A PDF, a page or a picture is therefore two things: its bytes, kept
//! whole and named by `sha256:<hex>` (a blob), and the text drawn from it, split into
//! overlapping chunks short enough for the model to read in full. Every chunk's metadata
//! points back at the blob, so a search hit leads to the file it came from.
//!
//! This crate owns those rules and nothing else: it does no storage and no embedding.
//! Untrusted input is its daily bread, so every path has a limit ([`Limits`]) and every
//! refusal a typed reason ([`MediaError`]): a file that is not what it says, an encrypted
//! or damaged PDF, a decompression bomb, a scanned PDF with no text, an oversized or
//! empty file, a URL that is slow, loops, or points into the operator's own network.
//!
//! # Layout
//! - `document`: [`Document`], [`Kind`], the chunk metadata shape ([`Document::chunk_metadata`]).
//! - `chunk`: [`chunk::split`], overlapping chunks on paragraph, sentence or word boundaries.
//! - `pdf`: [`pdf::extract`], text per page (pdf-extract over lopdf), with the bomb check.
//! - `html`: [`html::extract`], a page's title and readable text.
//! - `image`: [`image::inspect`], format and size from the header, before anything decodes it.
//! - `ocr`: [`ocr::tesseract`], text in images where `tesseract` is installed.
//! - `vision`: [`vision::describe`], a description from an OpenAI-compatible vision model.
//! - `fetch`: [`fetch::fetch`], HTTP(S) with timeouts, a size cap, a redirect limit and a
//!   guard against requests into private networks.

pub mod chunk;
mod document;
mod error;
pub mod fetch;
pub mod html;
pub mod image;
pub mod ocr;
pub mod pdf;
pub mod vision;

pub use document::{ArchiveRef, Chunk, Document, Kind, MAX_PREVIEW_CHARS, MAX_TITLE_CHARS};
pub use error::MediaError;

/// Limits on untrusted documents; [`Limits::default`] is what the CLI and node use unless
/// configured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest file or download, in bytes (default 50 MB).
    pub max_bytes: usize,
    /// Largest total a PDF's compressed streams may expand to (default 512 MiB).
    pub max_expanded_bytes: usize,
    /// Largest ratio of a PDF's expanded stream bytes to the file size (default 200).
    pub max_expansion_ratio: usize,
    /// Largest image, in pixels (default 64 megapixels).
    pub max_pixels: u64,
    /// Characters per chunk (default 1,000; at most `engram_core::MAX_TEXT_CHARS`).
    pub chunk_chars: usize,
    /// Characters a chunk repeats from the one before (default 200).
    pub chunk_overlap: usize,
    /// Most chunks (memories) one document may make (default 10,000: about 8 MB of text).
    pub max_chunks: usize,
}

/// The default cap on a file or download: 50 MB.
pub const DEFAULT_MAX_BYTES: usize = 50 * 1000 * 1000;

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_bytes: DEFAULT_MAX_BYTES,
            max_expanded_bytes: 512 << 20,
            max_expansion_ratio: 200,
            max_pixels: 64_000_000,
            chunk_chars: 1_000,
            chunk_overlap: 200,
            max_chunks: 10_000,
        }
    }
}

impl Limits {
    /// Refuses an empty input or one over [`Limits::max_bytes`].
    ///
    /// # Errors
    /// [`MediaError::Empty`], [`MediaError::TooLarge`].
    pub fn check_size(&self, what: &'static str, len: usize) -> Result<(), MediaError> {
        if len == 0 {
            return Err(MediaError::Empty { what });
        }
        if len > self.max_bytes {
            return Err(MediaError::TooLarge {
                what,
                bytes: len,
                limit: self.max_bytes,
            });
        }
        Ok(())
    }
}
