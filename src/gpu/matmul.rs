//! The matrix product on the GPU: its two tiles (`shaders/matmul.wgsl`, 64x64 per workgroup,
//! any shape; `shaders/matmul_wide.wgsl`, 128x128 read as `vec4`s, split along k when the output
//! has few blocks), which one a product takes, and [`Commands::matmul`], which records it.

use std::collections::HashMap;
use std::sync::Mutex;

use bytemuck::{Pod, Zeroable};

use super::buffer::GpuTensor;
use super::context::GpuContext;
use super::dispatch::{self, MAX_GROUPS, to_u32};
use super::error::GpuError;
use super::kernels::{Commands, scratch};
use super::matmul_split::SplitAlongK;

/// The fewest outputs for which [`super::Kernels::tile_for`] picks the wide tile (one full 128x128
/// block): smaller products, such as the 2-D playground's, fit one workgroup of either tile,
/// and the 64x64 one does a quarter of the wasted work on the block's empty part.
const WIDE_MIN_OUTPUTS: usize = 128 * 128;
/// Workgroup memory the wide tile needs: a 128x16 and a 16x128 tile of f32.
const WIDE_WORKGROUP_BYTES: u32 = 2 * 128 * 16 * 4;
/// The matmul pipelines of a device, held by [`super::Kernels`].
#[derive(Debug)]
pub(super) struct MatmulPipelines {
    /// `shaders/matmul.wgsl`.
    square: wgpu::ComputePipeline,
    /// `shaders/matmul_wide.wgsl`, where the device allows its 16 KiB of workgroup memory.
    wide: Option<WidePipelines>,
    /// The partial products of [`SplitAlongK`] products, one buffer per length, kept so that a
    /// training step binds the same buffers every step (see `super::bind_groups`).
    partials_scratch: Mutex<HashMap<usize, wgpu::Buffer>>,
}

/// The entry points of `shaders/matmul_wide.wgsl`: the product, its parts when split along k
/// (`SPLIT` on), and the sum of the parts.
#[derive(Debug)]
struct WidePipelines {
    multiply: wgpu::ComputePipeline,
    multiply_part: wgpu::ComputePipeline,
    sum_splits: wgpu::ComputePipeline,
}

impl MatmulPipelines {
    /// Compiles both tiles (the wide one where the device allows it).
    pub(super) async fn new(context: &GpuContext) -> Result<MatmulPipelines, GpuError> {
        let [square] = dispatch::compile(
            context,
            "matmul",
            concat!(
                include_str!("../../shaders/matmul_operands.wgsl"),
                include_str!("../../shaders/matmul.wgsl")
            ),
            ["matmul"],
        )
        .await?;
        let wide = if context.limits().max_compute_workgroup_storage_size >= WIDE_WORKGROUP_BYTES {
            let source = include_str!("../../shaders/matmul_wide.wgsl");
            let entry_points = ["matmul_wide", "sum_splits"];
            let split = |on: bool| wgpu::PipelineCompilationOptions {
                constants: if on { &[("SPLIT", 1.0)] } else { &[] },
                ..Default::default()
            };
            let [multiply, sum_splits] =
                dispatch::compile_with(context, "matmul_wide", source, entry_points, split(false))
                    .await?;
            let [multiply_part] = dispatch::compile_with(
                context,
                "matmul_wide",
                source,
                ["matmul_wide"],
                split(true),
            )
            .await?;
            Some(WidePipelines {
                multiply,
                multiply_part,
                sum_splits,
            })
        } else {
            None
        };
        Ok(MatmulPipelines {
            square,
            wide,
            partials_scratch: Mutex::default(),
        })
    }

    /// A buffer for `len` floats of partial products, the same one every time for the same
    /// length (each split product's parts are added up by the dispatch right after the one that
    /// wrote them, so products of one submission can share it).
    fn partials_scratch(&self, context: &GpuContext, len: usize) -> wgpu::Buffer {
        scratch(&self.partials_scratch, context, len)
    }

