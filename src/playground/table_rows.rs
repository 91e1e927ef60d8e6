//! Which entries of a long series a chart's table of numbers lists: at most a given number,
//! evenly spaced, always the first and the last, so that a table stays readable however long
//! training has run.

/// Indices into a series of `len` entries: all of them when there are at most `most`, otherwise
/// `most` evenly spaced ones from the first to the last, in order.
pub fn evenly_spaced(len: usize, most: usize) -> Vec<usize> {
    if len <= most {
        return (0..len).collect();
    }
    if most <= 1 {
        return vec![len - 1];
    }
    let last = (len - 1) as f64;
    (0..most)
        .map(|k| (k as f64 * last / (most - 1) as f64).round() as usize)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_series_is_listed_whole() {
        assert_eq!(evenly_spaced(0, 5), Vec::<usize>::new());
        assert_eq!(evenly_spaced(3, 5), vec![0, 1, 2]);
        assert_eq!(evenly_spaced(5, 5), vec![0, 1, 2, 3, 4]);
    }

    #[test]
    fn a_long_series_keeps_its_ends_and_even_steps() {
        let rows = evenly_spaced(1000, 50);
        assert_eq!(rows.len(), 50);
        assert_eq!((rows[0], rows[49]), (0, 999));
        assert!(rows.windows(2).all(|pair| pair[0] < pair[1]));
        let gaps: Vec<usize> = rows.windows(2).map(|pair| pair[1] - pair[0]).collect();
        assert!(gaps.iter().all(|&gap| gap == 20 || gap == 21), "{gaps:?}");
        assert_eq!(evenly_spaced(10, 1), vec![9]);
        assert_eq!(evenly_spaced(11, 3), vec![0, 5, 10]);
    }
}
