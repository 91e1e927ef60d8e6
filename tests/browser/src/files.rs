//! Files a test opens as a learner would, written on the fly.

use std::path::PathBuf;

/// Writes an IDX pair of `count` 28x28 images (a bar whose column is the label) into a fresh
/// folder; `truncate` cuts the last bytes of the image file.
pub fn idx_pair(name: &str, count: usize, truncate: usize) -> Vec<PathBuf> {
    let dir = std::env::temp_dir().join(format!("np-idx-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let mut images = vec![0, 0, 8, 3];
    for size in [count as u32, 28, 28] {
        images.extend(size.to_be_bytes());
    }
    let mut labels = vec![0, 0, 8, 1];
    labels.extend((count as u32).to_be_bytes());
    for i in 0..count {
        let label = (i % 10) as u8;
        labels.push(label);
        for pixel in 0..784 {
            images.push(if pixel % 28 == 4 + 2 * usize::from(label) {
                255
            } else {
                0
            });
        }
    }
    images.truncate(images.len() - truncate);
    let (image_path, label_path) = (
        dir.join("bars-images-idx3-ubyte"),
        dir.join("bars-labels-idx1-ubyte"),
    );
    std::fs::write(&image_path, images).expect("write images");
    std::fs::write(&label_path, labels).expect("write labels");
    vec![image_path, label_path]
}
