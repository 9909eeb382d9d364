//! A document and the memories made from it.

use engram_core::Cid;
use serde_json::{Map, Value};

use crate::{Limits, MediaError, chunk};

/// Characters of a chunk kept in its metadata as `text` (the original's preview length).
pub const MAX_PREVIEW_CHARS: usize = 500;
/// Characters of a title kept in metadata.
pub const MAX_TITLE_CHARS: usize = 256;

/// What a document was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A PDF file (or a URL that served one).
    Pdf,
    /// A web page.
    Url,
    /// An image.
    Image,
}

impl Kind {
    /// The metadata `type` the original gave such memories.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Pdf => "pdf",
            Kind::Url => "url",
            Kind::Image => "image",
        }
    }
}

/// Where a document's bytes stand on Arweave when its memories are made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArchiveRef {
    /// No wallet configured: the bytes stay in the node's blob store.
    Off,
    /// Upload failed or is queued; the retry queue will post it.
    Pending,
    /// Uploaded as this transaction.
    Uploaded {
        /// Transaction id.
        tx_id: String,
        /// Gateway URL of the data.
        url: String,
    },
}

/// A document read and ready to become memories.
#[derive(Debug, Clone)]
pub struct Document {
    /// What it was.
    pub kind: Kind,
    /// The bytes to keep as its blob (the PDF, the page's HTML, the image).
    pub bytes: Vec<u8>,
    /// Their MIME type.
    pub content_type: String,
    /// Where it came from: the URL, or the file name.
    pub source: String,
    /// The file name, for files.
    pub filename: Option<String>,
    /// Its title, when it has one.
    pub title: Option<String>,
    /// Its text: one entry per PDF page, one for a page or image.
    pub pages: Vec<String>,
}

/// One memory's worth of a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    /// The text to embed and store.
    pub text: String,
    /// The 1-based PDF page it starts on.
    pub page: Option<usize>,
    /// Its position among the document's chunks, from 0.
    pub index: usize,
}

impl Document {
    /// The content CID of [`Document::bytes`].
    pub fn content_cid(&self) -> Cid {
        Cid::for_content(&self.bytes)
    }

    /// The chunks to store: each page split on its own, so that a chunk's page is exact.
    ///
    /// # Errors
    /// [`MediaError::TooManyChunks`] past [`Limits::max_chunks`].
    pub fn chunks(&self, limits: &Limits) -> Result<Vec<Chunk>, MediaError> {
        let mut out = Vec::new();
        for (i, page) in self.pages.iter().enumerate() {
            for text in chunk::split(page, limits.chunk_chars, limits.chunk_overlap) {
                if out.len() == limits.max_chunks {
                    return Err(MediaError::TooManyChunks {
                        limit: limits.max_chunks,
                    });
                }
                out.push(Chunk {
                    text,
                    page: (self.kind == Kind::Pdf).then_some(i + 1),
                    index: out.len(),
                });
            }
        }
        Ok(out)
    }

    /// Characters of text drawn from the document, whitespace normalized.
    pub fn chars(&self) -> usize {
        self.pages
            .iter()
            .map(|p| chunk::normalize(p).chars().count())
            .sum()
    }

