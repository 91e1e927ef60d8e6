//! `PassEncoder`: a command encoder that keeps one compute pass open across consecutive
//! dispatches, and closes it only for what a pass cannot hold (a copy, a clear) or to finish.
//!
//! A training step is dozens of dispatches. Opening and ending a pass for each costs the CPU a
//! pass object, its validation and (in the browser) two more calls into WebGPU per dispatch;
//! in one pass a dispatch is a pipeline (set only when it changes), a bind group and the launch.
//! WebGPU still orders the dispatches of a pass: each is its own usage scope, so a kernel sees
//! what the one before it wrote.

/// A command encoder with at most one compute pass open in it.
pub struct PassEncoder {
    /// Declared before `encoder`: a pass must end before its encoder is used or finished.
    pass: Option<wgpu::ComputePass<'static>>,
    /// The pipeline last set on the open pass.
    pipeline: Option<wgpu::ComputePipeline>,
    encoder: wgpu::CommandEncoder,
    passes: usize,
}

impl PassEncoder {
    pub fn new(device: &wgpu::Device, label: &str) -> PassEncoder {
        let encoder =
            device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some(label) });
        PassEncoder {
            pass: None,
            pipeline: None,
            encoder,
            passes: 0,
        }
    }

    /// Records one dispatch of `groups` workgroups (x, y) of `pipeline` with `bind_group` at
    /// group 0, in the open pass (opening one if none is).
    pub fn dispatch(
        &mut self,
        pipeline: &wgpu::ComputePipeline,
        bind_group: &wgpu::BindGroup,
        groups: (u32, u32),
    ) {
        let pass = match &mut self.pass {
            Some(pass) => pass,
            None => {
                self.passes += 1;
                self.pipeline = None;
                let pass = self
                    .encoder
                    .begin_compute_pass(&wgpu::ComputePassDescriptor::default())
                    .forget_lifetime();
                self.pass.insert(pass)
            }
        };
        if self.pipeline.as_ref() != Some(pipeline) {
            pass.set_pipeline(pipeline);
            self.pipeline = Some(pipeline.clone());
        }
        pass.set_bind_group(0, bind_group, &[]);
        pass.dispatch_workgroups(groups.0, groups.1, 1);
    }

    /// The encoder itself, for a copy or a clear: the open pass ends first, so the command
    /// lands after every dispatch recorded before it.
    pub fn encoder(&mut self) -> &mut wgpu::CommandEncoder {
        self.end_pass();
        &mut self.encoder
    }

    /// Compute passes opened so far (a copy or a clear between dispatches makes a new one).
    pub fn passes(&self) -> usize {
        self.passes
    }

    /// Ends the open pass and finishes the recording.
    pub fn finish(mut self) -> wgpu::CommandBuffer {
        self.end_pass();
        self.encoder.finish()
    }

    fn end_pass(&mut self) {
        self.pass = None;
        self.pipeline = None;
    }
}
