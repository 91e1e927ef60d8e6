//! Harness for the end-to-end tests: serves `dist/`, drives headless Chromium, reads the page.
//!
//! A test launches a [`Page`], opens a path (hash included), then talks to the app only through
//! its `data-testid` hooks. Set `PLAYGROUND_DIST` to serve another folder than `dist/`,
//! `CHROMEDRIVER` and `CHROME` to use other binaries than Debian's.

mod accessibility;
mod driver;
mod files;
mod keyboard;
mod page;
mod readout;
mod server;

pub use accessibility::{AXE_CORE_ENV, Violation};
pub use files::idx_pair;
pub use keyboard::keys;
pub use page::{LOAD_TIMEOUT, Page, selector};
pub use readout::{all_digits, epoch_of, first_number};
pub use server::{DIST_ENV, copy_of_app, dist_dir};
