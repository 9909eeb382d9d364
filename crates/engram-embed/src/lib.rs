//! The canonical embedder: all-MiniLM-L6-v2 in Rust, faithful to sentence-transformers.
//!
//! A text's CID is derived from its vector, so every node that embeds must produce the
//! reference vectors (cosine ≥ 0.9999 with sentence-transformers on every case in
//! `vectors/embeddings.json`). The model is read from a verified directory that setup
//! filled; nothing is downloaded here.
//!
//! # Layout
//! - [`model_dir`]: where the model lives and how it is verified.
//! - `tokenize`: WordPiece with canonical truncation (256) and no padding.
//! - `bert`: the encoder, mean pooling and L2 normalization.
//! - `dense`: the linear layers, weights packed at load, AVX-512 kernel with a portable path.
//! - `ops`: GELU, softmax, layer norm and short-sequence attention, compiled per CPU.
//! - `matmul`: the bounds-checked wrapper over the `gemm` kernels (long-sequence attention).
//!
//! # Example
//! ```no_run
//! let embedder = engram_embed::Embedder::load("/path/to/model".as_ref())?;
//! let v = embedder.embed("hello world")?;
//! assert_eq!(v.len(), 384);
//! # Ok::<(), engram_embed::EmbedError>(())
//! ```

mod bert;
mod dense;
mod error;
mod matmul;
pub mod model_dir;
mod ops;
mod tokenize;

use std::path::{Path, PathBuf};

pub use bert::HIDDEN as DIM;
pub use error::{EmbedError, SETUP_HINT};
pub use model_dir::{MODEL_DIR_ENV, MODEL_SHA256, resolve_model_dir};
pub use tokenize::MAX_TOKENS;

use bert::Bert;
use tokenize::WordPiece;

/// The version string written into CIDs of vectors this embedder makes.
pub const MODEL_VERSION: &str = "v1";
/// The model's name as it appears in status output.
pub const MODEL_NAME: &str = "all-MiniLM-L6-v2";

/// Texts per forward pass when a caller hands over a large batch.
const CHUNK: usize = 32;

/// Which compute kernels this CPU runs: `"avx512"` or `"portable"` (detected at run time;
/// `ENGRAM_PORTABLE_KERNELS=1` forces the portable ones).
pub fn kernel_name() -> &'static str {
    match dense::Target::detect() {
        #[cfg(target_arch = "x86_64")]
        dense::Target::Avx512 => "avx512",
        dense::Target::Portable => "portable",
    }
}

/// A loaded, verified embedding model.
pub struct Embedder {
    dir: PathBuf,
    tokenizer: WordPiece,
    bert: Bert,
}

impl Embedder {
    /// Loads and verifies the model in `dir`.
    ///
    /// # Errors
    /// [`EmbedError::ModelMissing`] or [`EmbedError::ModelChecksum`] naming the setup
    /// command, or [`EmbedError::ModelMalformed`].
    pub fn load(dir: &Path) -> Result<Self, EmbedError> {
        let weights = model_dir::read_verified_weights(dir)?;
        let tokenizer = WordPiece::load(&dir.join(model_dir::TOKENIZER_FILE))?;
        let bert = Bert::from_safetensors(&weights)?;
        Ok(Self {
            dir: dir.to_path_buf(),
            tokenizer,
            bert,
        })
    }

    /// The directory the model was loaded from.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Embeds one text into a unit-length 384-dimension vector.
    ///
    /// # Errors
    /// [`EmbedError::Tokenizer`] if the text cannot be tokenized.
    pub fn embed(&self, text: &str) -> Result<Vec<f32>, EmbedError> {
        Ok(self
            .embed_batch(&[text])?
            .pop()
            .expect("one vector per text"))
    }

    /// Embeds many texts; the result is in input order. Texts are grouped by length so
    /// that a forward pass holds sequences of similar size.
    ///
    /// # Errors
    /// [`EmbedError::Tokenizer`] if a text cannot be tokenized.
    pub fn embed_batch<S: AsRef<str>>(&self, texts: &[S]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let ids: Vec<Vec<u32>> = texts
            .iter()
            .map(|t| self.tokenizer.ids(t.as_ref()))
            .collect::<Result<_, _>>()?;
        let mut order: Vec<usize> = (0..ids.len()).collect();
        order.sort_by_key(|&i| ids[i].len());
        let mut out = vec![Vec::new(); ids.len()];
        for chunk in order.chunks(CHUNK) {
            let batch: Vec<Vec<u32>> = chunk.iter().map(|&i| ids[i].clone()).collect();
            for (&i, v) in chunk.iter().zip(self.bert.embed(&batch)) {
                out[i] = v;
            }
        }
        Ok(out)
    }

    /// Number of tokens the model sees for `text` (after truncation).
    ///
    /// # Errors
    /// [`EmbedError::Tokenizer`] if the text cannot be tokenized.
    pub fn token_count(&self, text: &str) -> Result<usize, EmbedError> {
        Ok(self.tokenizer.ids(text)?.len())
    }
}
