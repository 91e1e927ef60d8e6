//! The course's worked examples, reproduced through the page's logic.

use super::presets::{course_pooling, four_kernels, one_kernel, two_channels, two_feature_maps};
use super::*;

fn values(result: &ConvResult) -> Vec<f32> {
    result.cells.iter().map(|cell| cell.value).collect()
}

#[test]
fn four_2x2_kernels_on_10_3_6_7_give_17_9_13_13() {
    let result = four_kernels().evaluate().unwrap();
    assert_eq!(result.out_side, 1);
    assert_eq!(values(&result), [17., 9., 13., 13.]);
    let first = &result.cells[0];
    let products: Vec<(f32, f32)> = first.taps.iter().map(|t| (t.input, t.weight)).collect();
    assert_eq!(products, [(10., 1.), (3., 0.), (6., 0.), (7., 1.)]);
    assert_eq!(first.sum, 17.0);
}

#[test]
fn the_course_feature_maps_and_the_two_channel_kernel() {
    let maps = two_feature_maps().evaluate().unwrap();
    assert_eq!(maps.out_side, 3);
    assert_eq!(
        values(&maps),
        [
            4., 3., 4., 2., 4., 3., 2., 3., 4., -2., 0., -2., 2., -1., 0., 2., -1., -2.
        ]
    );
    let back = two_channels().evaluate().unwrap();
    assert_eq!(values(&back), [10., 3., 6., 7.]);
    assert_eq!(back.cells[0].taps.len(), 8, "2 channels × 2×2 taps");
    let mut biased = two_channels();
    biased.bias = vec![0.5];
    let cell = &biased.evaluate().unwrap().cells[0];
    assert_eq!((cell.sum, cell.bias, cell.value), (10.0, 0.5, 10.5));
}

#[test]
fn every_cell_s_products_add_up_to_the_engine_s_value() {
    let mut problem = presets::randomized(&two_feature_maps(), 3);
    problem.padding = 1;
    problem.stride = 2;
    for cell in problem.evaluate().unwrap().cells {
        assert!((cell.sum + cell.bias - cell.value).abs() < 1e-4, "{cell:?}");
    }
}

#[test]
fn padding_adds_zeros_around_the_input() {
    let mut problem = one_kernel();
    problem.padding = 1;
    let result = problem.evaluate().unwrap();
    assert_eq!(result.out_side, 5);
    let corner = &result.cells[0];
    assert_eq!((corner.top, corner.left), (0, 0));
    assert_eq!(corner.taps.iter().filter(|t| t.padded).count(), 5);
    assert!(
        corner
            .taps
            .iter()
            .filter(|t| t.padded)
            .all(|t| t.input == 0.0)
    );
}

#[test]
fn the_formula_is_written_with_its_numbers() {
    assert_eq!(
        one_kernel().formula(),
        "n_out = (n_in + 2p − k)/s + 1 = (5 + 2·0 − 3)/1 + 1 = 3"
    );
    let mut problem = one_kernel();
    problem.resize_kernels(4);
    problem.stride = 2;
    assert_eq!(
        problem.formula(),
        "n_out = (n_in + 2p − k)/s + 1 = (5 + 2·0 − 4)/2 + 1 = 1.5 is not a whole number"
    );
    let refusal = problem.evaluate().unwrap_err();
    assert!(refusal.contains("(5 + 0 - 4)/2 + 1"), "{refusal}");
}

#[test]
fn the_course_pooling_example() {
    let average = course_pooling(PoolKind::Average).evaluate().unwrap();
    let means: Vec<f32> = average.cells.iter().map(|c| c.value).collect();
    assert_eq!(means, [3.25, 2.25, 2., 1.]);
    assert!(average.cells.iter().all(|c| c.max_at.is_none()));
    let max = course_pooling(PoolKind::Max).evaluate().unwrap();
    let maxima: Vec<f32> = max.cells.iter().map(|c| c.value).collect();
    assert_eq!(maxima, [4., 3., 3., 2.]);
    assert_eq!(max.cells[0].max_at, Some((0, 0)), "the first of the two 4s");
    assert_eq!(max.cells[1].max_at, Some((0, 3)));
    assert_eq!(
        course_pooling(PoolKind::Max).formula(),
        "n_out = (n_in − k)/s + 1 = (4 − 2)/2 + 1 = 2"
    );
}

