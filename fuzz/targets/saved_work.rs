//! Fuzz target: [`fuzz::saved_work`] on every input honggfuzz makes.

fn main() {
    loop {
        honggfuzz::fuzz!(|data: &[u8]| { fuzz::saved_work(data) });
    }
}