    /// The tiles this device can run: the wide one needs 16 KiB of workgroup memory.
    pub(super) fn has_tile(&self, tile: MatmulTile) -> bool {
        match tile {
            MatmulTile::Square64 => true,
            MatmulTile::Wide128 => self.wide.is_some(),
        }
    }

    /// The tile [`Commands::matmul`] uses for `op(a) · op(b)`: the wide one where the device has
    /// it, the product can be read four floats at a time ([`MatmulTile::fits`]) and the output
    /// has at least one full block of it.
    pub(super) fn tile_for(&self, a: MatmulOperand<'_>, b: MatmulOperand<'_>) -> MatmulTile {
        let outputs = match (a.used_shape(), b.used_shape()) {
            (Ok((m, _)), Ok((_, n))) => m.saturating_mul(n),
            _ => 0,
        };
        if self.wide.is_some() && outputs >= WIDE_MIN_OUTPUTS && MatmulTile::Wide128.fits(a, b) {
            MatmulTile::Wide128
        } else {
            MatmulTile::Square64
        }
    }
}

/// How a matmul dispatch splits the output among workgroups.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MatmulTile {
    /// `shaders/matmul.wgsl`: 64x64 outputs per workgroup, 4x4 per invocation; runs everywhere.
    Square64,
    /// `shaders/matmul_wide.wgsl`: 128x128 outputs per workgroup, 8x8 per invocation, every
    /// buffer read four floats at a time; needs 16 KiB of workgroup memory, and stored rows of
    /// a multiple of four floats ([`MatmulTile::fits`]).
    Wide128,
}

impl MatmulTile {
    /// Whether this tile can compute `op(a) · op(b)`: the wide one reads `a`, `b` and the output
    /// as `vec4`s, so each of their stored rows must hold a multiple of four floats.
    pub fn fits(self, a: MatmulOperand<'_>, b: MatmulOperand<'_>) -> bool {
        let row_of_4 = |operand: MatmulOperand<'_>| {
            operand
                .tensor
                .shape()
                .last()
                .is_some_and(|&cols| cols % 4 == 0)
        };
        match self {
            MatmulTile::Square64 => true,
            MatmulTile::Wide128 => {
                row_of_4(a) && row_of_4(b) && b.used_shape().is_ok_and(|(_, n)| n % 4 == 0)
            }
        }
    }

    /// Outputs per side of a workgroup's block.
    fn block(self) -> u32 {
        match self {
            MatmulTile::Square64 => 64,
            MatmulTile::Wide128 => 128,
        }
    }
}

/// One operand of a matrix product: a rank-2 tensor, read transposed or not.
#[derive(Clone, Copy, Debug)]
pub struct MatmulOperand<'a> {
    pub tensor: &'a GpuTensor,
    pub transposed: bool,
}

impl<'a> MatmulOperand<'a> {
    pub fn plain(tensor: &'a GpuTensor) -> Self {
        MatmulOperand {
            tensor,
            transposed: false,
        }
    }

    pub fn transposed(tensor: &'a GpuTensor) -> Self {
        MatmulOperand {
            tensor,
            transposed: true,
        }
    }

    /// (rows, columns) as used in the product.
    fn used_shape(&self) -> Result<(usize, usize), GpuError> {
        match *self.tensor.shape() {
            [rows, cols] if self.transposed => Ok((cols, rows)),
            [rows, cols] => Ok((rows, cols)),
            ref other => Err(GpuError::Shape(format!(
                "matmul takes matrices, got a tensor of shape {other:?}"
            ))),
        }
    }
}

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct MatmulParams {
    m: u32,
    n: u32,
    k: u32,
    flags: u32,
    /// The wide tile's [`SplitAlongK`] (`matmul.wgsl` reads only the fields above).
    splits: u32,
    split_steps: u32,
    _pad: [u32; 2],
}

