//! The 2-D data sets: plain functions `(count, noise, seed) -> points`, as in TensorFlow
//! Playground, plus the classification problems of the course.
//!
//! Points live in the square [-6, 6]²; `noise` runs from 0 (clean) to 0.5 (very noisy).

use super::Point;
use rand::{RngExt, SeedableRng};
use rand_pcg::Pcg64Mcg;
use std::f32::consts::PI;

/// Half the side of the square the points are drawn in.
pub const DOMAIN: f32 = 6.0;

/// Every data set the playground offers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum DatasetKind {
    Circle,
    Xor,
    Gaussian,
    Spiral,
    /// The course's Problem 1: class 1 when f1 > f2.
    Problem1,
    /// The course's Problem 3: class 1 when f1 * f2 > 0 (no single layer can learn it).
    Problem3,
    RegressionPlane,
    RegressionGaussian,
}

impl DatasetKind {
    pub const ALL: [DatasetKind; 8] = [
        DatasetKind::Circle,
        DatasetKind::Xor,
        DatasetKind::Gaussian,
        DatasetKind::Spiral,
        DatasetKind::Problem1,
        DatasetKind::Problem3,
        DatasetKind::RegressionPlane,
        DatasetKind::RegressionGaussian,
    ];

    pub fn is_regression(self) -> bool {
        matches!(
            self,
            DatasetKind::RegressionPlane | DatasetKind::RegressionGaussian
        )
    }

    pub fn title(self) -> &'static str {
        match self {
            DatasetKind::Circle => "Circle",
            DatasetKind::Xor => "Exclusive or",
            DatasetKind::Gaussian => "Two Gaussians",
            DatasetKind::Spiral => "Spiral",
            DatasetKind::Problem1 => "Problem 1: f₁ > f₂",
            DatasetKind::Problem3 => "Problem 3: f₁·f₂ > 0",
            DatasetKind::RegressionPlane => "Plane (regression)",
            DatasetKind::RegressionGaussian => "Multi-Gaussian (regression)",
        }
    }

    /// The short name used in the URL.
    pub fn key(self) -> &'static str {
        match self {
            DatasetKind::Circle => "circle",
            DatasetKind::Xor => "xor",
            DatasetKind::Gaussian => "gauss",
            DatasetKind::Spiral => "spiral",
            DatasetKind::Problem1 => "problem1",
            DatasetKind::Problem3 => "problem3",
            DatasetKind::RegressionPlane => "reg-plane",
            DatasetKind::RegressionGaussian => "reg-gauss",
        }
    }

    pub fn from_key(key: &str) -> Option<DatasetKind> {
        DatasetKind::ALL.into_iter().find(|kind| kind.key() == key)
    }
}

/// Generates `count` points of a data set, reproducibly from `seed`.
pub fn generate(kind: DatasetKind, count: usize, noise: f32, seed: u64) -> Vec<Point> {
    let mut rng = Pcg64Mcg::seed_from_u64(seed);
    let noise = noise.clamp(0.0, 0.5);
    match kind {
        DatasetKind::Circle => circle(&mut rng, count, noise),
        DatasetKind::Xor => xor(&mut rng, count, noise),
        DatasetKind::Gaussian => two_gaussians(&mut rng, count, noise),
        DatasetKind::Spiral => spiral(&mut rng, count, noise),
        DatasetKind::Problem1 => uniform_labelled(&mut rng, count, noise, |x, y| x > y),
        DatasetKind::Problem3 => uniform_labelled(&mut rng, count, noise, |x, y| x * y > 0.0),
        DatasetKind::RegressionPlane => regression_plane(&mut rng, count, noise),
        DatasetKind::RegressionGaussian => regression_gaussians(&mut rng, count, noise),
    }
}

/// Shuffles the points and splits them: the first `train_fraction` for training, the rest for
/// testing.
pub fn split_train_test(
    mut points: Vec<Point>,
    train_fraction: f32,
    seed: u64,
) -> (Vec<Point>, Vec<Point>) {
    let mut rng = Pcg64Mcg::seed_from_u64(seed ^ SPLIT_SEED_SALT);
    for i in (1..points.len()).rev() {
        let j = rng.random_range(0..=i);
        points.swap(i, j);
    }
    let train_count = ((points.len() as f32) * train_fraction.clamp(0.0, 1.0)).round() as usize;
    let test = points.split_off(train_count.min(points.len()));
    (points, test)
}

