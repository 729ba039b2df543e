//! The VAT paper's synthetic benchmark (ALGORITHMS.md §7): two moons and two circles, 16 labelled
//! training points (8 per class) and 1000 test points (500 per class), embedded in 100-D by a
//! random orthonormal 2×100 basis. The original pickles (`syndata_1`, `syndata_2` of
//! takerum/vat) carry no licence, so the sets are regenerated from a seed with the geometry
//! measured from those files (2-D coordinates after projecting back onto their basis):
//!
//! * **moons**: two arcs of radius [`MOONS_RADIUS`] = 1.0, each about 270° long, with radial
//!   Gaussian noise of standard deviation [`MOONS_NOISE`] = 0.10. Class 0 is centred at
//!   (−0.5, +0.25) and covers the angles 90°…360° (empty between 0° and 90°); class 1 is centred
//!   at (+0.5, −0.25) and covers −90°…180° (empty between −180° and −90°). Each arc's open end
//!   reaches into the other's empty sector, so the two hook into each other.
//! * **circles**: class 0 is the ring of radius [`CIRCLES_INNER`] = 0.25, class 1 the ring of
//!   radius [`CIRCLES_OUTER`] = 1.0, both with radial noise of standard deviation
//!   [`CIRCLES_NOISE`] = 0.05, angle `~ U[0, 2π)`. The closest points of opposite classes are
//!   about 0.5 apart, so the authors' ε = 0.5 stays within a class.
//! * **angles** are uniform over each arc; a point is `centre + r (cos t, sin t)` with
//!   `r ~ N(radius, noise²)`.
//! * **embedding**: two Gaussian vectors in ℝ¹⁰⁰, orthonormalised by Gram–Schmidt (in f64),
//!   map a 2-D point `p` to `p₀ b₀ + p₁ b₁` (`moons2d` / `circles2d` are the same points
//!   before the embedding).
//!
//! Every part (basis, training set, test set, optional unlabelled pool) has its own generator
//! derived from the seed, so changing the pool size does not change the other parts. The
//! authors' synthetic runs have no unlabelled pool (VAT's term is computed on the 16 training
//! points), so [`DEFAULT_POOL`] is 0.

use super::Dataset;
use vatic::Rng;

/// Dimension of the embedding space.
pub const DIM: usize = 100;
/// Labelled training points per class.
pub const TRAIN_PER_CLASS: usize = 8;
/// Test points per class.
pub const TEST_PER_CLASS: usize = 500;
/// Default number of extra unlabelled training points (half per class): none, as in the
/// authors' synthetic runs.
pub const DEFAULT_POOL: usize = 0;
/// Radius of both moons.
pub const MOONS_RADIUS: f32 = 1.0;
/// Centres of the two moons (class 0, class 1).
pub const MOONS_CENTRES: [[f32; 2]; 2] = [[-0.5, 0.25], [0.5, -0.25]];
/// Angular range `[start, start + 270°]` of each moon, in degrees (class 0, class 1).
pub const MOONS_ARCS_DEG: [[f32; 2]; 2] = [[90.0, 360.0], [-90.0, 180.0]];
/// Radial noise standard deviation of the moons.
pub const MOONS_NOISE: f32 = 0.1;
/// Radius of the circles' class 0 (inner ring).
pub const CIRCLES_INNER: f32 = 0.25;
/// Radius of the circles' class 1 (outer ring).
pub const CIRCLES_OUTER: f32 = 1.0;
/// Radial noise standard deviation of the circles.
pub const CIRCLES_NOISE: f32 = 0.05;

/// Which synthetic set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Two interlocking 270° arcs.
    Moons,
    /// Two concentric rings (class 0 inside).
    Circles,
}

impl Kind {
    /// The VAT authors' ε of VAT for this set (moons 0.6, circles 0.5; their
    /// `vis_model_contours.sh`).
    pub fn paper_eps(self) -> f32 {
        match self {
            Kind::Moons => 0.6,
            Kind::Circles => 0.5,
        }
    }

    /// The authors' ε of random-perturbation training (VAT with `K = 0`): moons 1.8,
    /// circles 2.8.
    pub fn random_eps(self) -> f32 {
        match self {
            Kind::Moons => 1.8,
            Kind::Circles => 2.8,
        }
    }

