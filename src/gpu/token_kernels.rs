//! Tokens as numbers on the GPU (`shaders/tokens.wgsl`), recorded by [`Commands`]: an embedding
//! table's rows looked up by id and their gradients added back (a scatter-add, done as a gather
//! so that it needs no atomics and sums in the CPU's order), and each row's most likely token.
//!
//! CPU twin: `engine::ops::tokens`; parity cases `Case::Embedding` and `Case::ArgMax` in
//! `tests/gpu_common/sequence_cases.rs`.

use bytemuck::{Pod, Zeroable};

use super::buffer::GpuTensor;
use super::context::GpuContext;
use super::dispatch::{self, to_u32};
use super::error::GpuError;
use super::kernels::Commands;

/// The pipelines of `tokens.wgsl`, one per entry point.
#[derive(Debug)]
pub(super) struct TokenPipelines {
    embedding: wgpu::ComputePipeline,
    embedding_backward: wgpu::ComputePipeline,
    argmax: wgpu::ComputePipeline,
}

impl TokenPipelines {
    pub(super) async fn new(context: &GpuContext) -> Result<TokenPipelines, GpuError> {
        let [embedding, embedding_backward, argmax] = dispatch::compile(
            context,
            "tokens",
            include_str!("../../shaders/tokens.wgsl"),
            ["embedding", "embedding_backward", "argmax"],
        )
        .await?;
        Ok(TokenPipelines {
            embedding,
            embedding_backward,
            argmax,
        })
    }
}

/// The uniform block of `tokens.wgsl`.
#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct TokenParams {
    rows: u32,
    tokens: u32,
    width: u32,
    _pad: u32,
}

/// The parameters of a lookup in `table` (`[tokens, width]`) by `ids` (`[rows, 1]`) into or
/// from `rows_of` (`[rows, width]`), or why the shapes do not fit (`tokens::embedding_shape`).
fn lookup(
    kernel: &str,
    table: &GpuTensor,
    ids: &GpuTensor,
    rows_of: &GpuTensor,
) -> Result<TokenParams, GpuError> {
    match (table.shape(), ids.shape(), rows_of.shape()) {
        (&[tokens, width], &[rows, 1], &[out_rows, out_width])
            if tokens > 0 && rows == out_rows && width == out_width =>
        {
            Ok(TokenParams {
                rows: to_u32(rows)?,
                tokens: to_u32(tokens)?,
                width: to_u32(width)?,
                _pad: 0,
            })
        }
        _ => Err(GpuError::Shape(format!(
            "{kernel} takes a table [tokens, width], ids [rows, 1] and rows [rows, width], got \
             {:?}, {:?} and {:?}",
            table.shape(),
            ids.shape(),
            rows_of.shape()
        ))),
    }
}

impl Commands<'_> {
    /// `out[r] = table[ids[r]]`, zeros for an id that names no row (`tokens::embedding_forward`).
    pub fn embedding(
        &mut self,
        table: &GpuTensor,
        ids: &GpuTensor,
        out: &GpuTensor,
    ) -> Result<(), GpuError> {
        let params = lookup("embedding", table, ids, out)?;
        let kernel = &self.kernels.tokens.embedding;
        let buffers = [&table.buffer, &ids.buffer, &out.buffer];
        let invocations = to_u32(out.len())?;
        self.dispatch_linear(kernel, &params, &[1, 2, 4], &buffers, invocations);
        Ok(())
    }

    /// `grad[ids[r]] += upstream[r]` for every row, in order (`tokens::embedding_backward`).
    pub fn embedding_backward(
        &mut self,
        ids: &GpuTensor,
        upstream: &GpuTensor,
        grad: &GpuTensor,
    ) -> Result<(), GpuError> {
        let params = lookup("embedding_backward", grad, ids, upstream)?;
        let kernel = &self.kernels.tokens.embedding_backward;
        let buffers = [&ids.buffer, &upstream.buffer, &grad.buffer];
        let invocations = to_u32(grad.len())?;
        self.dispatch_linear(kernel, &params, &[2, 3, 4], &buffers, invocations);
        Ok(())
    }

    /// `out[r] = ` the index of the first largest score of row `r` (`tokens::argmax_forward`).
    pub fn argmax(&mut self, scores: &GpuTensor, out: &GpuTensor) -> Result<(), GpuError> {
        let (&[rows, width], &[out_rows, 1]) = (scores.shape(), out.shape()) else {
            return Err(GpuError::Shape(format!(
                "argmax takes scores [rows, k] into [rows, 1], got {:?} into {:?}",
                scores.shape(),
                out.shape()
            )));
        };
        if rows != out_rows || width == 0 {
            return Err(GpuError::Shape(format!(
                "argmax of {:?} into {:?}",
                scores.shape(),
                out.shape()
            )));
        }
        let params = TokenParams {
            rows: to_u32(rows)?,
            tokens: 0,
            width: to_u32(width)?,
            _pad: 0,
        };
        let kernel = &self.kernels.tokens.argmax;
        let buffers = [&scores.buffer, &out.buffer];
        self.dispatch_linear(kernel, &params, &[1, 4], &buffers, params.rows);
        Ok(())
    }
}