/// Keeps the split's shuffle independent of the generator's stream for the same seed.
const SPLIT_SEED_SALT: u64 = 0x9e37_79b9_7f4a_7c15;

fn class(positive: bool) -> f32 {
    if positive { 1.0 } else { 0.0 }
}

fn uniform(rng: &mut Pcg64Mcg, low: f32, high: f32) -> f32 {
    rng.random_range(low..high)
}

fn standard_normal(rng: &mut Pcg64Mcg) -> f32 {
    // Box-Muller; 1 - u keeps the logarithm finite.
    let u: f32 = 1.0 - rng.random::<f32>();
    let v: f32 = rng.random::<f32>();
    (-2.0 * u.ln()).sqrt() * (2.0 * PI * v).cos()
}

fn circle(rng: &mut Pcg64Mcg, count: usize, noise: f32) -> Vec<Point> {
    let radius = 5.0;
    let label_of = |x: f32, y: f32| class((x * x + y * y).sqrt() < radius * 0.5);
    let mut points = Vec::with_capacity(count);
    for i in 0..count {
        let (inner, outer) = (0.0..radius * 0.5, radius * 0.7..radius);
        let r = if i < count / 2 {
            rng.random_range(inner)
        } else {
            rng.random_range(outer)
        };
        let angle = uniform(rng, 0.0, 2.0 * PI);
        let (x, y) = (r * angle.sin(), r * angle.cos());
        let jitter_x = uniform(rng, -radius, radius) * noise;
        let jitter_y = uniform(rng, -radius, radius) * noise;
        points.push(Point::new(x, y, label_of(x + jitter_x, y + jitter_y)));
    }
    points
}

fn xor(rng: &mut Pcg64Mcg, count: usize, noise: f32) -> Vec<Point> {
    let padding = 0.3;
    let away_from_axis = |value: f32| value + if value > 0.0 { padding } else { -padding };
    (0..count)
        .map(|_| {
            let x = away_from_axis(uniform(rng, -5.0, 5.0));
            let y = away_from_axis(uniform(rng, -5.0, 5.0));
            let jitter_x = uniform(rng, -5.0, 5.0) * noise;
            let jitter_y = uniform(rng, -5.0, 5.0) * noise;
            Point::new(x, y, class((x + jitter_x) * (y + jitter_y) >= 0.0))
        })
        .collect()
}

fn two_gaussians(rng: &mut Pcg64Mcg, count: usize, noise: f32) -> Vec<Point> {
    let spread = 0.5 + noise * 7.0;
    (0..count)
        .map(|i| {
            let positive = i % 2 == 0;
            let centre = if positive { 2.0 } else { -2.0 };
            let x = centre + standard_normal(rng) * spread.sqrt();
            let y = centre + standard_normal(rng) * spread.sqrt();
            Point::new(x, y, class(positive))
        })
        .collect()
}

fn spiral(rng: &mut Pcg64Mcg, count: usize, noise: f32) -> Vec<Point> {
    let per_arm = count / 2;
    let mut points = Vec::with_capacity(count);
    for arm in 0..2 {
        let arm_count = if arm == 0 { per_arm } else { count - per_arm };
        let delta = if arm == 0 { 0.0 } else { PI };
        for i in 0..arm_count {
            let r = i as f32 / arm_count.max(1) as f32 * 5.0;
            let t = 1.75 * i as f32 / arm_count.max(1) as f32 * 2.0 * PI + delta;
            let x = r * t.sin() + uniform(rng, -1.0, 1.0) * noise;
            let y = r * t.cos() + uniform(rng, -1.0, 1.0) * noise;
            points.push(Point::new(x, y, class(arm == 0)));
        }
    }
    points
}

fn uniform_labelled(
    rng: &mut Pcg64Mcg,
    count: usize,
    noise: f32,
    rule: impl Fn(f32, f32) -> bool,
) -> Vec<Point> {
    (0..count)
        .map(|_| {
            let x = uniform(rng, -5.0, 5.0);
            let y = uniform(rng, -5.0, 5.0);
            let jitter_x = uniform(rng, -5.0, 5.0) * noise;
            let jitter_y = uniform(rng, -5.0, 5.0) * noise;
            Point::new(x, y, class(rule(x + jitter_x, y + jitter_y)))
        })
        .collect()
}

