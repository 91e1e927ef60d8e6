//! An LSTM cell's step on the GPU (`shaders/lstm.wgsl`), recorded by [`Commands`]: the gates
//! from their weighted sums, the cell state and the state, and the gradients of each.
//!
//! CPU twin: `engine::ops::lstm`; parity case `Case::Lstm` in `tests/gpu_common/kernel_cases.rs`.

use super::buffer::GpuTensor;
use super::context::GpuContext;
use super::dispatch;
use super::error::GpuError;
use super::kernels::{Commands, ElementwiseParams, same_length};

/// The pipelines of `lstm.wgsl`, one per entry point.
#[derive(Debug)]
pub(super) struct LstmPipelines {
    gates: wgpu::ComputePipeline,
    gates_backward: wgpu::ComputePipeline,
    cell: wgpu::ComputePipeline,
    cell_backward_gates: wgpu::ComputePipeline,
    cell_backward_previous: wgpu::ComputePipeline,
    state: wgpu::ComputePipeline,
    state_backward_gates: wgpu::ComputePipeline,
    state_backward_cell: wgpu::ComputePipeline,
}

impl LstmPipelines {
    pub(super) async fn new(context: &GpuContext) -> Result<LstmPipelines, GpuError> {
        let [
            gates,
            gates_backward,
            cell,
            cell_backward_gates,
            cell_backward_previous,
            state,
            state_backward_gates,
            state_backward_cell,
        ] = dispatch::compile(
            context,
            "lstm",
            concat!(
                include_str!("../../shaders/elementwise_common.wgsl"),
                include_str!("../../shaders/lstm.wgsl")
            ),
            [
                "lstm_gates",
                "lstm_gates_backward",
                "lstm_cell",
                "lstm_cell_backward_gates",
                "lstm_cell_backward_previous",
                "lstm_state",
                "lstm_state_backward_gates",
                "lstm_state_backward_cell",
            ],
        )
        .await?;
        Ok(LstmPipelines {
            gates,
            gates_backward,
            cell,
            cell_backward_gates,
            cell_backward_previous,
            state,
            state_backward_gates,
            state_backward_cell,
        })
    }
}

/// The uniform block for one element per entry of `over` (`[rows, columns]`), with `columns`
/// in `cols`, and `factor` 1 or 0 as `flag` says.
fn params(kernel: &str, over: &GpuTensor, flag: bool) -> Result<ElementwiseParams, GpuError> {
    let &[_, columns] = over.shape() else {
        return Err(GpuError::Shape(format!(
            "{kernel} takes [rows, columns], got {:?}",
            over.shape()
        )));
    };
    Ok(ElementwiseParams {
        len: dispatch::to_u32(over.len())?,
        cols: dispatch::to_u32(columns)?,
        activation: 0,
        factor: if flag { 1.0 } else { 0.0 },
    })
}

/// Checks that `gates` holds four gates for each value of `state`: `[rows, 4·hidden]` beside
/// `[rows, hidden]`.
fn check_gates(kernel: &str, gates: &GpuTensor, state: &GpuTensor) -> Result<(), GpuError> {
    if gates.len() != 4 * state.len() {
        return Err(GpuError::Shape(format!(
            "{kernel}: gates {:?} are not four of a state {:?}",
            gates.shape(),
            state.shape()
        )));
    }
    Ok(())
}

