//! The canonical embedder: all-MiniLM-L6-v2 in Rust, faithful to sentence-transformers and
//! deterministic to the bit.
//!
//! A text's CID is derived from its vector's exact bytes, so every node that embeds must
//! produce the same bytes: the same on every CPU and kernel path ([`Kernels`]: one defined
//! order for every reduction, the same fused multiply-adds and polynomials everywhere), in
//! any batch, and within cosine 0.9999 of sentence-transformers on every case in
//! `vectors/embeddings.json`. The model is read from a verified directory that setup
//! filled; nothing is downloaded here.
//!
//! # Layout
//! - [`model_dir`]: where the model lives and how it is verified.
//! - `tokenize`: WordPiece with canonical truncation (256) and no padding.
//! - `bert`: the encoder, mean pooling and L2 normalization.
//! - [`kernels`]: the kernel paths, how one is chosen, and the rule that makes them agree.
//! - `dense`: the linear layers, weights packed at load, one kernel per path.
//! - `ops`: GELU, softmax, layer norm and attention, compiled per path.
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
pub mod kernels;
pub mod model_dir;
mod ops;
mod tokenize;

use std::path::{Path, PathBuf};

pub use bert::HIDDEN as DIM;
pub use error::{EmbedError, SETUP_HINT};
pub use kernels::{KERNELS_ENV, Kernels};
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

/// A loaded, verified embedding model.
pub struct Embedder {
    dir: PathBuf,
    tokenizer: WordPiece,
    bert: Bert,
}

impl Embedder {
    /// Loads and verifies the model in `dir`, for the kernel path `ENGRAM_KERNELS` names
    /// or else the best this CPU has.
    ///
    /// # Errors
    /// [`EmbedError::ModelMissing`] or [`EmbedError::ModelChecksum`] naming the setup
    /// command, [`EmbedError::ModelMalformed`], or a kernel path that is unknown or that
    /// this CPU lacks ([`Kernels::from_env`]).
    pub fn load(dir: &Path) -> Result<Self, EmbedError> {
        Self::load_with(dir, Kernels::from_env()?)
    }

    /// Loads and verifies the model in `dir` for the given kernel path.
    ///
    /// # Errors
    /// As [`Embedder::load`].
    pub fn load_with(dir: &Path, kernels: Kernels) -> Result<Self, EmbedError> {
        // Before reading 87 MB of weights: a path this CPU lacks fails at once.
        let kernels = kernels.supported()?;
        let weights = model_dir::read_verified_weights(dir)?;
        let tokenizer = WordPiece::load(&dir.join(model_dir::TOKENIZER_FILE))?;
        let bert = Bert::from_safetensors(&weights, kernels)?;
        Ok(Self {
            dir: dir.to_path_buf(),
            tokenizer,
            bert,
        })
    }

    /// The kernel path this embedder runs.
    pub fn kernels(&self) -> Kernels {
        self.bert.kernels()
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
