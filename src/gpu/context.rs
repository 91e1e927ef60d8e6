//! `GpuContext`: the adapter, device and queue, and the name shown to the user.

use super::bind_groups::BindGroups;
use super::error::GpuError;

/// An open GPU device. Cheap to share behind an `Rc` (wgpu objects are not `Send` on wasm, so no
/// statics); every other GPU object is created from it.
#[derive(Debug)]
pub struct GpuContext {
    pub device: wgpu::Device,
    pub queue: wgpu::Queue,
    info: wgpu::AdapterInfo,
    limits: wgpu::Limits,
    bind_groups: BindGroups,
}

impl GpuContext {
    /// Requests the default adapter and a device with the downlevel limits, its texture sizes and
    /// workgroup memory raised to what the adapter offers (the wide matmul tile needs 16 KiB of
    /// workgroup memory, 32 bytes more than the downlevel limit). Natively `WGPU_BACKEND` (e.g. `vulkan`) narrows the backends tried.
    pub async fn new() -> Result<GpuContext, GpuError> {
        let instance =
            wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle().with_env());
        let adapter = instance
            .request_adapter(&wgpu::RequestAdapterOptions::default())
            .await
            .map_err(|error| GpuError::NoAdapter(error.to_string()))?;
        let offered = adapter.limits();
        let limits = wgpu::Limits {
            max_compute_workgroup_storage_size: offered.max_compute_workgroup_storage_size,
            ..wgpu::Limits::downlevel_defaults().using_resolution(offered)
        };
        let (device, queue) = adapter
            .request_device(&wgpu::DeviceDescriptor {
                label: Some("neural-playground"),
                required_limits: limits.clone(),
                ..Default::default()
            })
            .await
            .map_err(|error| GpuError::Device(error.to_string()))?;
        Ok(GpuContext {
            device,
            queue,
            info: adapter.get_info(),
            limits,
            bind_groups: BindGroups::default(),
        })
    }

    /// [`GpuContext::new`], waiting for the answer (native only: the browser must not block).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn new_blocking() -> Result<GpuContext, GpuError> {
        pollster::block_on(GpuContext::new())
    }

    /// What the user is told runs the model: "WebGPU (adapter name)" or "Vulkan (llvmpipe ...)".
    pub fn description(&self) -> String {
        let backend = match self.info.backend {
            wgpu::Backend::BrowserWebGpu => "WebGPU",
            wgpu::Backend::Vulkan => "Vulkan",
            wgpu::Backend::Metal => "Metal",
            wgpu::Backend::Dx12 => "DirectX 12",
            wgpu::Backend::Gl => "OpenGL",
            wgpu::Backend::Noop => "no-op",
        };
        if self.info.name.is_empty() {
            backend.to_string()
        } else {
            format!("{backend} ({})", self.info.name)
        }
    }

    pub fn adapter_info(&self) -> &wgpu::AdapterInfo {
        &self.info
    }

    /// The limits the device was created with.
    pub fn limits(&self) -> &wgpu::Limits {
        &self.limits
    }

    /// The bind groups of the dispatches recorded so far (see [`BindGroups`]).
    pub(super) fn bind_groups(&self) -> &BindGroups {
        &self.bind_groups
    }

    /// Forgets the dispatches recorded so far, and the buffers they hold: a trainer for a new
    /// network calls it, since the old network's dispatches will not come again.
    pub fn forget_dispatches(&self) {
        self.bind_groups.clear();
    }

    /// How many recorded dispatches' bind groups are kept for reuse.
    pub fn cached_dispatches(&self) -> usize {
        self.bind_groups.len()
    }

    /// Waits for the submitted work natively (so that `map_async` callbacks run); in the browser
    /// this does nothing and the callbacks arrive from the event loop.
    pub fn poll(&self) -> Result<(), GpuError> {
        self.device
            .poll(wgpu::PollType::wait_indefinitely())
            .map(|_| ())
            .map_err(|error| GpuError::Dispatch(error.to_string()))
    }
}
