//! WordPiece tokenization with the canonical settings.
//!
//! `tokenizer.json` ships truncation at 128 and fixed padding to 128; the canonical
//! embedding truncates at 256 tokens (including `[CLS]`/`[SEP]`) and pads nothing, because
//! the model runs each sequence at its own length.

use std::path::Path;

use tokenizers::{Tokenizer, TruncationParams};

use crate::error::EmbedError;

/// Longest token sequence the canonical embedding sees, `[CLS]` and `[SEP]` included.
pub const MAX_TOKENS: usize = 256;

/// A tokenizer configured for canonical embeddings.
pub(crate) struct WordPiece {
    inner: Tokenizer,
}

impl WordPiece {
    pub(crate) fn load(path: &Path) -> Result<Self, EmbedError> {
        let mut inner = Tokenizer::from_file(path).map_err(|e| EmbedError::Tokenizer {
            reason: format!("{}: {e}", path.display()),
        })?;
        inner.with_padding(None);
        inner
            .with_truncation(Some(TruncationParams {
                max_length: MAX_TOKENS,
                ..Default::default()
            }))
            .map_err(|e| EmbedError::Tokenizer {
                reason: e.to_string(),
            })?;
        Ok(Self { inner })
    }

    /// Token ids of one text, `[CLS]` … `[SEP]`, truncated to [`MAX_TOKENS`].
    pub(crate) fn ids(&self, text: &str) -> Result<Vec<u32>, EmbedError> {
        let enc = self
            .inner
            .encode_fast(text, true)
            .map_err(|e| EmbedError::Tokenizer {
                reason: e.to_string(),
            })?;
        Ok(enc.get_ids().to_vec())
    }
}
