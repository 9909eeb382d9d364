//! Permanent storage of Engram content on Arweave.
//!
//! Engram keeps a memory's vector and text in its own network, but the original media (an image,
//! a PDF) can also be stored on Arweave, where it is paid for once and kept for good. This crate
//! is that path: it signs format-2 Arweave transactions with an RSA wallet, uploads the data
//! inline or in 256 KiB chunks, reports confirmation, and downloads the data back, refusing bytes
//! whose SHA-256 is not the content hash Engram recorded. It speaks the gateway HTTP API
//! directly (no arweave-js, no bundler), and is tested against a real arlocal gateway.
//!
//! Layout:
//! - [`wallet`]: JWK wallets from JSON, a file or the environment; owner and address.
//! - [`tx`]: format-2 transactions: deep hash, chunking and proofs, signing, JSON.
//! - [`client`]: the async gateway client: upload, status, download.
//! - [`tags`]: tags, and the set Engram puts on its uploads.
//! - [`error`]: [`ArweaveError`], the one error type.
//!
//! Signing and verifying, offline:
//!
//! ```
//! use engram_arweave::{DataLayout, Transaction, Wallet, engram_tags};
//!
//! let wallet = Wallet::generate(1024)?; // small for speed; Arweave wallets are 4096-bit
//! let data = b"a memory worth keeping";
//! let hash = "c8de4d3f1b0d2bd1c4dcd6d8b9d8b1f1d0f1e6a1c3b5d7e9f0a2b4c6d8e0f1a2";
//! let layout = DataLayout::new(data);
//! let mut tx = Transaction::new(&layout, engram_tags("text/plain", hash, None, false), "", 0)?;
//! let id = tx.sign(&wallet)?;
//! tx.verify()?;
//! assert_eq!(id.as_str().len(), 43);
//! assert_eq!(tx.tags()[3].value, format!("sha256:{hash}"));
//! # Ok::<(), engram_arweave::ArweaveError>(())
//! ```
//!
//! Uploading and reading back through a gateway:
//!
//! ```no_run
//! use engram_arweave::{Client, TxStatus, Wallet, engram_tags};
//! use sha2::{Digest, Sha256};
//!
//! # async fn run() -> Result<(), engram_arweave::ArweaveError> {
//! let wallet = Wallet::from_env()?; // ARWEAVE_KEY (JWK JSON) or ARWEAVE_KEY_FILE
//! let client = Client::new("https://arweave.net")?;
//! let data = std::fs::read("scan.pdf").unwrap();
//! let sha: [u8; 32] = Sha256::digest(&data).into();
//! let tags = engram_tags("application/pdf", &hex::encode(sha), None, false);
//! let id = client.upload(&wallet, &data, &tags).await?;
//! if let TxStatus::Confirmed { .. } = client.status(&id).await? {
//!     let back = client.download_verified(&id, sha).await?;
//!     assert_eq!(back, data);
//! }
//! println!("{}", client.data_url(&id));
//! # Ok(())
//! # }
//! ```

pub mod client;
pub mod error;
pub mod tags;
pub mod tx;
pub mod wallet;

mod b64;

pub use client::{Client, DEFAULT_TIMEOUT, TxStatus};
pub use error::{ArweaveError, KeyOrigin, Result, UrlParseError};
pub use tags::{APP_NAME, APP_VERSION, MAX_TAGS_BYTES, Tag, engram_tags, validate_tags};
pub use tx::merkle::{Chunk, DataLayout};
pub use tx::{Transaction, TxId};
pub use wallet::{KEY_ENV, KEY_FILE_ENV, Wallet};
