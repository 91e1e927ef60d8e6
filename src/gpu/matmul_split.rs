//! How `shaders/matmul_wide.wgsl` splits a product with few output blocks along k, so that a
//! GPU with many compute units has enough workgroups to run (an MLP's 64-row batch gives a
//! 64x512 output only four 128x128 blocks).

/// Outputs per side of the wide tile's block, and its step along k.
const BLOCK: usize = 128;
const DEPTH: usize = 16;
/// Workgroups a split aims for: enough for a GPU of a hundred or more compute units.
const TARGET_WORKGROUPS: usize = 128;
/// The fewest steps of `DEPTH` a part takes: fewer would cost more in partial sums written and
/// added up than the parallelism gains.
const MIN_STEPS_PER_PART: usize = 4;

/// A product's split along k: `parts` parts of `steps_per_part` steps of 16 (the last may have
/// fewer). One part means no split.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct SplitAlongK {
    pub parts: usize,
    pub steps_per_part: usize,
}

impl SplitAlongK {
    /// No split: one part (its steps are not read).
    pub const NONE: SplitAlongK = SplitAlongK {
        parts: 1,
        steps_per_part: 0,
    };

    /// Whether the product is split into more than one part.
    pub fn is_split(self) -> bool {
        self.parts > 1
    }

    /// The split of an `m` x `k` by `k` x `n` product: none when its output has enough blocks,
    /// otherwise enough parts to reach the target number of workgroups, each of at least
    /// `MIN_STEPS_PER_PART` steps, and no empty part.
    pub fn of(m: usize, k: usize, n: usize) -> SplitAlongK {
        let blocks = m.div_ceil(BLOCK) * n.div_ceil(BLOCK);
        let steps = k.div_ceil(DEPTH);
        let wanted = TARGET_WORKGROUPS.div_ceil(blocks.max(1));
        let parts = wanted.min(steps / MIN_STEPS_PER_PART).max(1);
        let steps_per_part = steps.div_ceil(parts).max(1);
        SplitAlongK {
            parts: steps.div_ceil(steps_per_part).max(1),
            steps_per_part,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::SplitAlongK;

    fn split(m: usize, k: usize, n: usize) -> (usize, usize) {
        let split = SplitAlongK::of(m, k, n);
        (split.parts, split.steps_per_part)
    }

    #[test]
    fn products_with_many_blocks_or_little_depth_are_not_split() {
        assert_eq!(split(4096, 4096, 4096), (1, 256));
        assert_eq!(split(1024, 1024, 2048), (1, 64));
        // 784x512 has 28 blocks, but k = 64 is only 4 steps.
        assert_eq!(split(784, 64, 512), (1, 4));
        assert_eq!(split(36, 100, 28), (1, 7));
        assert_eq!(split(36, 0, 28), (1, 1));
    }

    #[test]
    fn a_batch_of_64_rows_is_split_into_parts_of_at_least_four_steps() {
        // 4 blocks, 49 steps: 12 parts wanted at most, 5 steps each, so 10 parts.
        assert_eq!(split(64, 784, 512), (10, 5));
        // 4 blocks, 32 steps: 8 parts of 4.
        assert_eq!(split(64, 512, 512), (8, 4));
        // 1024³: 64 blocks, 64 steps: 2 parts reach 128 workgroups.
        assert_eq!(split(1024, 1024, 1024), (2, 32));
        // 13 steps (k = 200): 3 parts of 5, the last with 3 and a ragged end.
        assert_eq!(split(36, 200, 28), (3, 5));
    }
}
