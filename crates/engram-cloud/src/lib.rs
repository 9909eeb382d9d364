//! Cloud mining: people without a server rent a miner by the hour.
//!
//! A phone keeps the sr25519 identity and pays; a gateway deploys a miner for it on Akash,
//! a marketplace of compute providers that bid on a deployment described in SDL (Akash's
//! Stack Definition Language, YAML). This crate owns what is fixed about that: the
//! [`tiers`] a user picks from (resources and prices) and the [`sdl`] manifest that asks a
//! provider for exactly those resources and runs the miner image with the network settings
//! in its environment, and the [`x402`] payments (with the few [`eth`] primitives they
//! need) by which the hours are paid. Every manifest it writes is parsed in the tests by Akash's own SDL
//! parser (`@akashnetwork/akashjs`), which must derive the tier's resources from it.
//!
//! # Example
//! ```
//! use engram_cloud::sdl::{Sdl, DEFAULT_IMAGE};
//! use engram_cloud::tiers::Tier;
//!
//! let hotkey = engram_core::keys::Keypair::from_uri("//Alice").unwrap().ss58();
//! let yaml = Sdl::new(Tier::Standard, &hotkey).unwrap().to_yaml();
//! assert!(yaml.contains(DEFAULT_IMAGE));
//! ```

mod error;
pub mod eth;
pub mod sdl;
pub mod tiers;
pub mod x402;
mod yaml;

pub use error::CloudError;
