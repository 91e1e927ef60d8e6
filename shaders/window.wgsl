// Shared by conv.wgsl and pool.wgsl (prepended to each when they are compiled): the uniform
// block of a window sliding over NCHW feature maps, and the index of a one-dimensional
// invocation. The Rust side writes this block from one struct for both families.

struct WindowParams {
    batch: u32,
    // Pooling keeps the channel count: in_channels = out_channels.
    in_channels: u32,
    height: u32,
    width: u32,
    out_channels: u32,
    kernel: u32,
    stride: u32,
    // Always 0 for pooling.
    padding: u32,
    out_height: u32,
    out_width: u32,
    // Invocations that do work (elements of the written tensor).
    count: u32,
    // Average pooling's 1/size² (computed on the CPU as the engine does); unused by conv.
    share: f32,
}

const WORKGROUP: u32 = 256u;

// Past 65,535 workgroups the dispatch spills into y.
fn element_index(id: vec3<u32>, groups: vec3<u32>) -> u32 {
    return id.x + id.y * groups.x * WORKGROUP;
}
