//! Which compute kernels run the encoder, and the rule that makes them agree to the bit.
//!
//! A text's CID hashes the exact bytes of its vector, so every machine must compute the same
//! bytes. Every kernel path therefore evaluates one definition, written once as portable
//! Rust ([`Kernels::Scalar`]):
//!
//! - a dense layer's output `y[r][o]` starts at `bias[o]` and takes one fused multiply-add
//!   per input, `y = fma(x[r][k], W[o][k], y)` for `k = 0, 1, …` in order (`f32::mul_add`);
//!   a SIMD path puts different outputs `o` in different lanes, never different `k`;
//! - everything else (embedding sums, layer norm, GELU with its polynomial `erf`, softmax
//!   with its polynomial `exp`, attention, pooling) is plain `f32` Rust with its reductions
//!   spelled out (16 partial sums, combined in a fixed order). Rust never reassociates or
//!   contracts floating-point operations, so the compiler may vectorize that code for any
//!   instruction set only where the result is unchanged.
//!
//! The SIMD paths are the same loops with wider registers: AVX-512 (16 lanes), AVX2 + FMA
//! (8 lanes) and, on aarch64, NEON (4 lanes). IEEE 754 makes `fma`, `+`, `×`, `÷` and `√`
//! correctly rounded everywhere, so equal operation sequences give equal bytes; the tests
//! compare every selectable path with the scalar one byte for byte. The NEON path cannot
//! be built on the project's x86-64 machines: it instantiates the same generic kernel with
//! `vfmaq_f32` (a fused multiply-add per lane) and is correct by that construction, not by
//! a test run here.
//!
//! Selection: `ENGRAM_KERNELS=avx512|avx2|neon|scalar`, else the best this CPU has.

use std::fmt;
use std::str::FromStr;

use crate::error::EmbedError;

/// The environment variable that selects a kernel path.
pub const KERNELS_ENV: &str = "ENGRAM_KERNELS";

/// A kernel path. All of them give byte-identical embeddings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kernels {
    /// AVX-512F (x86-64), 16 lanes.
    Avx512,
    /// AVX2 with FMA (x86-64), 8 lanes.
    Avx2,
    /// NEON (aarch64), 4 lanes.
    Neon,
    /// The portable definition every other path equals.
    Scalar,
}

impl Kernels {
    /// Every path, fastest first.
    pub const ALL: [Kernels; 4] = [
        Kernels::Avx512,
        Kernels::Avx2,
        Kernels::Neon,
        Kernels::Scalar,
    ];

    /// The name `ENGRAM_KERNELS` and `engram status` use.
    pub fn name(self) -> &'static str {
        match self {
            Kernels::Avx512 => "avx512",
            Kernels::Avx2 => "avx2",
            Kernels::Neon => "neon",
            Kernels::Scalar => "scalar",
        }
    }

    /// Whether this CPU can run the path.
    pub fn is_supported(self) -> bool {
        match self {
            #[cfg(target_arch = "x86_64")]
            Kernels::Avx512 => {
                std::arch::is_x86_feature_detected!("avx512f")
                    && std::arch::is_x86_feature_detected!("avx2")
                    && std::arch::is_x86_feature_detected!("fma")
            }
            #[cfg(target_arch = "x86_64")]
            Kernels::Avx2 => {
                std::arch::is_x86_feature_detected!("avx2")
                    && std::arch::is_x86_feature_detected!("fma")
            }
            #[cfg(target_arch = "aarch64")]
            Kernels::Neon => true,
            Kernels::Scalar => true,
            #[allow(unreachable_patterns)]
            _ => false,
        }
    }

    /// The paths this CPU can run, fastest first (always ends with [`Kernels::Scalar`]).
    pub fn available() -> Vec<Kernels> {
        Self::ALL.into_iter().filter(|k| k.is_supported()).collect()
    }

    /// The fastest path this CPU has.
    pub fn best() -> Kernels {
        Self::available()[0]
    }

    /// The path `ENGRAM_KERNELS` asks for, or [`Kernels::best`] when it is unset or empty.
    ///
    /// # Errors
    /// [`EmbedError::UnknownKernels`] for a name that is not a path, and
    /// [`EmbedError::KernelsUnsupported`] for a path this CPU cannot run.
    pub fn from_env() -> Result<Kernels, EmbedError> {
        match std::env::var(KERNELS_ENV) {
            Ok(v) if !v.trim().is_empty() => v.parse::<Kernels>()?.supported(),
            _ => Ok(Self::best()),
        }
    }

    /// `self` if this CPU runs it.
    ///
    /// # Errors
    /// [`EmbedError::KernelsUnsupported`] otherwise.
    pub fn supported(self) -> Result<Kernels, EmbedError> {
        if self.is_supported() {
            Ok(self)
        } else {
            Err(EmbedError::KernelsUnsupported {
                kernels: self,
                available: names(&Self::available()),
            })
        }
    }
}

fn names(kernels: &[Kernels]) -> String {
    kernels
        .iter()
        .map(|k| k.name())
        .collect::<Vec<_>>()
        .join(", ")
}

impl fmt::Display for Kernels {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Kernels {
    type Err = EmbedError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        Self::ALL
            .into_iter()
            .find(|k| k.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| EmbedError::UnknownKernels {
                value: s.to_string(),
                known: names(&Self::ALL),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_names_are_refused() {
        for k in Kernels::ALL {
            assert_eq!(k.name().parse::<Kernels>().unwrap(), k);
            assert_eq!(k.to_string().to_uppercase().parse::<Kernels>().unwrap(), k);
        }
        let err = "sse9".parse::<Kernels>().unwrap_err().to_string();
        assert!(
            err.contains("sse9") && err.contains("avx512, avx2, neon, scalar"),
            "{err}"
        );
    }

    #[test]
    fn the_scalar_path_runs_everywhere_and_is_listed_last() {
        let available = Kernels::available();
        assert_eq!(available.last(), Some(&Kernels::Scalar));
        assert_eq!(Kernels::best(), available[0]);
        assert_eq!(Kernels::Scalar.supported().unwrap(), Kernels::Scalar);
    }

    #[test]
    fn a_path_this_cpu_lacks_is_a_clear_error() {
        let Some(missing) = Kernels::ALL.into_iter().find(|k| !k.is_supported()) else {
            return; // a CPU with every path (impossible today: x86-64 and aarch64 differ)
        };
        let err = missing.supported().unwrap_err().to_string();
        assert!(
            err.contains(missing.name()) && err.contains("scalar"),
            "{err}"
        );
    }
}
