//! Reading a page's settings from its link's text, field by field: the readers the Sequences
//! and Seq2seq pages' settings share (a count within a range, a positive number, one that may
//! be "off", a switch), each giving `None` for text that is not a valid value.

use std::ops::RangeInclusive;

/// Puts `parsed` into `slot` if there is one; whether there was.
pub fn set<T>(slot: &mut T, parsed: Option<T>) -> bool {
    parsed.map(|value| *slot = value).is_some()
}

/// A whole number within `range`.
pub fn within(text: &str, range: RangeInclusive<usize>) -> Option<usize> {
    text.parse().ok().filter(|n| range.contains(n))
}

/// A finite number above zero (a learning rate, a clipping norm).
pub fn positive(text: &str) -> Option<f32> {
    text.parse::<f32>()
        .ok()
        .filter(|v| v.is_finite() && *v > 0.0)
}

/// `off`, or what `read` reads: `Some(None)` for off, `None` for neither.
pub fn off_or<T>(text: &str, read: impl Fn(&str) -> Option<T>) -> Option<Option<T>> {
    match text {
        "off" => Some(None),
        _ => read(text).map(Some),
    }
}

/// `true` or `false`.
pub fn switch(text: &str) -> Option<bool> {
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_reader_takes_its_values_and_refuses_the_rest() {
        assert_eq!(within("4", 1..=8), Some(4));
        assert_eq!(within("9", 1..=8), None);
        assert_eq!(within("x", 1..=8), None);
        assert_eq!(positive("0.5"), Some(0.5));
        for bad in ["0", "-1", "NaN", "inf", ""] {
            assert_eq!(positive(bad), None, "{bad}");
        }
        assert_eq!(off_or("off", positive), Some(None));
        assert_eq!(off_or("2", positive), Some(Some(2.0)));
        assert_eq!(off_or("0", positive), None);
        assert_eq!(switch("false"), Some(false));
        assert_eq!(switch("no"), None);
        let mut slot = 3;
        assert!(!set(&mut slot, None));
        assert!(set(&mut slot, Some(5)));
        assert_eq!(slot, 5);
    }
}
