//! `cargo xtask bench`: performance figures beside their references.
//!
//! Each figure is printed as `name | ours | reference | ratio` so scripts can read it.

use crate::command::Result;

pub fn run(_args: &[String]) -> Result {
    Err("benchmarks are not written yet".into())
}