    /// The authors' ε of adversarial training (L2 fast gradient): moons 0.2, circles 0.65.
    pub fn at_eps(self) -> f32 {
        match self {
            Kind::Moons => 0.2,
            Kind::Circles => 0.65,
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

/// `per_class` points of each class, interleaved (0, 1, 0, 1, …): per point one uniform draw
/// for the angle, then one normal draw for the radius.
fn points(kind: Kind, per_class: usize, rng: &mut Rng) -> Dataset {
    let mut x = Vec::with_capacity(per_class * 4);
    let mut y = Vec::with_capacity(per_class * 2);
    for _ in 0..per_class {
        for class in 0..2 {
            let (centre, t, r) = match kind {
                Kind::Moons => {
                    let [from, to] = MOONS_ARCS_DEG[class];
                    let t = (from + (to - from) * rng.uniform()).to_radians();
                    (
                        MOONS_CENTRES[class],
                        t,
                        MOONS_RADIUS + MOONS_NOISE * rng.normal(),
                    )
                }
                Kind::Circles => {
                    let t = core::f32::consts::TAU * rng.uniform();
                    let radius = if class == 0 {
                        CIRCLES_INNER
                    } else {
                        CIRCLES_OUTER
                    };
                    ([0.0, 0.0], t, radius + CIRCLES_NOISE * rng.normal())
                }
            };
            let (s, c) = t.sin_cos();
            x.extend_from_slice(&[centre[0] + r * c, centre[1] + r * s]);
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

    /// Per class: mean and standard deviation of the distance to `centre`, and the angles
    /// (degrees in (−180°, 180°]) around it.
    fn polar(d: &Dataset, class: usize, centre: [f32; 2]) -> (f32, f32, Vec<f32>) {
        let pts: Vec<(f32, f32)> = (0..d.len())
            .filter(|&i| d.y[i] == class)
            .map(|i| (d.row(i)[0] - centre[0], d.row(i)[1] - centre[1]))
            .collect();
        let r: Vec<f32> = pts.iter().map(|(a, b)| a.hypot(*b)).collect();
        let n = r.len() as f32;
        let mean = r.iter().sum::<f32>() / n;
        let sd = (r.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / n).sqrt();
        let angles = pts.iter().map(|(a, b)| b.atan2(*a).to_degrees()).collect();
        (mean, sd, angles)
    }

    #[test]
    fn moons_are_the_authors_270_degree_arcs() {
        for seed in [1, 2] {
            let s = Synthetic::generate(Kind::Moons, seed, 0);
            let d = &s.test_2d;
            let (r0, sd0, a0) = polar(d, 0, [-0.5, 0.25]);
            let (r1, sd1, a1) = polar(d, 1, [0.5, -0.25]);
            for (r, sd) in [(r0, sd0), (r1, sd1)] {
                assert!((r - 1.0).abs() < 0.02, "radius {r}");
                assert!((sd - 0.1).abs() < 0.015, "radial sd {sd}");
            }
            // Class 0 leaves 0°…90° empty, class 1 −180°…−90°; both fill the rest.
            assert!(
                a0.iter().all(|&t| !(0.5..89.5).contains(&t)),
                "class 0 in its gap"
            );
            assert!(
                a1.iter().all(|&t| !(-179.5..-90.5).contains(&t)),
                "class 1 in its gap"
            );
            for (angles, lo) in [(&a0, 90.0f32), (&a1, -90.0)] {
                // Every 30° sector of the arc holds about a ninth of the class.
                for k in 0..9 {
                    let (from, to) = (lo + 30.0 * k as f32, lo + 30.0 * (k + 1) as f32);
                    let n = angles
                        .iter()
                        .map(|&t| if t < lo - 0.5 { t + 360.0 } else { t })
                        .filter(|&t| t >= from && t < to)
                        .count();
                    assert!((35..=80).contains(&n), "sector {from}..{to}: {n}");
                }
            }
        }
    }

    #[test]
    fn circles_are_rings_of_radius_a_quarter_and_one() {
        let s = Synthetic::generate(Kind::Circles, 1, 0);
        let d = &s.test_2d;
        let (r0, sd0, _) = polar(d, 0, [0.0, 0.0]);
        let (r1, sd1, _) = polar(d, 1, [0.0, 0.0]);
        assert!((r0 - 0.25).abs() < 0.01, "class 0 (inner) radius {r0}");
        assert!((r1 - 1.0).abs() < 0.01, "class 1 (outer) radius {r1}");
        for sd in [sd0, sd1] {
            assert!((sd - 0.05).abs() < 0.008, "radial sd {sd}");
        }
        // The closest opposite-class points are about 0.5 apart (0.75 between the rings, less
        // three or so noise deviations on each side), so ε = 0.5 stays inside a class.
        let rows = |c: usize| -> Vec<&[f32]> {
            (0..d.len())
                .filter(|&i| d.y[i] == c)
                .map(|i| d.row(i))
                .collect()
        };
        let (inner, outer) = (rows(0), rows(1));
        let nearest = inner
            .iter()
            .flat_map(|a| outer.iter().map(move |b| (a[0] - b[0]).hypot(a[1] - b[1])))
            .fold(f32::MAX, f32::min);
        assert!(
            (0.4..0.65).contains(&nearest),
            "nearest opposite pair {nearest}"
        );
    }

    #[test]
    fn the_2d_and_100d_sets_are_the_same_points() {
        for kind in [Kind::Moons, Kind::Circles] {
            let s = Synthetic::generate(kind, 5, 20);
            for (flat, plane) in [(&s.train, &s.train_2d), (&s.test, &s.test_2d)] {
                assert_eq!(flat.y, plane.y);
                for i in 0..plane.len() {
                    let p = plane.row(i);
                    assert_eq!(flat.row(i), &s.embed([p[0], p[1]])[..]);
                }
            }
        }
    }
}
