//! The VAT paper's synthetic benchmark (ALGORITHMS.md §7): two moons and two circles, 16 labelled
//! training points (8 per class) and 1000 test points (500 per class), embedded in 100-D by a
//! random orthonormal 2×100 basis. Regenerated from a seed with our own recipe (the original
//! pickles carry no licence):
//!
//! * **moons** (as scikit-learn's `make_moons`, but with random rather than evenly spaced angles):
//!   class 0 is `(cos t, sin t)`, class 1 is `(1 − cos t, 0.5 − sin t)`, `t ~ U[0, π)`, plus
//!   Gaussian noise of standard deviation [`MOONS_NOISE`];
//! * **circles** (as `make_circles(factor = 0.5)`): class 0 on the unit circle, class 1 on the
//!   circle of radius 0.5, angle `~ U[0, 2π)`, plus noise [`CIRCLES_NOISE`];
//! * **embedding**: two Gaussian vectors in ℝ¹⁰⁰, orthonormalised by Gram–Schmidt (in f64),
//!   map a 2-D point `p` to `p₀ b₀ + p₁ b₁`.
//!
//! Every part (basis, training set, test set, unlabelled pool) has its own generator derived from
//! the seed, so changing the pool size does not change the test set.

use super::Dataset;
use vatic::Rng;

/// Dimension of the embedding space.
pub const DIM: usize = 100;
/// Labelled training points per class.
pub const TRAIN_PER_CLASS: usize = 8;
/// Test points per class.
pub const TEST_PER_CLASS: usize = 500;
/// Default number of extra unlabelled training points (half per class).
pub const DEFAULT_POOL: usize = 1000;
/// Noise standard deviation of the moons.
pub const MOONS_NOISE: f32 = 0.1;
/// Noise standard deviation of the circles.
pub const CIRCLES_NOISE: f32 = 0.05;

/// Which synthetic set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Two interleaving half circles.
    Moons,
    /// Two concentric circles.
    Circles,
}

impl Kind {
    /// The VAT paper's ε for this set (moons 0.6, circles 0.4).
    pub fn paper_eps(self) -> f32 {
        match self {
            Kind::Moons => 0.6,
            Kind::Circles => 0.4,
        }
    }

    /// `"moons"` or `"circles"`.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Moons => "moons",
            Kind::Circles => "circles",
        }
    }
}

/// One generated synthetic benchmark in both its 2-D and its 100-D form.
#[derive(Debug, Clone)]
pub struct Synthetic {
    /// Which set.
    pub kind: Kind,
    /// The orthonormal basis `b₀, b₁` of the embedding plane.
    pub basis: [[f32; DIM]; 2],
    /// 16 labelled training points, 2-D.
    pub train_2d: Dataset,
    /// 1000 test points, 2-D.
    pub test_2d: Dataset,
    /// Unlabelled pool, 2-D (labels kept for reporting only).
    pub pool_2d: Dataset,
    /// `train_2d` embedded in 100-D.
    pub train: Dataset,
    /// `test_2d` embedded in 100-D.
    pub test: Dataset,
    /// `pool_2d` embedded in 100-D.
    pub pool: Dataset,
}

impl Synthetic {
    /// Generates the set from `seed`, with `pool` extra unlabelled points.
    pub fn generate(kind: Kind, seed: u64, pool: usize) -> Self {
        let stream = |k: u64| Rng::new(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15).wrapping_add(k));
        let basis = orthonormal_basis(&mut stream(1));
        let train_2d = points(kind, TRAIN_PER_CLASS, &mut stream(2));
        let test_2d = points(kind, TEST_PER_CLASS, &mut stream(3));
        let pool_2d = points(kind, pool / 2, &mut stream(4));
        let embed_all = |d: &Dataset| embed_dataset(&basis, d);
        Self {
            kind,
            basis,
            train: embed_all(&train_2d),
            test: embed_all(&test_2d),
            pool: embed_all(&pool_2d),
            train_2d,
            test_2d,
            pool_2d,
        }
    }

    /// `p₀ b₀ + p₁ b₁`.
    pub fn embed(&self, p: [f32; 2]) -> [f32; DIM] {
        embed(&self.basis, p)
    }
}

/// `p₀ b₀ + p₁ b₁`.
pub fn embed(basis: &[[f32; DIM]; 2], p: [f32; 2]) -> [f32; DIM] {
    core::array::from_fn(|i| p[0] * basis[0][i] + p[1] * basis[1][i])
}

fn embed_dataset(basis: &[[f32; DIM]; 2], d: &Dataset) -> Dataset {
    let x =
        d.x.chunks_exact(2)
            .flat_map(|p| embed(basis, [p[0], p[1]]))
            .collect();
    Dataset {
        features: DIM,
        classes: 2,
        x,
        y: d.y.clone(),
    }
}

