//! Fuzz target: [`fuzz::idx`] on every input honggfuzz makes.

fn main() {
    loop {
        honggfuzz::fuzz!(|data: &[u8]| { fuzz::idx(data) });
    }
}
