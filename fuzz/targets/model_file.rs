//! Fuzz target: [`fuzz::model_file`] on every input honggfuzz makes.

fn main() {
    loop {
        honggfuzz::fuzz!(|data: &[u8]| { fuzz::model_file(data) });
    }
}
