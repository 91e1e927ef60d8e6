//! `BindGroups`: the bind groups (each with its uniform block of parameters) of dispatches
//! already recorded, found again by pipeline, parameters and buffers. A training step records
//! the same dispatches step after step; making a uniform buffer and a bind group for each
//! again measured ~0.4 ms of recording per MLP step, more than a fast GPU needs for the step.

use std::collections::HashMap;
use std::sync::Mutex;

use wgpu::util::DeviceExt;

/// Beyond this many bind groups, the cache starts afresh: a key holds its buffers alive, so the
/// cache must not grow with every network the user builds.
const CAPACITY: usize = 4096;

/// What makes two dispatches bind the same things (wgpu handles compare by identity).
#[derive(PartialEq, Eq, Hash)]
struct Key {
    pipeline: wgpu::ComputePipeline,
    params: Vec<u8>,
    buffers: Vec<(u32, wgpu::Buffer)>,
}

#[derive(Default)]
pub(super) struct BindGroups {
    cached: Mutex<HashMap<Key, wgpu::BindGroup>>,
}

impl std::fmt::Debug for BindGroups {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} cached bind groups", self.len())
    }
}

impl BindGroups {
    /// The bind group with `params` in a uniform block at binding 0 and each buffer at its
    /// binding, for `pipeline`'s layout: the one made before for the same three, or a new one.
    pub(super) fn get(
        &self,
        device: &wgpu::Device,
        pipeline: &wgpu::ComputePipeline,
        params: &[u8],
        bindings: &[(u32, &wgpu::Buffer)],
    ) -> wgpu::BindGroup {
        let key = Key {
            pipeline: pipeline.clone(),
            params: params.to_vec(),
            buffers: bindings
                .iter()
                .map(|&(binding, buffer)| (binding, buffer.clone()))
                .collect(),
        };
        // A poisoned lock only means another dispatch panicked; the map itself is sound.
        let mut cached = self.cached.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(group) = cached.get(&key) {
            return group.clone();
        }
        if cached.len() >= CAPACITY {
            cached.clear();
        }
        let group = create(device, pipeline, params, bindings);
        cached.insert(key, group.clone());
        group
    }

    /// Drops every cached bind group, and with them the buffers they hold (a new network's
    /// trainer calls it: the old network's dispatches will not come again).
    pub(super) fn clear(&self) {
        self.cached
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    pub(super) fn len(&self) -> usize {
        self.cached.lock().unwrap_or_else(|e| e.into_inner()).len()
    }
}

fn create(
    device: &wgpu::Device,
    pipeline: &wgpu::ComputePipeline,
    params: &[u8],
    bindings: &[(u32, &wgpu::Buffer)],
) -> wgpu::BindGroup {
    // A uniform buffer of its own: `write_buffer` into a shared one would land before the whole
    // submission, so every dispatch would see the last parameters.
    let uniform = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
        label: Some("kernel parameters"),
        contents: params,
        usage: wgpu::BufferUsages::UNIFORM,
    });
    let mut entries = vec![wgpu::BindGroupEntry {
        binding: 0,
        resource: uniform.as_entire_binding(),
    }];
    entries.extend(
        bindings
            .iter()
            .map(|&(binding, buffer)| wgpu::BindGroupEntry {
                binding,
                resource: buffer.as_entire_binding(),
            }),
    );
    device.create_bind_group(&wgpu::BindGroupDescriptor {
        label: None,
        layout: &pipeline.get_bind_group_layout(0),
        entries: &entries,
    })
}
