//! `PackedWeights`: a trainer's copies of a model's large dense weights in the GEMM's panel
//! order (`gemm::PanelLayout`), which are the weights it trains. The products read them as they
//! lie and the optimizer updates them there (see `Tape::backward_fused_packed`), so no step packs
//! them; the model's row-major values are written back only when something reads the model.
//! Packing every product's weights was 7-12% of the MLP benchmark's step.

use super::gemm::PanelLayout;
use super::params::{ParamId, ParamRole, Params};
use super::regularization::Regularization;

/// Fewer values than this are packed on the fly as before: packing them costs little, and the
/// playground's small networks then never keep a second copy.
const MIN_VALUES: usize = 16 * 1024;

/// Whether a `[rows, cols]` weight matrix is worth keeping packed.
fn worth_packing(rows: usize, cols: usize) -> bool {
    rows > 8 && cols > 4 && rows * cols >= MIN_VALUES
}

#[derive(Clone, Debug)]
struct Entry {
    layout: PanelLayout,
    data: Vec<f32>,
}

/// The packed copies, by parameter, and how they stand against the model's values.
#[derive(Clone, Debug, Default)]
pub struct PackedWeights {
    entries: Vec<Option<Entry>>,
    /// The copies hold the model's values (false until packed, and after the model is
    /// written to from outside).
    current: bool,
    /// The copies are newer than the model's values (trained since the last write-back).
    newer: bool,
}

impl PackedWeights {
    /// Keeps packed those of `candidates` (weights a training pass reads only as a dense
    /// layer's weights and updates during the pass) that are large enough, writing back and
    /// forgetting any other first.
    pub fn choose(&mut self, params: &mut Params, candidates: &[ParamId]) {
        let chosen: Vec<ParamId> = candidates
            .iter()
            .copied()
            .filter(|&id| match params.value(id).shape() {
                &[rows, cols] => worth_packing(rows, cols),
                _ => false,
            })
            .collect();
        let kept: Vec<ParamId> = self.ids().collect();
        if kept == chosen {
            return;
        }
        self.write_back(params);
        self.entries.clear();
        for id in chosen {
            let &[rows, cols] = params.value(id).shape() else {
                unreachable!("chosen above for being a matrix")
            };
            let layout = PanelLayout::new(rows, cols);
            if self.entries.len() <= id.0 {
                self.entries.resize(id.0 + 1, None);
            }
            self.entries[id.0] = Some(Entry {
                layout,
                data: vec![0.0; layout.len()],
            });
        }
        self.current = false;
    }

    /// The parameters kept packed, in order.
    pub fn ids(&self) -> impl Iterator<Item = ParamId> + '_ {
        self.entries
            .iter()
            .enumerate()
            .filter(|(_, entry)| entry.is_some())
            .map(|(index, _)| ParamId(index))
    }

    /// Packs the model's values unless the copies hold them already.
    pub fn refresh(&mut self, params: &Params) {
        if self.current {
            return;
        }
        for (index, entry) in self.entries.iter_mut().enumerate() {
            if let Some(Entry { layout, data }) = entry {
                layout.pack(params.value(ParamId(index)).data(), data);
            }
        }
        self.current = true;
        self.newer = false;
    }

    /// Parameter `id`'s layout and packed values, if it is kept packed.
    pub fn get(&self, id: ParamId) -> Option<(&PanelLayout, &[f32])> {
        let entry = self.entries.get(id.0)?.as_ref()?;
        Some((&entry.layout, &entry.data))
    }

    pub fn get_mut(&mut self, id: ParamId) -> Option<(&PanelLayout, &mut [f32])> {
        let entry = self.entries.get_mut(id.0)?.as_mut()?;
        Some((&entry.layout, &mut entry.data))
    }

    pub fn layout(&self, id: ParamId) -> Option<PanelLayout> {
        self.get(id).map(|(layout, _)| *layout)
    }

    /// The copies have been trained: the model's values are behind.
    pub fn mark_trained(&mut self) {
        self.newer = self.entries.iter().any(Option::is_some);
    }

    /// Whether the model's values are behind the copies.
    pub fn is_newer(&self) -> bool {
        self.newer
    }

    /// The model is about to be written to from outside: the copies no longer hold it.
    pub fn invalidate(&mut self) {
        self.current = false;
    }

    /// Brings the model's values up to the copies (nothing if they are not behind).
    pub fn write_back(&mut self, params: &mut Params) {
        if self.newer {
            self.write_into(params);
            self.newer = false;
        }
    }

    /// Writes the copies into `params` (the model's, or a copy of it).
    pub fn write_into(&self, params: &mut Params) {
        for (index, entry) in self.entries.iter().enumerate() {
            if let Some(Entry { layout, data }) = entry {
                layout.unpack(data, params.value_mut(ParamId(index)).data_mut());
            }
        }
    }

    /// `regularization`'s penalty at `rate` over the model's weights as they now stand: the
    /// packed copies' values (not their padding) where kept, the model's elsewhere.
    pub fn penalty(&self, params: &Params, regularization: Regularization, rate: f32) -> f32 {
        if regularization == Regularization::None || rate == 0.0 {
            return 0.0;
        }
        let mut total = 0.0f64;
        for id in params
            .ids()
            .filter(|&id| params.role(id) == ParamRole::Weight)
        {
            match self.get(id) {
                Some((layout, data)) => {
                    layout.for_each_piece(data, |piece| total += regularization.sum_of(piece))
                }
                None => total += regularization.sum_of(params.value(id).data()),
            }
        }
        (f64::from(rate) * total) as f32
    }
}
