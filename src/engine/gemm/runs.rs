//! `Runs`: where the values of one band of a product lie in the matrix it belongs to, as a few
//! equally long, equally spaced runs of contiguous floats. A band of a row-major matrix is one
//! run; a band of weights kept in panels (see `panel_layout.rs`) is one run per panel.

/// `count` runs of `len` floats, the first from offset `first`, each `stride` floats after the
/// one before. The band's own values are the runs one after the other.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Runs {
    pub first: usize,
    pub len: usize,
    pub stride: usize,
    pub count: usize,
}

impl Runs {
    /// One run: floats `first..first + len`.
    pub fn contiguous(first: usize, len: usize) -> Runs {
        Runs {
            first,
            len,
            stride: len,
            count: 1,
        }
    }

    /// Floats in all the runs together (the band's length).
    pub fn total(&self) -> usize {
        self.len * self.count
    }

    /// Run `index`'s offsets in the matrix.
    pub fn range(&self, index: usize) -> std::ops::Range<usize> {
        let start = self.first + index * self.stride;
        start..start + self.len
    }

    /// Each run's offsets in the matrix beside its offsets in the band.
    pub fn pairs(&self) -> impl Iterator<Item = (std::ops::Range<usize>, std::ops::Range<usize>)> {
        let runs = *self;
        (0..runs.count).map(move |index| {
            let in_band = index * runs.len;
            (runs.range(index), in_band..in_band + runs.len)
        })
    }

    /// One past the last offset any run reaches (0 for no runs).
    pub fn end(&self) -> usize {
        match self.count {
            0 => 0,
            count => self.range(count - 1).end,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_pair_each_stretch_of_the_matrix_with_its_place_in_the_band() {
        let runs = Runs {
            first: 5,
            len: 3,
            stride: 10,
            count: 3,
        };
        let pairs: Vec<_> = runs.pairs().collect();
        assert_eq!(pairs, [(5..8, 0..3), (15..18, 3..6), (25..28, 6..9)]);
        assert_eq!((runs.total(), runs.end()), (9, 28));
        assert_eq!(
            Runs::contiguous(4, 6).pairs().collect::<Vec<_>>(),
            [(4..10, 0..6)]
        );
    }
}
