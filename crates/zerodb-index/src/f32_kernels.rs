//! f32 inner product and squared Euclidean distance, SIMD chosen once at run time.
//!
//! Written by hand because no library at hand computes them in f32 lanes: NumKong (the
//! kernels usearch ships) widens every f32 element to f64 and adds into one dependent FMA
//! chain, for accuracy that an HNSW walk never needs (it only orders candidates, and the
//! hits are rescored from the originals anyway). perf put that kernel at 58 % of the
//! server's CPU during searches. These keep four independent f32 accumulators, as Qdrant's
//! kernels do, so the loads and FMAs overlap.
//!
//! The unsafe here is of two kinds, each checked where it stands: calling a function
//! compiled for a CPU feature only after detecting that feature, and loading SIMD lanes
//! from slices only within their bounds.
#![allow(unsafe_code)]

use std::sync::LazyLock;
use zerodb_domain::vectors::Metric;

type Kernel = fn(&[f32], &[f32]) -> f32;

struct Kernels {
    name: &'static str,
    dot: Kernel,
    l2sq: Kernel,
}

static KERNELS: LazyLock<Kernels> = LazyLock::new(detect);

/// The inner product of the common prefix of `a` and `b`.
pub(crate) fn dot(a: &[f32], b: &[f32]) -> f32 {
    (KERNELS.dot)(a, b)
}

/// The squared Euclidean distance over the common prefix of `a` and `b`.
pub(crate) fn l2sq(a: &[f32], b: &[f32]) -> f32 {
    (KERNELS.l2sq)(a, b)
}

/// Which kernels run on this CPU: "avx512", "avx2+fma" or "portable".
pub fn flavour() -> &'static str {
    KERNELS.name
}

/// A usearch distance over `dimension` floats with these kernels, as usearch's own metric
/// of the same kind would answer it: `1 - a·b` for the inner product, `|a - b|²` for L2.
pub(crate) type UsearchMetric = Box<dyn Fn(*const f32, *const f32) -> f32 + Send + Sync>;

pub(crate) fn usearch_metric(metric: Metric, dimension: usize) -> UsearchMetric {
    // SAFETY: usearch calls the metric with two vectors of the index's dimension, which is
    // `dimension`: the index was created with it and this metric is installed on it alone.
    let vectors = move |a: *const f32, b: *const f32| unsafe {
        (std::slice::from_raw_parts(a, dimension), std::slice::from_raw_parts(b, dimension))
    };
    match metric {
        Metric::Cosine | Metric::Dot => Box::new(move |a, b| {
            let (a, b) = vectors(a, b);
            1.0 - dot(a, b)
        }),
        Metric::Euclidean => Box::new(move |a, b| {
            let (a, b) = vectors(a, b);
            l2sq(a, b)
        }),
    }
}

// Each kernel below is one function for both distances: `L2` (a const parameter, so
// either branch is compiled away) picks `(x - y)²` over `x · y` as the term summed.
const DOT: bool = false;
const L2: bool = true;

fn detect() -> Kernels {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            return Kernels {
                name: "avx512",
                dot: x86::avx512_checked::<DOT>,
                l2sq: x86::avx512_checked::<L2>,
            };
        }
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            return Kernels {
                name: "avx2+fma",
                dot: x86::avx2_checked::<DOT>,
                l2sq: x86::avx2_checked::<L2>,
            };
        }
    }
    Kernels { name: "portable", dot: portable::<DOT>, l2sq: portable::<L2> }
}

