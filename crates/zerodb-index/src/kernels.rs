//! Distances for exact scans, in the index's own (possibly quantized) space, smaller is
//! nearer. f32 uses our kernels (`f32_kernels`), int8 NumKong's (already built for
//! usearch): SIMD chosen at run time for the CPU, where a portable loop would use only the
//! baseline x86-64 instructions.

use crate::f32_kernels;
use numkong::{Dot, Euclidean};
use zerodb_domain::vectors::Metric;

/// Cosine vectors are normalised on the way in, so the inner product orders them.
pub(crate) fn distance_f32(metric: Metric, a: &[f32], b: &[f32]) -> f32 {
    match metric {
        Metric::Cosine | Metric::Dot => -f32_kernels::dot(a, b),
        Metric::Euclidean => f32_kernels::l2sq(a, b),
    }
}

pub(crate) fn distance_i8(metric: Metric, a: &[i8], b: &[i8]) -> f32 {
    match metric {
        Metric::Cosine | Metric::Dot => -(i8::dot(a, b).unwrap_or(i32::MIN) as f32),
        Metric::Euclidean => i8::sqeuclidean(a, b).map_or(f32::MAX, |d| d as f32),
    }
}
