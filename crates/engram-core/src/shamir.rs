//! Threshold keys: Shamir secret sharing over GF(2⁸), byte for byte the original's.
//!
//! A private namespace's key split K-of-N lets its owner recover it from any K nodes while
//! K−1 of them learn nothing: each secret byte is the constant term of its own random
//! polynomial of degree K−1, and share `i` holds every polynomial's value at `x = i`. With
//! K−1 points every value of the constant term fits some polynomial equally well, so the
//! shares are uniformly distributed whatever the secret (tested below by exhausting a
//! byte). Field: reduction polynomial x⁸+x⁴+x³+x+1 (`0x11b`, AES's); coefficients are drawn
//! per byte in byte order, `a1` first; reconstruction interpolates at 0 over the first K
//! shares given (DESIGN §2, `vectors/shamir.json`). Randomness is the caller's: this crate
//! does no I/O.

use serde::{Deserialize, Serialize};

use crate::error::CoreError;

/// The largest number of shares (x = 1…255; x = 0 is the secret).
pub const MAX_SHARES: u8 = 255;

/// One share as the wire carries it (`POST /KeyShareSynapse`, `/KeyShareRetrieve`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Share {
    /// Its x coordinate, 1-based.
    pub share_index: u8,
    /// The polynomials' values at `share_index`, lowercase hex, one byte per secret byte.
    pub share_hex: String,
    /// K: shares needed to recover.
    pub threshold: u8,
    /// N: shares dealt.
    pub total: u8,
}

impl Share {
    /// Checks what one share can say about itself: a possible split (2 ≤ threshold ≤
    /// total), an index in 1…total, bytes as an even number of hex digits.
    ///
    /// # Errors
    /// [`CoreError::ShamirParameters`], [`CoreError::ShamirIndex`] or [`CoreError::ShamirHex`].
    pub fn check(&self) -> Result<(), CoreError> {
        check_params(self.threshold, self.total)?;
        if self.share_index == 0 || self.share_index > self.total {
            return Err(CoreError::ShamirIndex {
                index: self.share_index,
                total: self.total,
            });
        }
        let hex_digits = !self.share_hex.is_empty()
            && self.share_hex.len().is_multiple_of(2)
            && self.share_hex.bytes().all(|b| b.is_ascii_hexdigit());
        if !hex_digits {
            return Err(CoreError::ShamirHex {
                index: self.share_index,
            });
        }
        Ok(())
    }
}

fn mul(mut a: u8, mut b: u8) -> u8 {
    // Shift-and-add with a fixed number of rounds (no table lookups indexed by secrets).
    let mut product = 0u8;
    for _ in 0..8 {
        product ^= a & 0u8.wrapping_sub(b & 1);
        let carry = 0u8.wrapping_sub(a >> 7);
        a = (a << 1) ^ (carry & 0x1b);
        b >>= 1;
    }
    product
}

fn inv(a: u8) -> u8 {
    // a^254 = a^-1 in GF(2^8) (and 0 for 0, never asked: x coordinates are distinct).
    let mut result = 1u8;
    let mut base = a;
    let mut e = 254u8;
    while e > 0 {
        if e & 1 == 1 {
            result = mul(result, base);
        }
        base = mul(base, base);
        e >>= 1;
    }
    result
}

fn check_params(threshold: u8, total: u8) -> Result<(), CoreError> {
    if threshold < 2 || threshold > total {
        return Err(CoreError::ShamirParameters { threshold, total });
    }
    Ok(())
}

/// Splits `secret` into `total` shares, any `threshold` of which recover it. `random` yields
/// uniformly random bytes (the OS's, in production); it is called `threshold − 1` times per
/// secret byte, in byte order.
///
/// # Errors
/// [`CoreError::ShamirParameters`] unless 2 ≤ threshold ≤ total; [`CoreError::ShamirEmpty`]
/// for an empty secret.
pub fn split(
    secret: &[u8],
    threshold: u8,
    total: u8,
    mut random: impl FnMut() -> u8,
) -> Result<Vec<Share>, CoreError> {
    check_params(threshold, total)?;
    if secret.is_empty() {
        return Err(CoreError::ShamirEmpty);
    }
    let mut ys = vec![vec![0u8; secret.len()]; usize::from(total)];
    let mut coefficients = vec![0u8; usize::from(threshold)];
    for (byte, &s) in secret.iter().enumerate() {
        coefficients[0] = s;
        for c in &mut coefficients[1..] {
            *c = random();
        }
        for (i, y) in ys.iter_mut().enumerate() {
            let x = i as u8 + 1;
            // Horner from the highest coefficient down.
            y[byte] = coefficients.iter().rev().fold(0, |acc, &c| mul(acc, x) ^ c);
        }
    }
    Ok(ys
        .into_iter()
        .enumerate()
        .map(|(i, y)| Share {
            share_index: i as u8 + 1,
            share_hex: hex::encode(y),
            threshold,
            total,
        })
        .collect())
}