impl Commands<'_> {
    /// `gates = [σ(f), σ(i), σ(o), tanh(C~)]` of their weighted sums (`lstm::gates_forward`).
    pub fn lstm_gates(&mut self, sums: &GpuTensor, gates: &GpuTensor) -> Result<(), GpuError> {
        same_length("lstm_gates", &[sums, gates])?;
        let params = params("lstm_gates", gates, false)?;
        let kernel = &self.kernels.lstm.gates;
        let buffers = [&sums.buffer, &gates.buffer];
        self.dispatch_linear(kernel, &params, &[1, 4], &buffers, params.len);
        Ok(())
    }

    /// `grad += upstream · σ'` or `· tanh'`, from the gates (`lstm::gates_backward`).
    pub fn lstm_gates_backward(
        &mut self,
        gates: &GpuTensor,
        upstream: &GpuTensor,
        grad: &GpuTensor,
    ) -> Result<(), GpuError> {
        same_length("lstm_gates_backward", &[gates, upstream, grad])?;
        let params = params("lstm_gates_backward", gates, false)?;
        let kernel = &self.kernels.lstm.gates_backward;
        let buffers = [&gates.buffer, &upstream.buffer, &grad.buffer];
        self.dispatch_linear(kernel, &params, &[2, 3, 4], &buffers, params.len);
        Ok(())
    }

    /// `cell = f·previous + i·C~`, or `i·C~` without a previous cell state
    /// (`lstm::cell_forward`).
    pub fn lstm_cell(
        &mut self,
        gates: &GpuTensor,
        previous: Option<&GpuTensor>,
        cell: &GpuTensor,
    ) -> Result<(), GpuError> {
        check_gates("lstm_cell", gates, cell)?;
        if let Some(previous) = previous {
            same_length("lstm_cell", &[previous, cell])?;
        }
        let params = params("lstm_cell", cell, previous.is_some())?;
        let kernel = &self.kernels.lstm.cell;
        // Without a previous state the kernel reads none; the gates stand in for the binding.
        let previous = previous.unwrap_or(gates);
        let buffers = [&gates.buffer, &previous.buffer, &cell.buffer];
        self.dispatch_linear(kernel, &params, &[1, 2, 4], &buffers, params.len);
        Ok(())
    }

    /// The gates' gradient from the cell state's (`lstm::cell_backward`, slot 0).
    pub fn lstm_cell_backward_gates(
        &mut self,
        gates: &GpuTensor,
        previous: Option<&GpuTensor>,
        upstream: &GpuTensor,
        grad: &GpuTensor,
    ) -> Result<(), GpuError> {
        check_gates("lstm_cell_backward_gates", gates, upstream)?;
        same_length("lstm_cell_backward_gates", &[gates, grad])?;
        let params = params("lstm_cell_backward_gates", upstream, previous.is_some())?;
        let kernel = &self.kernels.lstm.cell_backward_gates;
        let previous = previous.unwrap_or(upstream);
        let buffers = [
            &gates.buffer,
            &previous.buffer,
            &upstream.buffer,
            &grad.buffer,
        ];
        self.dispatch_linear(kernel, &params, &[1, 2, 3, 4], &buffers, params.len);
        Ok(())
    }

    /// The previous cell state's gradient, `grad += upstream · f` (`lstm::cell_backward`,
    /// slot 1).
    pub fn lstm_cell_backward_previous(
        &mut self,
        gates: &GpuTensor,
        upstream: &GpuTensor,
        grad: &GpuTensor,
    ) -> Result<(), GpuError> {
        check_gates("lstm_cell_backward_previous", gates, upstream)?;
        same_length("lstm_cell_backward_previous", &[upstream, grad])?;
        let params = params("lstm_cell_backward_previous", upstream, false)?;
        let kernel = &self.kernels.lstm.cell_backward_previous;
        let buffers = [&gates.buffer, &upstream.buffer, &grad.buffer];
        self.dispatch_linear(kernel, &params, &[1, 3, 4], &buffers, params.len);
        Ok(())
    }

    /// `state = o·tanh(cell)` (`lstm::state_forward`).
    pub fn lstm_state(
        &mut self,
        gates: &GpuTensor,
        cell: &GpuTensor,
        state: &GpuTensor,
    ) -> Result<(), GpuError> {
        check_gates("lstm_state", gates, state)?;
        same_length("lstm_state", &[cell, state])?;
        let params = params("lstm_state", state, false)?;
        let kernel = &self.kernels.lstm.state;
        let buffers = [&gates.buffer, &cell.buffer, &state.buffer];
        self.dispatch_linear(kernel, &params, &[1, 2, 4], &buffers, params.len);
        Ok(())
    }

    /// The output gate's gradient, `grad_o += upstream · tanh(cell)` (`lstm::state_backward`,
    /// slot 0).
    pub fn lstm_state_backward_gates(
        &mut self,
        cell: &GpuTensor,
        upstream: &GpuTensor,
        grad: &GpuTensor,
    ) -> Result<(), GpuError> {
        same_length("lstm_state_backward_gates", &[cell, upstream])?;
        check_gates("lstm_state_backward_gates", grad, upstream)?;
        let params = params("lstm_state_backward_gates", upstream, false)?;
        let kernel = &self.kernels.lstm.state_backward_gates;
        let buffers = [&cell.buffer, &upstream.buffer, &grad.buffer];
        self.dispatch_linear(kernel, &params, &[2, 3, 4], &buffers, params.len);
        Ok(())
    }

    /// The cell state's gradient, `grad += upstream · o · (1 - tanh²(cell))`
    /// (`lstm::state_backward`, slot 1).
    pub fn lstm_state_backward_cell(
        &mut self,
        gates: &GpuTensor,
        cell: &GpuTensor,
        upstream: &GpuTensor,
        grad: &GpuTensor,
    ) -> Result<(), GpuError> {
        check_gates("lstm_state_backward_cell", gates, upstream)?;
        same_length("lstm_state_backward_cell", &[cell, upstream, grad])?;
        let params = params("lstm_state_backward_cell", upstream, false)?;
        let kernel = &self.kernels.lstm.state_backward_cell;
        let buffers = [&gates.buffer, &cell.buffer, &upstream.buffer, &grad.buffer];
        self.dispatch_linear(kernel, &params, &[1, 2, 3, 4], &buffers, params.len);
        Ok(())
    }
}