#[test]
fn resizing_keeps_the_top_left_values() {
    let mut problem = four_kernels();
    problem.resize_input(3);
    assert_eq!(problem.input, [10., 3., 0., 6., 7., 0., 0., 0., 0.]);
    problem.set_in_channels(2);
    assert_eq!(problem.kernels.len(), 4 * 2 * 4);
    assert_eq!(problem.weight_at(3, 0, 1, 1), 1.0);
    assert_eq!(problem.weight_at(3, 1, 1, 1), 0.0);
    problem.set_out_channels(1);
    assert_eq!(problem.bias, [0.0]);
    assert!(problem.evaluate().is_ok());
}

#[test]
fn numbers_are_written_briefly() {
    assert_eq!(number(3.25), "3.25");
    assert_eq!(number(-1.0), "-1");
    assert_eq!(number(-0.0), "0");
    assert_eq!(number(0.333), "0.33");
}

fn close(a: &[f32], b: &[f32]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-4)
}

#[test]
fn the_accumulated_kernel_gradient_equals_the_tape_s() {
    use super::backward::accumulate_conv;
    let mut problem = presets::randomized(&two_feature_maps(), 5);
    problem.set_in_channels(2);
    problem.padding = 1;
    problem.stride = 2;
    let cells = problem.evaluate().unwrap().cells;
    let upstream: Vec<f32> = (0..cells.len()).map(|i| (i % 5) as f32 - 2.0).collect();
    let engine = problem.gradients(&upstream).unwrap();
    let totals = accumulate_conv(&problem, &cells, &upstream, cells.len());
    assert!(
        close(&totals.kernels, &engine.kernels),
        "{totals:?} {engine:?}"
    );
    assert!(close(&totals.bias, &engine.bias));
    // With dL/dout = 1 everywhere, dL/db is the number of cells and dL/dK the sum of the windows.
    let problem = one_kernel();
    let cells = problem.evaluate().unwrap().cells;
    let ones = vec![1.0; cells.len()];
    let engine = problem.gradients(&ones).unwrap();
    assert_eq!(engine.bias, [9.0]);
    assert_eq!(engine.kernels[0], 6.0, "1+1+1+0+1+1+0+0+1");
    let first = accumulate_conv(&problem, &cells, &ones, 1);
    assert_eq!(first.kernels, [1., 1., 1., 0., 1., 1., 0., 0., 1.]);
    assert_eq!(first.bias, [1.0]);
}

#[test]
fn pooling_routes_the_gradient_like_the_tape() {
    use super::backward::accumulate_pool;
    for kind in [PoolKind::Max, PoolKind::Average] {
        let problem = course_pooling(kind);
        let cells = problem.evaluate().unwrap().cells;
        let ones = vec![1.0; cells.len()];
        let engine = problem.input_gradient(&ones).unwrap();
        assert_eq!(
            accumulate_pool(&problem, &cells, &ones, cells.len()),
            engine
        );
        if kind == PoolKind::Max {
            let expected = [
                1., 0., 0., 1., //
                0., 0., 0., 0., //
                0., 1., 1., 0., //
                0., 0., 0., 0.,
            ];
            assert_eq!(engine, expected, "1 to each window's (first) max");
        } else {
            assert_eq!(engine, [0.25; 16]);
        }
    }
    // Overlapping windows (stride 1) add up, and any upstream gradient is routed the same way.
    let mut problem = presets::random_pooling(&course_pooling(PoolKind::Max), 4);
    problem.stride = 1;
    let cells = problem.evaluate().unwrap().cells;
    let upstream: Vec<f32> = (0..cells.len()).map(|i| i as f32 * 0.5 - 1.0).collect();
    let engine = problem.input_gradient(&upstream).unwrap();
    assert!(close(
        &accumulate_pool(&problem, &cells, &upstream, cells.len()),
        &engine
    ));
}