fn regression_plane(rng: &mut Pcg64Mcg, count: usize, noise: f32) -> Vec<Point> {
    (0..count)
        .map(|_| {
            let x = uniform(rng, -DOMAIN, DOMAIN);
            let y = uniform(rng, -DOMAIN, DOMAIN);
            let jitter_x = uniform(rng, -DOMAIN, DOMAIN) * noise;
            let jitter_y = uniform(rng, -DOMAIN, DOMAIN) * noise;
            let label = ((x + jitter_x) + (y + jitter_y)) / (2.0 * DOMAIN);
            Point::new(x, y, label.clamp(-1.0, 1.0))
        })
        .collect()
}

fn regression_gaussians(rng: &mut Pcg64Mcg, count: usize, noise: f32) -> Vec<Point> {
    // Six bumps of alternating sign; the label is the bump nearest the point, fading with distance.
    const CENTRES: [(f32, f32, f32); 6] = [
        (-4.0, 2.5, 1.0),
        (0.0, 2.5, -1.0),
        (4.0, 2.5, 1.0),
        (-4.0, -2.5, -1.0),
        (0.0, -2.5, 1.0),
        (4.0, -2.5, -1.0),
    ];
    let value_at = |x: f32, y: f32| {
        CENTRES
            .iter()
            .map(|&(cx, cy, sign)| {
                let distance = ((x - cx).powi(2) + (y - cy).powi(2)).sqrt();
                sign * (1.0 - distance / 2.0).max(0.0)
            })
            .fold(0.0_f32, |best, value| {
                if value.abs() > best.abs() {
                    value
                } else {
                    best
                }
            })
    };
    (0..count)
        .map(|_| {
            let x = uniform(rng, -DOMAIN, DOMAIN);
            let y = uniform(rng, -DOMAIN, DOMAIN);
            let jitter_x = uniform(rng, -DOMAIN, DOMAIN) * noise;
            let jitter_y = uniform(rng, -DOMAIN, DOMAIN) * noise;
            Point::new(x, y, value_at(x + jitter_x, y + jitter_y))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_gives_same_points_and_another_seed_does_not() {
        for kind in DatasetKind::ALL {
            assert_eq!(
                generate(kind, 50, 0.1, 7),
                generate(kind, 50, 0.1, 7),
                "{kind:?}"
            );
            assert_ne!(
                generate(kind, 50, 0.1, 7),
                generate(kind, 50, 0.1, 8),
                "{kind:?}"
            );
        }
    }

    #[test]
    fn every_data_set_has_the_requested_count_inside_the_domain() {
        for kind in DatasetKind::ALL {
            let points = generate(kind, 101, 0.5, 1);
            assert_eq!(points.len(), 101);
            for p in &points {
                assert!(
                    p.x.abs() <= DOMAIN + 1.0 && p.y.abs() <= DOMAIN + 1.0,
                    "{kind:?} {p:?}"
                );
                assert!(p.label.is_finite());
            }
        }
    }

    #[test]
    fn classification_sets_have_both_classes_in_balance() {
        for kind in DatasetKind::ALL.into_iter().filter(|k| !k.is_regression()) {
            let points = generate(kind, 400, 0.0, 3);
            let positives = points.iter().filter(|p| p.label == 1.0).count();
            assert!(
                (100..=300).contains(&positives),
                "{kind:?}: {positives} of 400"
            );
        }
    }

    #[test]
    fn clean_course_problems_follow_their_rules() {
        for p in generate(DatasetKind::Problem1, 200, 0.0, 5) {
            assert_eq!(p.label, class(p.x > p.y));
        }
        for p in generate(DatasetKind::Problem3, 200, 0.0, 5) {
            assert_eq!(p.label, class(p.x * p.y > 0.0));
        }
        for p in generate(DatasetKind::Xor, 200, 0.0, 5) {
            assert_eq!(p.label, class(p.x * p.y >= 0.0));
        }
    }

    #[test]
    fn split_keeps_every_point_once() {
        let points = generate(DatasetKind::Circle, 100, 0.0, 2);
        let (train, test) = split_train_test(points.clone(), 0.7, 2);
        assert_eq!((train.len(), test.len()), (70, 30));
        let mut all: Vec<_> = train.iter().chain(&test).map(|p| (p.x, p.y)).collect();
        let mut original: Vec<_> = points.iter().map(|p| (p.x, p.y)).collect();
        all.sort_by(|a, b| a.partial_cmp(b).unwrap());
        original.sort_by(|a, b| a.partial_cmp(b).unwrap());
        assert_eq!(all, original);
    }

    #[test]
    fn keys_round_trip() {
        for kind in DatasetKind::ALL {
            assert_eq!(DatasetKind::from_key(kind.key()), Some(kind));
        }
    }
}
