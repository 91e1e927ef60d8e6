//! The palette's chart inks (`playground::colors::ink`, each checked at 3:1 on white) as plotters
//! colours.

pub use crate::playground::colors::ink;
use plotters::style::RGBColor;

/// An ink as a plotters colour.
pub const fn color_of(rgb: [u8; 3]) -> RGBColor {
    RGBColor(rgb[0], rgb[1], rgb[2])
}
