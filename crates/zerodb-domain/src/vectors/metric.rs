//! Similarity metrics and the exact scores every search reports.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// How a namespace compares vectors. Every score is "higher is more similar".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Metric {
    /// Cosine similarity in [-1, 1].
    #[default]
    Cosine,
    /// Inner product.
    Dot,
    /// `1 / (1 + euclidean distance)`, in (0, 1].
    Euclidean,
}

/// What the in-process index keeps in memory per vector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Quantization {
    /// float32, 4 bytes per dimension.
    #[default]
    None,
    /// Scalar int8, 1 byte per dimension; results are rescored from full precision.
    Int8,
}

impl Metric {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Cosine => "cosine",
            Self::Dot => "dot",
            Self::Euclidean => "euclidean",
        }
    }

    /// The exact score of `a` against `b` (same length).
    pub fn score(self, a: &[f32], b: &[f32]) -> f32 {
        match self {
            Self::Cosine => {
                let (dot, na, nb) = (
                    lanes(a, b, |x, y| x * y),
                    lanes(a, a, |x, y| x * y),
                    lanes(b, b, |x, y| x * y),
                );
                let norm = (na * nb).sqrt();
                if norm > 0.0 { dot / norm } else { 0.0 }
            }
            Self::Dot => lanes(a, b, |x, y| x * y),
            Self::Euclidean => {
                let d2 = lanes(a, b, |x, y| (x - y) * (x - y));
                1.0 / (1.0 + d2.sqrt())
            }
        }
    }
}

/// Sums `f(a[i], b[i])` in eight independent lanes. A plain `sum()` is one sequential chain
/// of float additions that the compiler may not reorder, so it never vectorises; eight lanes
/// let it use SIMD registers without a hand-written kernel.
fn lanes(a: &[f32], b: &[f32], f: impl Fn(f32, f32) -> f32) -> f32 {
    const LANES: usize = 8;
    let mut acc = [0f32; LANES];
    let (ca, cb) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for i in 0..LANES {
            acc[i] += f(x[i], y[i]);
        }
    }
    let tail: f32 = ra.iter().zip(rb).map(|(x, y)| f(*x, *y)).sum();
    acc.iter().sum::<f32>() + tail
}

impl Quantization {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Int8 => "int8",
        }
    }
}

impl fmt::Display for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for Quantization {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Metric {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "cosine" => Ok(Self::Cosine),
            "dot" => Ok(Self::Dot),
            "euclidean" => Ok(Self::Euclidean),
            other => Err(format!("unknown metric '{other}'")),
        }
    }
}

impl FromStr for Quantization {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "none" => Ok(Self::None),
            "int8" => Ok(Self::Int8),
            other => Err(format!("unknown quantization '{other}'")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_are_higher_for_closer_vectors() {
        let q = [1.0, 0.0];
        for m in [Metric::Cosine, Metric::Dot, Metric::Euclidean] {
            assert!(m.score(&q, &[0.9, 0.1]) > m.score(&q, &[0.1, 0.9]), "{m}");
        }
        assert!((Metric::Cosine.score(&q, &[2.0, 0.0]) - 1.0).abs() < 1e-6);
        assert!((Metric::Euclidean.score(&q, &[1.0, 0.0]) - 1.0).abs() < 1e-6);
        assert_eq!(Metric::Cosine.score(&q, &[0.0, 0.0]), 0.0);
    }
}
