//! Steady-state training does not allocate: a counting global allocator watches this thread
//! while the MNIST-sized MLP and the recurrent cells train, the playground's grid is computed,
//! and every GEMM path runs again on shapes it has seen. (Correctness is tested in `src/engine/gemm/tests.rs`.)

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use neural_playground::bench_hooks::{DecisionGrid, MlpStep, RecurrentStep};
use neural_playground::engine::gemm::{Operand, matmul};

/// Counts the allocations made by the current thread (tests run on several threads at once).
struct CountingAllocator;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: every call is forwarded to the system allocator unchanged; the count is a
// const-initialised thread-local `Cell`, which itself never allocates.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|count| count.set(count.get() + 1));
        // SAFETY: forwarded with the caller's layout.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System.alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|count| count.set(count.get() + 1));
        // SAFETY: forwarded unchanged.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

/// Allocations made by this thread while running `work`.
fn allocations_during(work: impl FnOnce()) -> usize {
    let before = ALLOCATIONS.with(Cell::get);
    work();
    ALLOCATIONS.with(Cell::get) - before
}

#[test]
fn the_counter_sees_allocations() {
    let count = allocations_during(|| drop(std::hint::black_box(vec![1.0f32; 16])));
    assert_eq!(count, 1);
}

#[test]
fn mlp_training_steps_do_not_allocate_once_warm() {
    let mut step = MlpStep::new().unwrap();
    for _ in 0..2 {
        step.run().unwrap();
    }
    let count = allocations_during(|| {
        for _ in 0..5 {
            step.run().unwrap();
        }
    });
    assert_eq!(
        count, 0,
        "5 training steps of the 784-512-512-10 MLP allocated {count} times"
    );
}

/// Backpropagation through time on the tape: every step of every cell, forward and backward,
/// in buffers kept from the steps before.
#[test]
fn recurrent_training_steps_do_not_allocate_once_warm() {
    for cell in ["rnn", "lstm", "gru"] {
        let mut step = RecurrentStep::new(cell, 20, 32).unwrap();
        for _ in 0..2 {
            step.run().unwrap();
        }
        let count = allocations_during(|| {
            for _ in 0..3 {
                step.run().unwrap();
            }
        });
        assert_eq!(
            count, 0,
            "3 training steps of a {cell} over 20 steps allocated {count} times"
        );
    }
}

#[test]
fn the_decision_grid_does_not_allocate_once_warm() {
    let mut grid = DecisionGrid::new().unwrap();
    grid.run().unwrap();
    let count = allocations_during(|| {
        for _ in 0..3 {
            grid.run().unwrap();
        }
    });
    assert_eq!(
        count, 0,
        "3 passes of the 100x100 grid allocated {count} times"
    );
}

#[test]
fn repeated_products_reuse_their_buffers() {
    // Every path: blocked (both transposes of the benchmark), skinny rows, dots, rearranged.
    let shapes = [
        (64, 784, 512),
        (784, 64, 512),
        (500, 8, 8),
        (500, 8, 1),
        (3, 40, 2),
    ];
    for (m, k, n) in shapes {
        let a: Vec<f32> = (0..m * k).map(|i| (i % 13) as f32 - 6.0).collect();
        let b: Vec<f32> = (0..k * n).map(|i| (i % 7) as f32 - 3.0).collect();
        let mut out = vec![0.0; m * n];
        for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
            let left = match ta {
                false => Operand::new(&a, m, k, false),
                true => Operand::new(&a, k, m, true),
            };
            let right = match tb {
                false => Operand::new(&b, k, n, false),
                true => Operand::new(&b, n, k, true),
            };
            matmul(left, right, &mut out, false);
            let count = allocations_during(|| matmul(left, right, &mut out, true));
            assert_eq!(count, 0, "{m}x{k}x{n} ({ta}, {tb}) allocated {count} times");
        }
    }
}