/// Recovers the secret from at least `threshold` shares of one split (the first
/// `threshold` given are used).
///
/// # Errors
/// [`CoreError::ShamirTooFew`], [`CoreError::ShamirMixed`] (threshold, total or length
/// differ), [`CoreError::ShamirIndex`], [`CoreError::ShamirDuplicate`],
/// [`CoreError::ShamirHex`], or [`CoreError::ShamirParameters`] for an impossible split.
pub fn combine(shares: &[Share]) -> Result<Vec<u8>, CoreError> {
    let first = shares.first().ok_or(CoreError::ShamirTooFew {
        given: 0,
        needed: 2,
    })?;
    let (threshold, total) = (first.threshold, first.total);
    check_params(threshold, total)?;
    if shares.len() < usize::from(threshold) {
        return Err(CoreError::ShamirTooFew {
            given: shares.len(),
            needed: threshold,
        });
    }
    let used = &shares[..usize::from(threshold)];
    let mut points: Vec<(u8, Vec<u8>)> = Vec::with_capacity(used.len());
    for s in used {
        if (s.threshold, s.total) != (threshold, total) {
            return Err(CoreError::ShamirMixed);
        }
        s.check()?;
        if points.iter().any(|(x, _)| *x == s.share_index) {
            return Err(CoreError::ShamirDuplicate {
                index: s.share_index,
            });
        }
        let y = hex::decode(&s.share_hex).expect("checked to be hex");
        if points.first().is_some_and(|(_, y0)| y0.len() != y.len()) {
            return Err(CoreError::ShamirMixed);
        }
        points.push((s.share_index, y));
    }
    let len = points[0].1.len();
    // Lagrange basis at 0: l_i = Π_{j≠i} x_j / (x_i − x_j), subtraction being XOR.
    let basis: Vec<u8> = points
        .iter()
        .map(|(xi, _)| {
            let (num, den) = points
                .iter()
                .filter(|(xj, _)| xj != xi)
                .fold((1u8, 1u8), |(n, d), (xj, _)| (mul(n, *xj), mul(d, xi ^ xj)));
            mul(num, inv(den))
        })
        .collect();
    Ok((0..len)
        .map(|byte| {
            points
                .iter()
                .zip(&basis)
                .fold(0u8, |acc, ((_, y), &l)| acc ^ mul(y[byte], l))
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_arithmetic() {
        assert_eq!(mul(0x57, 0x83), 0xc1); // FIPS-197 §4.2
        assert_eq!(mul(0x57, 0x13), 0xfe);
        for a in 1..=255u8 {
            assert_eq!(mul(a, inv(a)), 1, "{a}");
        }
    }

    #[test]
    fn any_threshold_subset_recovers_and_fewer_learn_nothing() {
        let mut seed = 7u32;
        let mut rng = move || {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (seed >> 24) as u8
        };
        let secret: Vec<u8> = (0..32).collect();
        let shares = split(&secret, 3, 5, &mut rng).unwrap();
        for a in 0..5 {
            for b in a + 1..5 {
                for c in b + 1..5 {
                    let pick = [shares[c].clone(), shares[a].clone(), shares[b].clone()];
                    assert_eq!(combine(&pick).unwrap(), secret);
                }
            }
        }
        assert!(combine(&shares[..2]).is_err());
        // K−1 = 1 share of a 2-of-n split: over all 256 first coefficients, share 1 of every
        // secret byte takes each of the 256 values exactly once — uniform, whatever the
        // secret, so it says nothing about it.
        for s in [0u8, 1, 0x80, 0xff] {
            let mut seen = [0u32; 256];
            for a1 in 0..=255u8 {
                let mut once = Some(a1);
                let share = split(&[s], 2, 3, || once.take().unwrap()).unwrap();
                seen[usize::from(hex::decode(&share[0].share_hex).unwrap()[0])] += 1;
            }
            assert!(seen.iter().all(|&n| n == 1), "secret {s}");
        }
    }

    #[test]
    fn bad_shares_are_refused() {
        assert!(matches!(
            split(b"k", 1, 3, || 0),
            Err(CoreError::ShamirParameters { .. })
        ));
        assert!(matches!(
            split(b"k", 4, 3, || 0),
            Err(CoreError::ShamirParameters { .. })
        ));
        let shares = split(b"key", 2, 3, || 9).unwrap();
        let mut twice = vec![shares[0].clone(), shares[0].clone()];
        assert!(combine(&twice).is_err());
        twice[1].share_index = 9;
        assert!(combine(&twice).is_err());
        let mut other = shares[1].clone();
        other.total = 4;
        assert!(combine(&[shares[0].clone(), other]).is_err());
        let mut short = shares[1].clone();
        short.share_hex.truncate(2);
        assert!(combine(&[shares[0].clone(), short]).is_err());
        assert!(combine(&[]).is_err());
    }
}
