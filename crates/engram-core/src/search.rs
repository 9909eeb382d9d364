//! How a query ranks memories: by meaning, by words, or both.
//!
//! Dense search finds paraphrases but misses the rare word (a product code, a name, an
//! error message) that a keyword search finds at once; fusing the two rankings beats
//! either (docs/benchmarks.md, "hybrid search"). The mode is part of the wire protocol —
//! absent means dense, so the original network's clients see no change — and the fusion
//! weight is a limit every node enforces the same way.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::CoreError;

/// What a query ranks by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SearchMode {
    /// Cosine similarity of embeddings (the original protocol's only mode).
    #[default]
    Dense,
    /// BM25 over the stored texts; records without text are never found.
    Keyword,
    /// Both rankings fused by reciprocal rank fusion; scores are fusion scores, not cosines.
    Hybrid,
}

impl SearchMode {
    /// Every mode.
    pub const ALL: [SearchMode; 3] = [SearchMode::Dense, SearchMode::Keyword, SearchMode::Hybrid];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Dense => "dense",
            Self::Keyword => "keyword",
            Self::Hybrid => "hybrid",
        }
    }

    /// Whether this mode needs the query's text (a vector alone cannot be matched by words).
    pub fn needs_text(self) -> bool {
        self != Self::Dense
    }
}

impl fmt::Display for SearchMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SearchMode {
    type Err = CoreError;

    fn from_str(s: &str) -> Result<Self, CoreError> {
        Self::ALL
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| CoreError::UnknownSearchMode(s.to_string()))
    }
}

/// The keyword ranking's weight in a hybrid query when none is given: the two rankings count
/// the same.
pub const DEFAULT_KEYWORD_WEIGHT: f64 = 1.0;
/// Largest keyword weight a hybrid query may ask for (its inverse is the smallest): beyond
/// a hundred to one, one ranking alone decides and the other mode is the honest request.
pub const MAX_KEYWORD_WEIGHT: f64 = 100.0;

/// A hybrid query's keyword weight (the dense ranking weighs 1), if it lies within
/// 1/[`MAX_KEYWORD_WEIGHT`]–[`MAX_KEYWORD_WEIGHT`].
///
/// # Errors
/// [`CoreError::KeywordWeight`] otherwise (NaN and infinities included).
pub fn validate_keyword_weight(weight: f64) -> Result<f32, CoreError> {
    // Checked as the f32 the fusion uses, so a weight that passed once passes again.
    let w = weight as f32;
    if ((1.0 / MAX_KEYWORD_WEIGHT) as f32..=MAX_KEYWORD_WEIGHT as f32).contains(&w) {
        Ok(w)
    } else {
        Err(CoreError::KeywordWeight {
            min: 1.0 / MAX_KEYWORD_WEIGHT,
            max: MAX_KEYWORD_WEIGHT,
            got: weight,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_round_trip_on_the_wire_and_by_name() {
        for mode in SearchMode::ALL {
            let json = serde_json::to_string(&mode).unwrap();
            assert_eq!(json, format!("\"{mode}\""));
            assert_eq!(serde_json::from_str::<SearchMode>(&json).unwrap(), mode);
            assert_eq!(mode.as_str().parse::<SearchMode>().unwrap(), mode);
        }
        assert_eq!(SearchMode::default(), SearchMode::Dense);
        assert!(!SearchMode::Dense.needs_text());
        assert!(SearchMode::Keyword.needs_text() && SearchMode::Hybrid.needs_text());
        let err = "bm25".parse::<SearchMode>().unwrap_err().to_string();
        assert!(err.contains("dense, keyword or hybrid"), "{err}");
        assert!(serde_json::from_str::<SearchMode>("\"Dense\"").is_err());
    }

    #[test]
    fn keyword_weight_boundaries() {
        let cases = [
            (f64::NAN, false),
            (f64::NEG_INFINITY, false),
            (-1.0, false),
            (0.0, false),
            (0.009_999, false),
            (0.01, true),
            (1.0, true),
            (100.0, true),
            (100.000_01, false),
            (f64::INFINITY, false),
        ];
        for (w, ok) in cases {
            assert_eq!(validate_keyword_weight(w).is_ok(), ok, "weight {w}");
        }
        let err = validate_keyword_weight(0.0).unwrap_err().to_string();
        assert!(err.contains("between 0.01 and 100"), "{err}");
    }
}
