//! Engram's validator: it keeps storage nodes honest and pays them through weights.
//!
//! A validator writes a few probe memories of its own (ground truth it can check recall
//! against without trusting anyone), then on three cadences scores every live node
//! (recall@10 and latency), challenges it (proof v2 over the vector bytes, and retrieval
//! audits of records sampled from the node's own Merkle commitment, asked of every replica
//! at once), and writes weights by DESIGN §5's formula to the registry. Everything it
//! measures is persisted, so a restart resumes where it stopped. docs/validator.md has the
//! sampling arithmetic.
//!
//! # Layout
//! - [`score`]: the formula (pure).
//! - [`state`]: what is persisted, and how.
//! - [`validator`]: the rounds and the loop.

mod error;
pub mod score;
pub mod state;
pub mod validator;

pub use error::ValidatorError;
pub use state::{NodeStats, State, StateDir};
pub use validator::{FAULT_INJECTION, Validator, ValidatorConfig, fault};