    /// The metadata of one chunk's memory (`content_cid` is [`Document::content_cid`],
    /// computed once by the caller: hashing a large file per chunk adds up): the caller's keys, then the document's (which
    /// win): `type`, `content_cid`, `content_type`, `source`, `filename`, `title`, `text`
    /// (a preview of at most [`MAX_PREVIEW_CHARS`]), `page` and `pages` for PDFs, `chunk`
    /// and `chunks`, and `arweave_tx_id`/`arweave_url` once uploaded or `arweave:
    /// "pending"` while queued. These are the original's field names.
    pub fn chunk_metadata(
        &self,
        chunk: &Chunk,
        total: usize,
        content_cid: &Cid,
        archive: &ArchiveRef,
        user: &Map<String, Value>,
    ) -> Map<String, Value> {
        let mut m = user.clone();
        let mut set = |k: &str, v: Value| {
            m.insert(k.to_string(), v);
        };
        set("type", self.kind.as_str().into());
        set("content_cid", content_cid.to_string().into());
        set("content_type", self.content_type.clone().into());
        set("source", self.source.clone().into());
        if let Some(f) = &self.filename {
            set("filename", f.clone().into());
        }
        if let Some(t) = &self.title {
            set("title", truncate(t, MAX_TITLE_CHARS).into());
        }
        set("text", truncate(&chunk.text, MAX_PREVIEW_CHARS).into());
        if let Some(p) = chunk.page {
            set("page", p.into());
            // The original wrote the page count as a string.
            set("pages", self.pages.len().to_string().into());
        }
        set("chunk", chunk.index.into());
        set("chunks", total.into());
        match archive {
            ArchiveRef::Off => {}
            ArchiveRef::Pending => set("arweave", "pending".into()),
            ArchiveRef::Uploaded { tx_id, url } => {
                set("arweave_tx_id", tx_id.clone().into());
                set("arweave_url", url.clone().into());
            }
        }
        m
    }
}

/// The first `max` characters of `s`.
pub(crate) fn truncate(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(kind: Kind, pages: &[&str]) -> Document {
        Document {
            kind,
            bytes: b"bytes".to_vec(),
            content_type: "application/pdf".into(),
            source: "paper.pdf".into(),
            filename: Some("paper.pdf".into()),
            title: Some("T".repeat(300)),
            pages: pages.iter().map(|p| p.to_string()).collect(),
        }
    }

    #[test]
    fn chunks_know_their_page_and_position() {
        let d = doc(Kind::Pdf, &["first page", "", "third page"]);
        let chunks = d.chunks(&Limits::default()).unwrap();
        assert_eq!(
            chunks,
            vec![
                Chunk {
                    text: "first page".into(),
                    page: Some(1),
                    index: 0
                },
                Chunk {
                    text: "third page".into(),
                    page: Some(3),
                    index: 1
                },
            ]
        );
        let tight = Limits {
            max_chunks: 1,
            ..Limits::default()
        };
        assert!(matches!(
            d.chunks(&tight),
            Err(MediaError::TooManyChunks { limit: 1 })
        ));
        let web = doc(Kind::Url, &["a page"]);
        assert_eq!(web.chunks(&Limits::default()).unwrap()[0].page, None);
    }

    #[test]
    fn metadata_has_the_originals_fields_and_ours_win() {
        let d = doc(Kind::Pdf, &["x".repeat(700).as_str()]);
        let chunks = d.chunks(&Limits::default()).unwrap();
        let mut user = Map::new();
        user.insert("type".into(), "mine".into());
        user.insert("project".into(), "a".into());
        let m = d.chunk_metadata(
            &chunks[0],
            chunks.len(),
            &d.content_cid(),
            &ArchiveRef::Uploaded {
                tx_id: "abc".into(),
                url: "http://gw/abc".into(),
            },
            &user,
        );
        assert_eq!(m["type"], "pdf");
        assert_eq!(m["project"], "a");
        assert_eq!(m["content_cid"], Cid::for_content(b"bytes").to_string());
        assert_eq!(
            m["text"].as_str().unwrap().chars().count(),
            MAX_PREVIEW_CHARS
        );
        assert_eq!(
            m["title"].as_str().unwrap().chars().count(),
            MAX_TITLE_CHARS
        );
        assert_eq!(m["page"], 1);
        assert_eq!(m["pages"], "1");
        assert_eq!(m["chunk"], 0);
        assert_eq!(m["arweave_tx_id"], "abc");
        assert_eq!(m["arweave_url"], "http://gw/abc");
        let pending = d.chunk_metadata(
            &chunks[0],
            1,
            &d.content_cid(),
            &ArchiveRef::Pending,
            &Map::new(),
        );
        assert_eq!(pending["arweave"], "pending");
        assert!(!pending.contains_key("arweave_tx_id"));
    }
}
