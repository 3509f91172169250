//! Distances for exact scans, in the index's own (possibly quantized) space, smaller is
//! nearer. The kernels are NumKong's (already built for usearch): SIMD chosen at run time
//! for the CPU, where a portable loop would use only the baseline x86-64 instructions.

use numkong::{Dot, Euclidean};
use zerodb_domain::vectors::Metric;

/// Cosine vectors are normalised on the way in, so the inner product orders them.
pub(crate) fn distance_f32(metric: Metric, a: &[f32], b: &[f32]) -> f32 {
    match metric {
        Metric::Cosine | Metric::Dot => -f32::dot(a, b).map_or(f32::NAN, |d| d as f32),
        Metric::Euclidean => f32::sqeuclidean(a, b).map_or(f32::NAN, |d| d as f32),
    }
}

pub(crate) fn distance_i8(metric: Metric, a: &[i8], b: &[i8]) -> f32 {
    match metric {
        Metric::Cosine | Metric::Dot => -(i8::dot(a, b).unwrap_or(i32::MIN) as f32),
        Metric::Euclidean => i8::sqeuclidean(a, b).map_or(f32::MAX, |d| d as f32),
    }
}
