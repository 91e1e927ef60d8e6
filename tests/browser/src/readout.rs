//! Reading numbers out of the read-outs' text ("Test loss 0.2345", "Epoch 000,123").

/// The first decimal number in `text`: "Loss 0.2345" is 0.2345, "-1.5e-3" is -0.0015;
/// "NaN" and "∞"/"Infinity" (a diverged loss) read as such.
pub fn first_number(text: &str) -> Option<f64> {
    let bytes = text.as_bytes();
    let starts_number = |i: usize| {
        let digit_at = |j: usize| bytes.get(j).is_some_and(u8::is_ascii_digit);
        digit_at(i)
            || (bytes[i] == b'.' && digit_at(i + 1))
            || (bytes[i] == b'-' && (digit_at(i + 1) || (bytes.get(i + 1) == Some(&b'.'))))
    };
    let Some(start) = (0..bytes.len()).find(|&i| starts_number(i)) else {
        return special_number(text);
    };
    let mut end = start + 1;
    let mut seen_point = bytes[start] == b'.';
    let mut seen_exponent = false;
    while end < bytes.len() {
        let byte = bytes[end];
        let exponent_follows = bytes.get(end + 1).is_some_and(|next| {
            next.is_ascii_digit() || ((*next == b'-' || *next == b'+') && end + 2 < bytes.len())
        });
        match byte {
            b'0'..=b'9' => {}
            b'.' if !seen_point && !seen_exponent => seen_point = true,
            b'e' | b'E' if !seen_exponent && exponent_follows => {
                seen_exponent = true;
                if matches!(bytes[end + 1], b'-' | b'+') {
                    end += 1;
                }
            }
            _ => break,
        }
        end += 1;
    }
    let number: f64 = text[start..end].parse().ok()?;
    // A NaN or infinity mentioned before any digit wins: "NaN (was 0.3)" is NaN.
    match special_number(&text[..start]) {
        Some(special) => Some(special),
        None => Some(number),
    }
}

fn special_number(text: &str) -> Option<f64> {
    if text.contains("NaN") {
        Some(f64::NAN)
    } else if text.contains("-∞") || text.contains("-Infinity") {
        Some(f64::NEG_INFINITY)
    } else if text.contains('∞') || text.contains("Infinity") {
        Some(f64::INFINITY)
    } else {
        None
    }
}

/// All ASCII digits of `text` as one number, separators ignored; `None` without digits.
pub fn all_digits(text: &str) -> Option<u64> {
    let digits: String = text.chars().filter(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// The epochs done in a training page's "epoch 1.25 of 3" (0 before any).
pub fn epoch_of(text: &str) -> f64 {
    first_number(text).unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_number_reads_the_read_outs() {
        assert_eq!(first_number("Test loss 0.2345"), Some(0.2345));
        assert_eq!(first_number("0.100"), Some(0.1));
        assert_eq!(first_number("loss: -1.5e-3 (x)"), Some(-0.0015));
        assert_eq!(first_number("Accuracy 97.5%"), Some(97.5));
        assert_eq!(first_number("epoch 12."), Some(12.0));
        assert_eq!(first_number("Loss"), None);
        assert!(first_number("Loss NaN").unwrap().is_nan());
        assert_eq!(first_number("Loss ∞"), Some(f64::INFINITY));
        assert_eq!(first_number("e-mail 3"), Some(3.0));
    }

    #[test]
    fn all_digits_strips_separators() {
        assert_eq!(all_digits("Epoch 000,123"), Some(123));
        assert_eq!(all_digits("1,234"), Some(1234));
        assert_eq!(all_digits("Epoch"), None);
    }
}
