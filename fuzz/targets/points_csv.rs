//! Fuzz target: [`fuzz::points_csv`] on every input honggfuzz makes.

fn main() {
    loop {
        honggfuzz::fuzz!(|data: &[u8]| { fuzz::points_csv(data) });
    }
}