/// Two orthonormal vectors of ℝ¹⁰⁰: Gaussian draws, Gram–Schmidt in f64.
pub fn orthonormal_basis(rng: &mut Rng) -> [[f32; DIM]; 2] {
    let mut a = [0f64; DIM];
    let mut b = [0f64; DIM];
    for v in &mut a {
        *v = f64::from(rng.normal());
    }
    for v in &mut b {
        *v = f64::from(rng.normal());
    }
    let norm = |v: &[f64; DIM]| v.iter().map(|x| x * x).sum::<f64>().sqrt();
    let na = norm(&a);
    a.iter_mut().for_each(|v| *v /= na);
    let proj: f64 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
    b.iter_mut().zip(&a).for_each(|(v, x)| *v -= proj * x);
    let nb = norm(&b);
    b.iter_mut().for_each(|v| *v /= nb);
    [a.map(|v| v as f32), b.map(|v| v as f32)]
}

/// `per_class` points of each class, interleaved (0, 1, 0, 1, …).
fn points(kind: Kind, per_class: usize, rng: &mut Rng) -> Dataset {
    let mut x = Vec::with_capacity(per_class * 4);
    let mut y = Vec::with_capacity(per_class * 2);
    for _ in 0..per_class {
        for class in 0..2 {
            let p = match kind {
                Kind::Moons => {
                    let t = core::f32::consts::PI * rng.uniform();
                    let (s, c) = t.sin_cos();
                    let p = if class == 0 {
                        [c, s]
                    } else {
                        [1.0 - c, 0.5 - s]
                    };
                    [
                        p[0] + MOONS_NOISE * rng.normal(),
                        p[1] + MOONS_NOISE * rng.normal(),
                    ]
                }
                Kind::Circles => {
                    let t = core::f32::consts::TAU * rng.uniform();
                    let r = if class == 0 { 1.0 } else { 0.5 };
                    let (s, c) = t.sin_cos();
                    [
                        r * c + CIRCLES_NOISE * rng.normal(),
                        r * s + CIRCLES_NOISE * rng.normal(),
                    ]
                }
            };
            x.extend_from_slice(&p);
            y.push(class);
        }
    }
    Dataset {
        features: 2,
        classes: 2,
        x,
        y,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_balance() {
        for kind in [Kind::Moons, Kind::Circles] {
            let s = Synthetic::generate(kind, 1, 100);
            assert_eq!(s.train.len(), 16);
            assert_eq!(s.train.class_counts(), vec![8, 8]);
            assert_eq!(s.test.class_counts(), vec![500, 500]);
            assert_eq!(s.pool.len(), 100);
            assert_eq!(s.train.features, DIM);
            assert_eq!(s.train_2d.features, 2);
            assert!(s.test.x.iter().all(|v| v.is_finite()));
        }
    }

    #[test]
    fn basis_is_orthonormal_and_embedding_is_an_isometry() {
        let s = Synthetic::generate(Kind::Moons, 7, 0);
        let dot = |a: &[f32], b: &[f32]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f32>();
        assert!((dot(&s.basis[0], &s.basis[0]) - 1.0).abs() < 1e-5);
        assert!((dot(&s.basis[1], &s.basis[1]) - 1.0).abs() < 1e-5);
        assert!(dot(&s.basis[0], &s.basis[1]).abs() < 1e-5);
        // Projecting back onto the basis recovers the 2-D points.
        for i in 0..s.train.len() {
            let e = s.train.row(i);
            let p = s.train_2d.row(i);
            assert!((dot(e, &s.basis[0]) - p[0]).abs() < 1e-5);
            assert!((dot(e, &s.basis[1]) - p[1]).abs() < 1e-5);
        }
    }

    #[test]
    fn seeded_and_parts_independent() {
        let a = Synthetic::generate(Kind::Circles, 3, 10);
        let b = Synthetic::generate(Kind::Circles, 3, 500);
        assert_eq!(a.test, b.test);
        assert_eq!(a.train, b.train);
        let c = Synthetic::generate(Kind::Circles, 4, 10);
        assert_ne!(a.test, c.test);
    }

    #[test]
    fn moons_look_like_moons() {
        let s = Synthetic::generate(Kind::Moons, 1, 0);
        // Class 0 sits above class 1 on average (outer moon on top).
        let mean_y = |c: usize| {
            let rows: Vec<_> = (0..s.test_2d.len())
                .filter(|&i| s.test_2d.y[i] == c)
                .map(|i| s.test_2d.row(i)[1])
                .collect();
            rows.iter().sum::<f32>() / rows.len() as f32
        };
        assert!(mean_y(0) > 0.5 && mean_y(1) < 0.0);
    }
}