impl Commands<'_> {
    /// `out = op(a) · op(b)`, or `out += op(a) · op(b)` when `accumulate` (`engine::gemm::matmul`),
    /// with the tile [`super::Kernels::tile_for`] picks.
    pub fn matmul(
        &mut self,
        a: MatmulOperand<'_>,
        b: MatmulOperand<'_>,
        out: &GpuTensor,
        accumulate: bool,
    ) -> Result<(), GpuError> {
        let tile = self.kernels.matmul.tile_for(a, b);
        self.matmul_tiled(a, b, out, accumulate, tile)
    }

    /// [`Commands::matmul`] with a chosen tile (tests and benchmarks compare them); a tile the
    /// device cannot run is refused.
    pub fn matmul_tiled(
        &mut self,
        a: MatmulOperand<'_>,
        b: MatmulOperand<'_>,
        out: &GpuTensor,
        accumulate: bool,
        tile: MatmulTile,
    ) -> Result<(), GpuError> {
        let wide = match tile {
            MatmulTile::Square64 => None,
            MatmulTile::Wide128 => Some(self.kernels.matmul.wide.as_ref().ok_or_else(|| {
                GpuError::Shape(format!(
                    "the 128x128 matmul tile needs {WIDE_WORKGROUP_BYTES} bytes of workgroup \
                     memory; this device gives {}",
                    self.context.limits().max_compute_workgroup_storage_size
                ))
            })?),
        };
        let (m, k) = a.used_shape()?;
        let (k_b, n) = b.used_shape()?;
        if !tile.fits(a, b) {
            return Err(GpuError::Shape(format!(
                "the 128x128 matmul tile reads four floats at a time, so every stored row must \
                 hold a multiple of four: got a {:?} and b {:?}",
                a.tensor.shape(),
                b.tensor.shape()
            )));
        }
        if k != k_b || out.shape() != [m, n] {
            return Err(GpuError::Shape(format!(
                "matmul of [{m}, {k}] by [{k_b}, {n}] into {:?}",
                out.shape()
            )));
        }
        if m == 0 || n == 0 {
            return Ok(());
        }
        let flags =
            u32::from(a.transposed) | u32::from(b.transposed) << 1 | u32::from(accumulate) << 2;
        let split = match tile {
            MatmulTile::Square64 => SplitAlongK::NONE,
            MatmulTile::Wide128 => SplitAlongK::of(m, k, n),
        };
        let params = MatmulParams {
            m: to_u32(m)?,
            n: to_u32(n)?,
            k: to_u32(k)?,
            flags,
            splits: to_u32(split.parts)?,
            split_steps: to_u32(split.steps_per_part)?,
            _pad: [0; 2],
        };
        let block = tile.block();
        let groups = (
            params.n.div_ceil(block).saturating_mul(params.splits),
            params.m.div_ceil(block),
        );
        if groups.0 > MAX_GROUPS || groups.1 > MAX_GROUPS {
            return Err(GpuError::Shape(format!(
                "matmul output [{m}, {n}] is too large"
            )));
        }
        let (a, b, out) = (&a.tensor.buffer, &b.tensor.buffer, &out.buffer);
        let Some(wide) = wide else {
            self.dispatch(
                &self.kernels.matmul.square,
                &params,
                &[1, 2, 3],
                &[a, b, out],
                groups,
            );
            return Ok(());
        };
        // One part: a buffer of one vec4 stands in for the partial products.
        let partials_len = if split.is_split() {
            split.parts * m * n
        } else {
            4
        };
        let partials = self
            .kernels
            .matmul
            .partials_scratch(self.context, partials_len);
        let buffers = [a, b, out, &partials];
        let multiply = if split.is_split() {
            &wide.multiply_part
        } else {
            &wide.multiply
        };
        self.dispatch(multiply, &params, &[1, 2, 3, 4], &buffers, groups);
        if split.is_split() {
            let vec4s = to_u32(m * n / 4)?;
            let sum = &wide.sum_splits;
            self.dispatch_linear(sum, &params, &[3, 4], &[out, &partials], vec4s);
        }
        Ok(())
    }
}
