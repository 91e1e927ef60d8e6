//! Fuzz target: [`fuzz::link`] on every input honggfuzz makes.

fn main() {
    loop {
        honggfuzz::fuzz!(|data: &[u8]| { fuzz::link(data) });
    }
}