/// Eight independent sums the compiler keeps in vector registers.
fn portable<const L2: bool>(a: &[f32], b: &[f32]) -> f32 {
    const LANES: usize = 8;
    let term = |x: f32, y: f32| if L2 { (x - y) * (x - y) } else { x * y };
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut sums = [0f32; LANES];
    let (ca, cb) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let tail: f32 = ca.remainder().iter().zip(cb.remainder()).map(|(x, y)| term(*x, *y)).sum();
    for (x, y) in ca.zip(cb) {
        for i in 0..LANES {
            sums[i] += term(x[i], y[i]);
        }
    }
    sums.iter().sum::<f32>() + tail
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    // The `_checked` wrappers are installed only by `detect` after it saw the feature.
    pub(super) fn avx512_checked<const L2: bool>(a: &[f32], b: &[f32]) -> f32 {
        // SAFETY: `detect` installs this only when the CPU reports avx512f.
        unsafe { avx512::<L2>(a, b) }
    }
    pub(super) fn avx2_checked<const L2: bool>(a: &[f32], b: &[f32]) -> f32 {
        // SAFETY: `detect` installs this only when the CPU reports avx2 and fma.
        unsafe { avx2::<L2>(a, b) }
    }

    /// `sum + x·y`, or `sum + (x - y)²`.
    #[target_feature(enable = "avx512f")]
    fn add512<const L2: bool>(x: __m512, y: __m512, sum: __m512) -> __m512 {
        if L2 {
            let d = _mm512_sub_ps(x, y);
            _mm512_fmadd_ps(d, d, sum)
        } else {
            _mm512_fmadd_ps(x, y, sum)
        }
    }

    /// 64 floats per step in four accumulators, then 16 at a time, then a masked tail.
    #[target_feature(enable = "avx512f")]
    fn avx512<const L2: bool>(a: &[f32], b: &[f32]) -> f32 {
        let n = a.len().min(b.len());
        let (pa, pb) = (a.as_ptr(), b.as_ptr());
        let mut acc = [_mm512_setzero_ps(); 4];
        let mut i = 0;
        // SAFETY (every load below): `i + 16 <= n` or the mask covers only `i..n`, and
        // both slices hold at least `n` elements.
        while i + 64 <= n {
            for (j, sum) in acc.iter_mut().enumerate() {
                let (x, y) = unsafe {
                    (_mm512_loadu_ps(pa.add(i + 16 * j)), _mm512_loadu_ps(pb.add(i + 16 * j)))
                };
                *sum = add512::<L2>(x, y, *sum);
            }
            i += 64;
        }
        while i + 16 <= n {
            let (x, y) = unsafe { (_mm512_loadu_ps(pa.add(i)), _mm512_loadu_ps(pb.add(i))) };
            acc[0] = add512::<L2>(x, y, acc[0]);
            i += 16;
        }
        if i < n {
            let mask: __mmask16 = (1u16 << (n - i)) - 1;
            let (x, y) = unsafe {
                (_mm512_maskz_loadu_ps(mask, pa.add(i)), _mm512_maskz_loadu_ps(mask, pb.add(i)))
            };
            acc[1] = add512::<L2>(x, y, acc[1]);
        }
        let sum = _mm512_add_ps(_mm512_add_ps(acc[0], acc[1]), _mm512_add_ps(acc[2], acc[3]));
        _mm512_reduce_add_ps(sum)
    }

    /// `sum + x·y`, or `sum + (x - y)²`.
    #[target_feature(enable = "avx2,fma")]
    fn add256<const L2: bool>(x: __m256, y: __m256, sum: __m256) -> __m256 {
        if L2 {
            let d = _mm256_sub_ps(x, y);
            _mm256_fmadd_ps(d, d, sum)
        } else {
            _mm256_fmadd_ps(x, y, sum)
        }
    }

    /// 32 floats per step in four accumulators, then 8 at a time, then the portable tail.
    #[target_feature(enable = "avx2,fma")]
    fn avx2<const L2: bool>(a: &[f32], b: &[f32]) -> f32 {
        let n = a.len().min(b.len());
        let (pa, pb) = (a.as_ptr(), b.as_ptr());
        let mut acc = [_mm256_setzero_ps(); 4];
        let mut i = 0;
        // SAFETY (every load below): `i + 8 <= n`, and both slices hold at least `n`.
        while i + 32 <= n {
            for (j, sum) in acc.iter_mut().enumerate() {
                let (x, y) = unsafe {
                    (_mm256_loadu_ps(pa.add(i + 8 * j)), _mm256_loadu_ps(pb.add(i + 8 * j)))
                };
                *sum = add256::<L2>(x, y, *sum);
            }
            i += 32;
        }
        while i + 8 <= n {
            let (x, y) = unsafe { (_mm256_loadu_ps(pa.add(i)), _mm256_loadu_ps(pb.add(i))) };
            acc[0] = add256::<L2>(x, y, acc[0]);
            i += 8;
        }
        let sum = _mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3]));
        // The sum of the eight lanes.
        let quad = _mm_add_ps(_mm256_castps256_ps128(sum), _mm256_extractf128_ps::<1>(sum));
        let pair = _mm_add_ps(quad, _mm_movehl_ps(quad, quad));
        let one = _mm_add_ss(pair, _mm_shuffle_ps::<0b01>(pair, pair));
        _mm_cvtss_f32(one) + super::portable::<L2>(&a[i..n], &b[i..n])
    }

    #[cfg(test)]
    pub(super) fn available() -> Vec<(&'static str, super::Kernel, super::Kernel)> {
        let mut kernels: Vec<(&'static str, super::Kernel, super::Kernel)> = Vec::new();
        if std::arch::is_x86_feature_detected!("avx512f") {
            kernels.push((
                "avx512",
                avx512_checked::<{ super::DOT }>,
                avx512_checked::<{ super::L2 }>,
            ));
        }
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            kernels.push((
                "avx2+fma",
                avx2_checked::<{ super::DOT }>,
                avx2_checked::<{ super::L2 }>,
            ));
        }
        kernels
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference(a: &[f32], b: &[f32]) -> (f64, f64) {
        let dot = a.iter().zip(b).map(|(x, y)| f64::from(*x) * f64::from(*y)).sum();
        let l2 = a.iter().zip(b).map(|(x, y)| (f64::from(*x) - f64::from(*y)).powi(2)).sum();
        (dot, l2)
    }

    fn vector(n: usize, seed: u32) -> Vec<f32> {
        (0..n)
            .map(|i| {
                (((i as u32).wrapping_mul(2_654_435_761) ^ seed) % 2_000) as f32 / 1_000.0 - 1.0
            })
            .collect()
    }

    #[test]
    fn every_kernel_agrees_with_a_wide_reference_at_every_length() {
        let mut kernels: Vec<(&str, Kernel, Kernel)> =
            vec![("portable", portable::<DOT>, portable::<L2>)];
        #[cfg(target_arch = "x86_64")]
        kernels.extend(x86::available());
        for n in (0..=80).chain([127, 128, 129, 383, 384, 385, 1536]) {
            let (a, b) = (vector(n, 7), vector(n, 99));
            let (dot_ref, l2_ref) = reference(&a, &b);
            let tolerance = 1e-4 * (n as f64 + 1.0);
            for (name, dot, l2sq) in &kernels {
                let d = f64::from(dot(&a, &b));
                let l = f64::from(l2sq(&a, &b));
                assert!((d - dot_ref).abs() <= tolerance, "{name} dot at {n}: {d} vs {dot_ref}");
                assert!((l - l2_ref).abs() <= tolerance, "{name} l2sq at {n}: {l} vs {l2_ref}");
            }
        }
    }

    #[test]
    fn unequal_lengths_use_the_common_prefix() {
        let a = vector(40, 1);
        let b = vector(33, 2);
        let (dot_ref, l2_ref) = reference(&a[..33], &b);
        assert!((f64::from(dot(&a, &b)) - dot_ref).abs() < 1e-3);
        assert!((f64::from(l2sq(&a, &b)) - l2_ref).abs() < 1e-3);
        assert!(!flavour().is_empty());
    }
}
