//! The convolution page's starting points: the course's worked examples and random ones.

use super::{ConvProblem, PoolKind, PoolProblem};
use crate::engine::SeededRng;

/// A named starting point of the convolution section.
#[derive(Clone, Copy, Debug)]
pub struct ConvPreset {
    /// Used in the button's test hook, `conv-preset-<id>`.
    pub id: &'static str,
    pub title: &'static str,
    pub build: fn() -> ConvProblem,
}

pub const CONV_PRESETS: &[ConvPreset] = &[
    ConvPreset {
        id: "course-one-kernel",
        title: "Course: a 3×3 kernel on a 5×5 image",
        build: one_kernel,
    },
    ConvPreset {
        id: "course-two-maps",
        title: "Course: two kernels, two feature maps",
        build: two_feature_maps,
    },
    ConvPreset {
        id: "course-two-channels",
        title: "Course: one kernel reading two maps",
        build: two_channels,
    },
    ConvPreset {
        id: "course-four-kernels",
        title: "Course: four 2×2 kernels on [[10, 3], [6, 7]]",
        build: four_kernels,
    },
];

/// The course's 5×5 image of ones and zeros.
const COURSE_IMAGE: [f32; 25] = [
    1., 1., 1., 0., 0., //
    0., 1., 1., 1., 0., //
    0., 0., 1., 1., 1., //
    0., 0., 1., 1., 0., //
    0., 1., 1., 0., 0.,
];

/// The course's two 3×3 kernels: an X and an edge detector.
const COURSE_KERNELS: [f32; 18] = [
    1., 0., 1., 0., 1., 0., 1., 0., 1., //
    0., 1., 0., 1., -4., 1., 0., 1., 0.,
];

pub fn one_kernel() -> ConvProblem {
    ConvProblem {
        in_channels: 1,
        size: 5,
        input: COURSE_IMAGE.to_vec(),
        out_channels: 1,
        kernel: 3,
        kernels: COURSE_KERNELS[..9].to_vec(),
        bias: vec![0.0],
        stride: 1,
        padding: 0,
    }
}

pub fn two_feature_maps() -> ConvProblem {
    ConvProblem {
        out_channels: 2,
        kernels: COURSE_KERNELS.to_vec(),
        bias: vec![0.0, 0.0],
        ..one_kernel()
    }
}

/// The two feature maps of [`two_feature_maps`] read by one kernel per map:
/// [[1, 0], [0, 1]] and [[0, 1], [1, 0]] give back [[10, 3], [6, 7]].
pub fn two_channels() -> ConvProblem {
    ConvProblem {
        in_channels: 2,
        size: 3,
        input: vec![
            4., 3., 4., 2., 4., 3., 2., 3., 4., //
            -2., 0., -2., 2., -1., 0., 2., -1., -2.,
        ],
        out_channels: 1,
        kernel: 2,
        kernels: vec![1., 0., 0., 1., 0., 1., 1., 0.],
        bias: vec![0.0],
        stride: 1,
        padding: 0,
    }
}

/// Four kernels as large as the image flatten it into four numbers: 17, 9, 13, 13.
pub fn four_kernels() -> ConvProblem {
    ConvProblem {
        in_channels: 1,
        size: 2,
        input: vec![10., 3., 6., 7.],
        out_channels: 4,
        kernel: 2,
        kernels: vec![
            1., 0., 0., 1., //
            0., 1., 1., 0., //
            1., 1., 0., 0., //
            0., 0., 1., 1.,
        ],
        bias: vec![0.0; 4],
        stride: 1,
        padding: 0,
    }
}

/// Whole numbers from −3 to 3, easy to multiply in one's head.
fn small_integers(count: usize, rng: &mut SeededRng) -> Vec<f32> {
    (0..count)
        .map(|_| (rng.uniform_range(0.0, 7.0).floor() - 3.0).clamp(-3.0, 3.0))
        .collect()
}

/// The current problem's sizes with new random inputs, kernels and biases.
pub fn randomized(problem: &ConvProblem, seed: u64) -> ConvProblem {
    let mut rng = SeededRng::new(seed);
    let (c_in, c_out, n, k) = (
        problem.in_channels,
        problem.out_channels,
        problem.size,
        problem.kernel,
    );
    ConvProblem {
        input: small_integers(c_in * n * n, &mut rng),
        kernels: small_integers(c_out * c_in * k * k, &mut rng),
        bias: small_integers(c_out, &mut rng),
        ..problem.clone()
    }
}

/// The course's 4×4 pooling example with 2×2 windows and stride 2.
pub fn course_pooling(kind: PoolKind) -> PoolProblem {
    PoolProblem {
        kind,
        side: 4,
        input: vec![
            4., 3., 1., 3., //
            2., 4., 3., 2., //
            2., 3., 2., 1., //
            2., 1., 0., 1.,
        ],
        size: 2,
        stride: 2,
    }
}

/// A random 4×4 plane of whole numbers from 0 to 9, keeping the window settings.
pub fn random_pooling(problem: &PoolProblem, seed: u64) -> PoolProblem {
    let mut rng = SeededRng::new(seed);
    let count = problem.side * problem.side;
    PoolProblem {
        input: (0..count)
            .map(|_| rng.uniform_range(0.0, 10.0).floor().min(9.0))
            .collect(),
        ..problem.clone()
    }
}
