//! `GpuTensor`: a tensor's numbers in a GPU storage buffer, uploaded from and read back into an
//! engine [`Tensor`].

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use wgpu::util::DeviceExt;

use super::context::GpuContext;
use super::error::GpuError;
use crate::engine::tensor::{Tensor, element_count};

/// A row-major `f32` tensor on the GPU. The buffer is never empty (WebGPU rejects zero-sized
/// bindings), so a tensor with no elements still owns 4 bytes.
#[derive(Debug)]
pub struct GpuTensor {
    pub buffer: wgpu::Buffer,
    shape: Vec<usize>,
}

const USAGE: wgpu::BufferUsages = wgpu::BufferUsages::STORAGE
    .union(wgpu::BufferUsages::COPY_SRC)
    .union(wgpu::BufferUsages::COPY_DST);

impl GpuTensor {
    /// A copy of `tensor` on the GPU.
    pub fn upload(context: &GpuContext, tensor: &Tensor) -> GpuTensor {
        let data = if tensor.is_empty() {
            &[0.0][..]
        } else {
            tensor.data()
        };
        let buffer = context
            .device
            .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some("tensor"),
                contents: bytemuck::cast_slice(data),
                usage: USAGE,
            });
        GpuTensor {
            buffer,
            shape: tensor.shape().to_vec(),
        }
    }

    /// A tensor of zeros (WebGPU zero-initialises new buffers).
    pub fn zeros(context: &GpuContext, shape: &[usize]) -> GpuTensor {
        let buffer = context.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("tensor"),
            size: byte_size(element_count(shape)),
            usage: USAGE,
            mapped_at_creation: false,
        });
        GpuTensor {
            buffer,
            shape: shape.to_vec(),
        }
    }

    /// The same buffer seen with another shape of as many elements (a flatten, which moves
    /// nothing): writes through either are seen by both.
    pub fn view(&self, shape: &[usize]) -> Result<GpuTensor, GpuError> {
        if element_count(shape) != self.len() {
            return Err(GpuError::Shape(format!(
                "a GPU tensor of shape {:?} cannot be seen as {shape:?}",
                self.shape
            )));
        }
        Ok(GpuTensor {
            buffer: self.buffer.clone(),
            shape: shape.to_vec(),
        })
    }

    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    pub fn len(&self) -> usize {
        element_count(&self.shape)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Replaces the contents with `tensor`'s (same number of elements), through the queue.
    pub fn write(&self, context: &GpuContext, tensor: &Tensor) -> Result<(), GpuError> {
        if tensor.len() != self.len() {
            return Err(GpuError::Shape(format!(
                "writing {} values into a GPU tensor of shape {:?}",
                tensor.len(),
                self.shape
            )));
        }
        if !tensor.is_empty() {
            let bytes = bytemuck::cast_slice(tensor.data());
            context.queue.write_buffer(&self.buffer, 0, bytes);
        }
        Ok(())
    }

    /// Copies the tensor back to the CPU once the queued work is done. Each readback costs a
    /// round trip (milliseconds in a browser): read losses and snapshots every N steps, not every
    /// step.
    pub async fn read(&self, context: &GpuContext) -> Result<Tensor, GpuError> {
        let size = byte_size(self.len());
        let staging = context.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("readback"),
            size,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let mut encoder = context
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("readback"),
            });
        encoder.copy_buffer_to_buffer(&self.buffer, 0, &staging, 0, size);
        context.queue.submit([encoder.finish()]);

        let (sender, receiver) = oneshot();
        staging.map_async(wgpu::MapMode::Read, .., move |result| sender.send(result));
        // Natively this waits and runs the callback; in the browser it is a no-op.
        context.poll()?;
        receiver
            .await
            .map_err(|error| GpuError::Readback(error.to_string()))?;
        let data: Vec<f32> = {
            let view = staging
                .get_mapped_range(..)
                .map_err(|error| GpuError::Readback(error.to_string()))?;
            bytemuck::cast_slice::<u8, f32>(&view)[..self.len()].to_vec()
        };
        staging.unmap();
        Tensor::from_vec(&self.shape, data).map_err(|error| GpuError::Readback(error.to_string()))
    }

    /// [`GpuTensor::read`], waiting for the answer (native only).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn read_blocking(&self, context: &GpuContext) -> Result<Tensor, GpuError> {
        pollster::block_on(self.read(context))
    }
}

/// Bytes for `count` floats, at least 4 (no zero-sized buffers).
fn byte_size(count: usize) -> u64 {
    (count.max(1) * std::mem::size_of::<f32>()) as u64
}

/// A one-value channel whose receiver is a future: `map_async`'s callback sends, `read` awaits.
/// (The callback must be `Send` natively, hence `Arc<Mutex>`; on wasm it never contends.)
struct Slot<T> {
    value: Option<T>,
    waker: Option<Waker>,
}

struct Sender<T>(Arc<Mutex<Slot<T>>>);
struct Receiver<T>(Arc<Mutex<Slot<T>>>);

fn oneshot<T>() -> (Sender<T>, Receiver<T>) {
    let slot = Arc::new(Mutex::new(Slot {
        value: None,
        waker: None,
    }));
    (Sender(slot.clone()), Receiver(slot))
}

impl<T> Sender<T> {
    fn send(self, value: T) {
        let mut slot = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        slot.value = Some(value);
        if let Some(waker) = slot.waker.take() {
            waker.wake();
        }
    }
}

impl<T> Future for Receiver<T> {
    type Output = T;

    fn poll(self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<T> {
        let mut slot = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        match slot.value.take() {
            Some(value) => Poll::Ready(value),
            None => {
                slot.waker = Some(context.waker().clone());
                Poll::Pending
            }
        }
    }
}
