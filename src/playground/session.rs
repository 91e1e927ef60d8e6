//! A training session: the data, the model and its trainer, the loss history, and the snapshot
//! of everything the views draw.

mod saved_work;

pub use saved_work::OpenedWork;

use super::backprop::{self, Trace};
use super::config::{PlaygroundConfig, ProblemType};
use super::grid::Grid;
use super::loss_curve::LossCurve;
use crate::data::points_csv::PointsFile;
use crate::data::{self, DatasetKind, Point, features_to_tensor, points_to_targets};
use crate::engine::trainer::TrainerState;
use crate::engine::{EngineError, Evaluation, Model, Tensor, Trainer};

/// Cells per side of the output heatmap.
pub const OUTPUT_RESOLUTION: usize = 100;
/// Neuron thumbnails take every `THUMBNAIL_STRIDE`-th cell of the output grid.
pub const THUMBNAIL_STRIDE: usize = 2;
/// A loss above this is treated as divergence even while it is still finite.
const DIVERGED_LOSS: f32 = 1e6;

const NOT_EVALUATED: Evaluation = Evaluation {
    loss: f32::NAN,
    accuracy: 0.0,
};

/// Losses after one epoch (NaN where there was nothing to evaluate: saved as `null`).
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LossRecord {
    pub epoch: usize,
    #[serde(with = "super::loss_curve::loss_or_null")]
    pub train: f32,
    #[serde(with = "super::loss_curve::loss_or_null")]
    pub test: f32,
}

/// What the views draw, taken once per frame.
#[derive(Clone, Debug, PartialEq)]
pub struct Snapshot {
    pub epoch: usize,
    pub train: Evaluation,
    pub test: Evaluation,
    /// Neurons per layer, the inputs first and the outputs last.
    pub layer_sizes: Vec<usize>,
    /// `weights[l][i * layer_sizes[l + 1] + j]` is the weight from neuron i of layer l to
    /// neuron j of layer l + 1.
    pub weights: Vec<Vec<f32>>,
    /// `biases[l][j]` is the bias of neuron j of layer l + 1.
    pub biases: Vec<Vec<f32>>,
    /// The decision boundary: `OUTPUT_RESOLUTION²` values in [-1, 1], row 0 at the top.
    pub output_heatmap: Vec<f32>,
    /// `neuron_heatmaps[l][j]`: neuron j of layer l (inputs first) on the thumbnail grid.
    pub neuron_heatmaps: Vec<Vec<Vec<f32>>>,
    /// The losses epoch by epoch, as an envelope of at most
    /// [`CHART_POINTS`](crate::playground::loss_curve::CHART_POINTS)
    /// records once there are more ([`LossCurve::points`]).
    pub history: Vec<LossRecord>,
    /// `twins[l][j]`: an earlier neuron of the same layer with exactly the same incoming
    /// weights and bias (they compute the same function and get the same gradient: symmetry).
    pub twins: Vec<Vec<Option<usize>>>,
    /// When every hidden layer is linear, the single layer the whole network collapses into.
    pub collapsed: Option<CollapsedLayer>,
    /// Whether the grid's outputs (heatmaps and thumbnails) were computed on the GPU.
    pub grid_on_gpu: bool,
}

/// `x · weights + biases`, the one linear map a stack of linear layers amounts to.
#[derive(Clone, Debug, PartialEq)]
pub struct CollapsedLayer {
    /// `[inputs][outputs]`.
    pub weights: Vec<Vec<f32>>,
    pub biases: Vec<f32>,
}

impl Snapshot {
    pub fn thumbnail_resolution() -> usize {
        OUTPUT_RESOLUTION / THUMBNAIL_STRIDE
    }

    pub fn weight(&self, layer: usize, from: usize, to: usize) -> f32 {
        self.weights[layer][from * self.layer_sizes[layer + 1] + to]
    }
}

pub struct Session {
    config: PlaygroundConfig,
    train_points: Vec<Point>,
    test_points: Vec<Point>,
    train_inputs: Tensor,
    train_targets: Tensor,
    test_inputs: Tensor,
    test_targets: Tensor,
    trainer: Trainer,
    grid: Grid,
    /// Per input feature, the largest magnitude on the grid (scales the input thumbnails).
    feature_scales: Vec<f32>,
    /// The losses so far, as the chart draws them.
    history: LossCurve,
    train_evaluation: Evaluation,
    test_evaluation: Evaluation,
    /// The parameters before the epoch in progress, put back if that epoch diverges so the
    /// learner keeps their network.
    checkpoint: Vec<Tensor>,
    notice: Option<String>,
    /// Epochs trained elsewhere (on the GPU) whose weights this session adopted: the CPU
    /// trainer's own count does not include them.
    epochs_elsewhere: usize,
    /// The name of the file the points came from, when the learner opened one (until the data
    /// set is generated again).
    data_file: Option<String>,
}

impl Session {
    /// Generates the data and builds a fresh model for a configuration.
    pub fn new(mut config: PlaygroundConfig) -> Result<Session, EngineError> {
        config.normalise();
        let points = data::generate(
            config.dataset,
            config.point_count,
            config.noise,
            config.data_seed,
        );
        let (train_points, test_points) =
            data::split_train_test(points, config.train_fraction, config.data_seed);
        let trainer = Trainer::new(Model::new(&config.model_config())?, config.train_config())?;
        let grid = Grid::new(OUTPUT_RESOLUTION, &config.features)?;
        let feature_scales = (0..config.features.len())
            .map(|column| {
                let rows = 0..grid.inputs.rows();
                rows.map(|row| grid.inputs.get(row, column).abs())
                    .fold(1e-6, f32::max)
            })
            .collect();
        let empty = Tensor::zeros(&[0, 1]);
        let mut session = Session {
            config,
            train_points,
            test_points,
            train_inputs: empty.clone(),
            train_targets: empty.clone(),
            test_inputs: empty.clone(),
            test_targets: empty,
            trainer,
            grid,
            feature_scales,
            history: LossCurve::default(),
            train_evaluation: NOT_EVALUATED,
            test_evaluation: NOT_EVALUATED,
            checkpoint: Vec::new(),
            notice: None,
            epochs_elsewhere: 0,
            data_file: None,
        };
        if let Some(parameters) = session.config.parameters.take() {
            session.load_link_parameters(&parameters);
        }
        session.refresh_tensors()?;
        session.evaluate()?;
        Ok(session)
    }

    /// Every weight and bias, layer by layer: the weights row by row, then the biases.
    pub fn parameters(&self) -> Vec<f32> {
        let model = self.model();
        let sizes = model.layer_sizes();
        let mut values = Vec::new();
        for layer in 0..sizes.len() - 1 {
            for from in 0..sizes[layer] {
                values.extend((0..sizes[layer + 1]).map(|to| model.weight(layer, from, to)));
            }
            values.extend((0..sizes[layer + 1]).map(|neuron| model.bias(layer, neuron)));
        }
        values
    }

    /// Sets every weight and bias from the layout of [`Session::parameters`].
    pub fn load_parameters(&mut self, values: &[f32]) -> Result<(), EngineError> {
        let model = self.trainer.model_mut();
        let sizes = model.layer_sizes();
        let expected: usize = sizes.windows(2).map(|pair| (pair[0] + 1) * pair[1]).sum();
        if values.len() != expected {
            return Err(EngineError::InvalidConfig(format!(
                "the link holds {} weights and biases but this network has {expected}",
                values.len()
            )));
        }
        let mut next = values.iter().copied();
        for layer in 0..sizes.len() - 1 {
            for from in 0..sizes[layer] {
                for to in 0..sizes[layer + 1] {
                    model.set_weight(layer, from, to, next.next().unwrap_or_default())?;
                }
            }
            for neuron in 0..sizes[layer + 1] {
                model.set_bias(layer, neuron, next.next().unwrap_or_default())?;
            }
        }
        Ok(())
    }

    pub fn config(&self) -> &PlaygroundConfig {
        &self.config
    }

    /// Keeps the Images page's settings (for the URL); the 2-D playground does not use them.
    pub fn set_images_settings(
        &mut self,
        settings: crate::playground::images::training::RunSettings,
    ) {
        self.config.images = settings;
    }

    pub fn set_sequence_settings(
        &mut self,
        settings: crate::playground::sequences::SequenceSettings,
    ) {
        self.config.sequences = settings;
    }

    pub fn set_seq2seq_settings(
        &mut self,
        settings: crate::playground::sequences::seq2seq_settings::Seq2SeqSettings,
    ) {
        self.config.seq2seq = settings;
    }

    pub fn train_points(&self) -> &[Point] {
        &self.train_points
    }

    pub fn test_points(&self) -> &[Point] {
        &self.test_points
    }

    pub fn epoch(&self) -> usize {
        self.trainer.epoch() + self.epochs_elsewhere
    }

    /// The training set as the trainer sees it: inputs `[n, features]`, targets `[n, outputs]`
    /// (what a GPU trainer uploads).
    pub fn training_data(&self) -> (&Tensor, &Tensor) {
        (&self.train_inputs, &self.train_targets)
    }

    /// Takes the weights of `model` (same layers), trained elsewhere for `epoch_losses.len()`
    /// epochs with those mean training losses, e.g. on the GPU: the epoch counter moves on, both
    /// losses are evaluated here and one history entry records them. A loss that diverged
    /// refuses the weights with the CPU path's message, keeping the session's own.
    pub fn adopt_trained(
        &mut self,
        model: &Model,
        epoch_losses: &[f32],
    ) -> Result<(), EngineError> {
        for (index, &loss) in epoch_losses.iter().enumerate() {
            if !(loss.is_finite() && loss <= DIVERGED_LOSS) {
                self.trainer.reset_optimizer();
                let error = diverged(loss, self.epoch() + index, self.config.learning_rate);
                return Err(EngineError::NonFinite(format!(
                    "{error}. The weights from before that were kept."
                )));
            }
        }
        let theirs = model.params();
        if theirs.len() != self.model().params().len() {
            return Err(EngineError::InvalidState(
                "the trained model has other layers than the session's".to_string(),
            ));
        }
        let params = self.trainer.model_mut().params_mut();
        for id in theirs.ids() {
            if params.value(id).shape() != theirs.value(id).shape() {
                return Err(EngineError::InvalidState(
                    "the trained model has other layers than the session's".to_string(),
                ));
            }
        }
        for id in theirs.ids() {
            params.value_mut(id).copy_from(theirs.value(id));
        }
        self.epochs_elsewhere += epoch_losses.len();
        self.evaluate()?;
        if !epoch_losses.is_empty() {
            self.history.push(LossRecord {
                epoch: self.epoch(),
                train: self.train_evaluation.loss,
                test: self.test_evaluation.loss,
            });
        }
        Ok(())
    }

    pub fn model(&self) -> &Model {
        self.trainer.model()
    }

    /// What the trainer keeps besides the weights (optimiser, generator, row order), for an
    /// engine elsewhere (the GPU) to go on with.
    pub fn trainer_state(&self) -> TrainerState {
        self.trainer.state()
    }

    /// Takes up the state of the trainer elsewhere whose weights [`Session::adopt_trained`]
    /// just took, so that the CPU goes on with its optimiser, generator and row order; the
    /// epoch count stays the session's.
    pub fn adopt_trainer_state(&mut self, state: TrainerState) -> Result<(), EngineError> {
        let state = TrainerState {
            epoch: self.trainer.epoch(),
            ..state
        };
        self.trainer.resume(state)
    }

    /// Applies a new configuration, keeping what it allows: the weights survive a change of
    /// learning rate, optimiser, batch size or regularisation; the data survive a change of
    /// network; anything else starts afresh.
    pub fn apply(&mut self, mut config: PlaygroundConfig) -> Result<(), EngineError> {
        config.normalise();
        let parameters = config.parameters.take();
        let same_data = (
            config.dataset,
            config.noise,
            config.point_count,
            config.data_seed,
        ) == (
            self.config.dataset,
            self.config.noise,
            self.config.point_count,
            self.config.data_seed,
        ) && config.train_fraction == self.config.train_fraction;
        let same_model = config.model_config() == self.config.model_config();
        if !same_data || !same_model || config.loss != self.config.loss {
            let mut fresh = Session::new(config)?;
            fresh.notice = fresh.notice.take().or(self.notice.take());
            if same_data {
                // Points the learner added by clicking, or opened from a file, stay.
                fresh.train_points = std::mem::take(&mut self.train_points);
                fresh.test_points = std::mem::take(&mut self.test_points);
                fresh.data_file = self.data_file.take();
                fresh.refresh_tensors()?;
                fresh.evaluate()?;
            }
            *self = fresh;
        } else {
            self.trainer.set_config(config.train_config())?;
            self.config = config;
        }
        if let Some(parameters) = parameters {
            self.load_link_parameters(&parameters);
            self.evaluate()?;
        }
        Ok(())
    }

    /// Loads parameters that came with a link; if they do not fit the network, the network keeps
    /// its initial weights and the notice says why.
    fn load_link_parameters(&mut self, parameters: &[f32]) {
        if let Err(error) = self.load_parameters(parameters) {
            self.notice = Some(format!("The link's weights were not loaded: {error}."));
        }
    }

    /// A message for the learner about something the session decided (taken once).
    pub fn take_notice(&mut self) -> Option<String> {
        self.notice.take()
    }

    /// Starts again from fresh weights (a new seed gives new ones), keeping the data.
    /// Takes the points of the file `name` as the data set: its split, or the page's (the
    /// training share of the points, shuffled by the data seed); a classification or a
    /// regression as its labels say. The network starts afresh on them.
    pub fn adopt_points(&mut self, name: &str, file: PointsFile) -> Result<(), EngineError> {
        let mut config = self.config.clone();
        // The kind of problem follows the data set: one of the same kind as the file's stands
        // in for it in the set-up (and the link).
        if file.regression != config.dataset.is_regression() {
            config.dataset = match file.regression {
                true => DatasetKind::RegressionPlane,
                false => DatasetKind::Circle,
            };
        }
        config.parameters = None;
        self.apply(config)?;
        let (train, test) = match file.split {
            true => (file.train, file.test),
            false => data::split_train_test(
                file.train,
                self.config.train_fraction,
                self.config.data_seed,
            ),
        };
        self.train_points = train;
        self.test_points = test;
        self.data_file = Some(name.to_string());
        self.refresh_tensors()?;
        self.reset()
    }

    /// The name of the file the points came from, if they came from one.
    pub fn data_file(&self) -> Option<&str> {
        self.data_file.as_deref()
    }

    pub fn reset(&mut self) -> Result<(), EngineError> {
        let trainer = Trainer::new(
            Model::new(&self.config.model_config())?,
            self.config.train_config(),
        )?;
        self.trainer = trainer;
        self.epochs_elsewhere = 0;
        self.history.clear();
        self.evaluate()
    }

    /// One pass over the training set in shuffled mini-batches (the rest of the epoch under
    /// way, if one is), then both losses. When the loss diverges, the weights from before the
    /// diverging steps are put back and the error says why.
    pub fn train_epoch(&mut self) -> Result<(), EngineError> {
        while !self.train_epoch_part(&mut || true)? {}
        Ok(())
    }

    /// Trains the next mini-batches of the epoch under way while `keep_going` says so after
    /// each (at least one), so that a frame with a time budget trains an epoch of any size in
    /// slices; returns whether the epoch ended, and then evaluates both losses and records
    /// them. A diverging loss is handled as in [`Session::train_epoch`].
    pub fn train_epoch_part(
        &mut self,
        keep_going: &mut dyn FnMut() -> bool,
    ) -> Result<bool, EngineError> {
        self.save_checkpoint();
        let diverged =
            match self
                .trainer
                .train_epoch_part(&self.train_inputs, &self.train_targets, keep_going)
            {
                Ok(None) => return Ok(false),
                Ok(Some(loss)) if loss.is_finite() && loss <= DIVERGED_LOSS => None,
                Ok(Some(loss)) => Some(diverged(loss, self.epoch(), self.config.learning_rate)),
                Err(error) => Some(error),
            };
        if let Some(error) = diverged {
            self.restore_checkpoint();
            self.trainer.reset_optimizer();
            self.evaluate()?;
            return Err(EngineError::NonFinite(format!(
                "{error}. The weights from before it diverged were kept."
            )));
        }
        self.evaluate()?;
        self.history.push(LossRecord {
            epoch: self.epoch(),
            train: self.train_evaluation.loss,
            test: self.test_evaluation.loss,
        });
        Ok(true)
    }

    /// Whether an epoch trained in slices is under way.
    pub fn in_epoch(&self) -> bool {
        self.trainer.in_epoch()
    }

    /// Sets one weight (layer 0 joins the inputs to the first hidden layer) and re-evaluates.
    pub fn set_weight(
        &mut self,
        layer: usize,
        from: usize,
        to: usize,
        value: f32,
    ) -> Result<(), EngineError> {
        self.trainer
            .model_mut()
            .set_weight(layer, from, to, value)?;
        self.evaluate()
    }

    /// Sets the bias of neuron `neuron` of layer `layer + 1` and re-evaluates.
    pub fn set_bias(&mut self, layer: usize, neuron: usize, value: f32) -> Result<(), EngineError> {
        self.trainer.model_mut().set_bias(layer, neuron, value)?;
        self.evaluate()
    }

    /// One training iteration on training example `example` (wrapping around), step by step.
    /// The link's own example, when it gives one, takes the place of the training points.
    pub fn backprop_trace(&self, example: usize) -> Result<Trace, EngineError> {
        let outputs = self.config.output_count();
        let (inputs, targets) = match &self.config.example {
            Some(features) => {
                let label = Point::new(0.0, 0.0, self.config.example_label);
                let inputs = Tensor::from_vec(&[1, features.len()], features.clone())?;
                (inputs, points_to_targets(&[label], outputs)?)
            }
            None => {
                let index = example % self.train_points.len().max(1);
                let Some(point) = self.train_points.get(index) else {
                    return Err(EngineError::InvalidState(
                        "there are no training points".into(),
                    ));
                };
                let point = std::slice::from_ref(point);
                (
                    features_to_tensor(point, &self.config.features)?,
                    points_to_targets(point, outputs)?,
                )
            }
        };
        let sizes = self.model().layer_sizes();
        let names = |layer: usize, neuron: usize| neuron_name(&self.config, &sizes, layer, neuron);
        backprop::trace(
            self.model(),
            self.config.loss,
            inputs.data(),
            targets.data(),
            self.config.learning_rate,
            &names,
        )
    }

    /// Traces of `count` consecutive training examples from `start`: a mini-batch, example by
    /// example.
    pub fn backprop_batch(&self, start: usize, count: usize) -> Result<Vec<Trace>, EngineError> {
        (start..start + count)
            .map(|example| self.backprop_trace(example))
            .collect()
    }

    /// Applies one gradient-descent step with the mean gradient of a traced mini-batch.
    pub fn apply_batch_update(&mut self, traces: &[Trace]) -> Result<(), EngineError> {
        let Some(first) = traces.first() else {
            return Ok(());
        };
        let (weight_gradients, bias_gradients) = backprop::mean_gradients(traces);
        let step = |values: &[Vec<f32>], gradients: &[Vec<f32>]| -> Vec<Vec<f32>> {
            values
                .iter()
                .zip(gradients)
                .map(|(v, g)| {
                    v.iter()
                        .zip(g)
                        .map(|(v, g)| v - first.learning_rate * g)
                        .collect()
                })
                .collect()
        };
        let mut mean = first.clone();
        mean.new_weights = step(&first.weights, &weight_gradients);
        mean.new_biases = step(&first.biases, &bias_gradients);
        self.apply_update(&mean)
    }

    /// Sets every weight and bias to the values after a traced update.
    pub fn apply_update(&mut self, trace: &Trace) -> Result<(), EngineError> {
        let model = self.trainer.model_mut();
        let sizes = model.layer_sizes();
        for layer in 0..sizes.len() - 1 {
            let outputs = sizes[layer + 1];
            for (k, &value) in trace.new_weights[layer].iter().enumerate() {
                model.set_weight(layer, k / outputs, k % outputs, value)?;
            }
            for (neuron, &value) in trace.new_biases[layer].iter().enumerate() {
                model.set_bias(layer, neuron, value)?;
            }
        }
        self.evaluate()
    }

    /// Adds a training point where the learner clicked.
    pub fn add_point(&mut self, x: f32, y: f32, label: f32) -> Result<(), EngineError> {
        self.train_points.push(Point::new(x, y, label));
        self.refresh_tensors()?;
        self.evaluate()
    }

    pub fn train_evaluation(&self) -> Evaluation {
        self.train_evaluation
    }

    pub fn test_evaluation(&self) -> Evaluation {
        self.test_evaluation
    }

    /// Runs the grid through the network and gathers what the views draw.
    pub fn snapshot(&mut self) -> Result<Snapshot, EngineError> {
        self.trainer.model_mut().forward(&self.grid.inputs)?;
        let model = self.trainer.model();
        let outputs: Vec<&Tensor> = (0..model.layers().len())
            .map(|layer| model.layer_output(layer))
            .collect();
        self.snapshot_of(&outputs, false)
    }

    /// The inputs of the decision-boundary grid, `[cells, features]`.
    pub fn grid_inputs(&self) -> &Tensor {
        &self.grid.inputs
    }

    /// What the views draw, from every layer's output on the grid computed elsewhere (the
    /// GPU): `layer_outputs[l]` is what [`Model::layer_output`] gives for layer `l`.
    pub fn snapshot_with_grid(&self, layer_outputs: &[Tensor]) -> Result<Snapshot, EngineError> {
        let model = self.trainer.model();
        let cells = self.grid.inputs.rows();
        let sizes = model.layer_sizes();
        let fits = layer_outputs.len() == model.layers().len()
            && layer_outputs
                .iter()
                .zip(&sizes[1..])
                .all(|(output, &neurons)| output.shape() == [cells, neurons]);
        if !fits {
            let shapes: Vec<&[usize]> = layer_outputs.iter().map(Tensor::shape).collect();
            return Err(EngineError::shape(
                "grid outputs",
                format!("one [{cells}, neurons] output per layer of {sizes:?}"),
                format!("{shapes:?}"),
            ));
        }
        let outputs: Vec<&Tensor> = layer_outputs.iter().collect();
        self.snapshot_of(&outputs, true)
    }

    /// The snapshot from every layer's output on the grid.
    fn snapshot_of(
        &self,
        layer_outputs: &[&Tensor],
        grid_on_gpu: bool,
    ) -> Result<Snapshot, EngineError> {
        let model = self.trainer.model();
        let layer_sizes = model.layer_sizes();
        let layer_count = layer_sizes.len() - 1;
        let mut weights = Vec::with_capacity(layer_count);
        let mut biases = Vec::with_capacity(layer_count);
        for layer in 0..layer_count {
            let (inputs, outputs) = (layer_sizes[layer], layer_sizes[layer + 1]);
            let mut layer_weights = Vec::with_capacity(inputs * outputs);
            for from in 0..inputs {
                layer_weights.extend((0..outputs).map(|to| model.weight(layer, from, to)));
            }
            weights.push(layer_weights);
            biases.push((0..outputs).map(|to| model.bias(layer, to)).collect());
        }

        let thumbnail_cells = thumbnail_cells();
        let mut neuron_heatmaps = Vec::with_capacity(layer_sizes.len());
        let input_columns = (0..layer_sizes[0]).map(|feature| {
            let scale = self.feature_scales[feature];
            thumbnail_cells
                .iter()
                .map(|&cell| self.grid.inputs.get(cell, feature) / scale)
                .collect()
        });
        neuron_heatmaps.push(input_columns.collect());
        for (layer, &output) in layer_outputs.iter().enumerate() {
            let neurons = layer_sizes[layer + 1];
            if layer + 1 == layer_count {
                let shown = |neuron: usize| {
                    let cells = thumbnail_cells.iter();
                    let values =
                        cells.map(|&cell| display_value(&self.config, output, cell, Some(neuron)));
                    values.collect()
                };
                neuron_heatmaps.push((0..neurons).map(shown).collect());
                continue;
            }
            // Row by row: each grid cell's outputs lie side by side.
            let mut thumbnails = vec![Vec::with_capacity(thumbnail_cells.len()); neurons];
            for &cell in &thumbnail_cells {
                for (thumbnail, value) in thumbnails.iter_mut().zip(output.row(cell)) {
                    thumbnail.push(value.clamp(-1.0, 1.0));
                }
            }
            neuron_heatmaps.push(thumbnails);
        }
        let output = layer_outputs[layer_count - 1];
        let output_heatmap = (0..output.rows())
            .map(|cell| display_value(&self.config, output, cell, None))
            .collect();
        let twins = twins(&layer_sizes, &weights, &biases);
        let collapsed = self.collapsed(&layer_sizes, &weights, &biases);

        Ok(Snapshot {
            epoch: self.epoch(),
            train: self.train_evaluation,
            test: self.test_evaluation,
            layer_sizes,
            weights,
            biases,
            output_heatmap,
            neuron_heatmaps,
            history: self.history.points(),
            twins,
            collapsed,
            grid_on_gpu,
        })
    }

    fn collapsed(
        &self,
        sizes: &[usize],
        weights: &[Vec<f32>],
        biases: &[Vec<f32>],
    ) -> Option<CollapsedLayer> {
        let linear = |a: &crate::engine::Activation| *a == crate::engine::Activation::Linear;
        if self.config.activations.is_empty() || !self.config.activations.iter().all(linear) {
            return None;
        }
        // Start from the identity on the inputs and push it through every layer's affine map.
        let inputs = sizes[0];
        let mut map: Vec<Vec<f32>> = (0..inputs)
            .map(|i| {
                (0..inputs)
                    .map(|k| if i == k { 1.0 } else { 0.0 })
                    .collect()
            })
            .collect();
        let mut offset = vec![0.0; inputs];
        for layer in 0..sizes.len() - 1 {
            let (width, outputs) = (sizes[layer], sizes[layer + 1]);
            let through = |row: &[f32], to: usize| -> f32 {
                (0..width)
                    .map(|k| row[k] * weights[layer][k * outputs + to])
                    .sum()
            };
            map = map
                .iter()
                .map(|row| (0..outputs).map(|to| through(row, to)).collect())
                .collect();
            offset = (0..outputs)
                .map(|to| through(&offset, to) + biases[layer][to])
                .collect();
        }
        Some(CollapsedLayer {
            weights: map,
            biases: offset,
        })
    }

    fn save_checkpoint(&mut self) {
        let params = self.trainer.model().params();
        self.checkpoint.resize_with(params.len(), Tensor::empty);
        for (saved, id) in self.checkpoint.iter_mut().zip(params.ids()) {
            saved.copy_from(params.value(id));
        }
    }

    fn restore_checkpoint(&mut self) {
        let params = self.trainer.model_mut().params_mut();
        for (saved, id) in self.checkpoint.iter().zip(params.ids()) {
            params.value_mut(id).copy_from(saved);
        }
    }

    fn refresh_tensors(&mut self) -> Result<(), EngineError> {
        let outputs = self.config.output_count();
        self.train_inputs = features_to_tensor(&self.train_points, &self.config.features)?;
        self.train_targets = points_to_targets(&self.train_points, outputs)?;
        self.test_inputs = features_to_tensor(&self.test_points, &self.config.features)?;
        self.test_targets = points_to_targets(&self.test_points, outputs)?;
        Ok(())
    }

    fn evaluate(&mut self) -> Result<(), EngineError> {
        self.train_evaluation = self
            .trainer
            .evaluate(&self.train_inputs, &self.train_targets)?;
        self.test_evaluation = if self.test_points.is_empty() {
            self.train_evaluation
        } else {
            self.trainer
                .evaluate(&self.test_inputs, &self.test_targets)?
        };
        Ok(())
    }
}

/// Why training stopped when the loss of epoch `epoch` reached `loss`.
fn diverged(loss: f32, epoch: usize, learning_rate: f32) -> EngineError {
    EngineError::NonFinite(format!(
        "the training loss reached {loss} at epoch {epoch}: training diverged; try a smaller \
         learning rate (now {learning_rate})"
    ))
}

/// How the views name a neuron: the input's feature, "H2.3" for the third neuron of the second
/// hidden layer, or the output.
pub fn neuron_name(
    config: &PlaygroundConfig,
    sizes: &[usize],
    layer: usize,
    neuron: usize,
) -> String {
    if layer == 0 {
        config
            .features
            .get(neuron)
            .map_or("?", |f| f.label())
            .to_string()
    } else if layer + 1 == sizes.len() {
        if sizes[layer] == 1 {
            "the output".into()
        } else {
            format!("output {}", neuron + 1)
        }
    } else {
        format!("H{layer}.{}", neuron + 1)
    }
}

/// For each neuron, the first earlier neuron of its layer with identical incoming weights and bias.
fn twins(sizes: &[usize], weights: &[Vec<f32>], biases: &[Vec<f32>]) -> Vec<Vec<Option<usize>>> {
    let mut twins = vec![vec![None; sizes[0]]];
    for layer in 0..sizes.len() - 1 {
        let (inputs, outputs) = (sizes[layer], sizes[layer + 1]);
        let same = |j: usize, k: usize| {
            biases[layer][j] == biases[layer][k]
                && (0..inputs)
                    .all(|i| weights[layer][i * outputs + j] == weights[layer][i * outputs + k])
        };
        twins.push((0..outputs).map(|j| (0..j).find(|&k| same(j, k))).collect());
    }
    twins
}

/// The grid cells the thumbnails sample.
fn thumbnail_cells() -> Vec<usize> {
    let side = OUTPUT_RESOLUTION / THUMBNAIL_STRIDE;
    (0..side * side)
        .map(|index| {
            let (row, column) = (index / side, index % side);
            row * THUMBNAIL_STRIDE * OUTPUT_RESOLUTION + column * THUMBNAIL_STRIDE
        })
        .collect()
}

/// The network's answer at one grid cell on the heatmaps' [-1, 1] scale: for classification
/// 2p - 1 with p the probability of class 1 (of class `neuron` for an output thumbnail), for
/// regression the output itself. The model's output layer already holds probabilities under
/// the cross-entropy losses.
fn display_value(
    config: &PlaygroundConfig,
    output: &Tensor,
    cell: usize,
    neuron: Option<usize>,
) -> f32 {
    let value = match config.problem {
        ProblemType::Classification => {
            let column = if output.cols() > 1 {
                neuron.unwrap_or(1)
            } else {
                0
            };
            2.0 * output.get(cell, column) - 1.0
        }
        ProblemType::Regression => output.get(cell, 0),
    };
    value.clamp(-1.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Loss;

    /// A file's points replace the data set and stay through a change of network; its split is
    /// kept, or the page's made; a regression file makes the set-up a regression; generating a
    /// data set again drops them.
    #[test]
    fn points_from_a_file_are_the_data_set_until_one_is_generated() {
        let mut session = Session::new(PlaygroundConfig::default()).unwrap();
        let train: Vec<Point> = (0..30)
            .map(|i| Point::new(i as f32 / 10.0, 1.0, 0.5))
            .collect();
        let file = PointsFile {
            train: train.clone(),
            test: Vec::new(),
            split: false,
            regression: true,
        };
        session.adopt_points("plane.csv", file).unwrap();
        assert_eq!(session.data_file(), Some("plane.csv"));
        assert_eq!(session.config().problem, ProblemType::Regression);
        assert_eq!(
            session.train_points().len(),
            15,
            "half of them, as the page splits"
        );
        assert_eq!(session.test_points().len(), 15);
        let mut wider = session.config().clone();
        wider.hidden_layers = vec![5];
        wider.activations = vec![crate::engine::Activation::Relu];
        session.apply(wider.clone()).unwrap();
        assert_eq!(session.data_file(), Some("plane.csv"));
        assert_eq!(
            session.train_points().len() + session.test_points().len(),
            30
        );
        let classes = PointsFile {
            train: vec![Point::new(1.0, 1.0, 1.0), Point::new(-1.0, 1.0, 0.0)],
            test: vec![Point::new(0.0, 2.0, 1.0)],
            split: true,
            regression: false,
        };
        session.adopt_points("two.csv", classes).unwrap();
        assert_eq!(session.config().problem, ProblemType::Classification);
        assert_eq!(
            (session.train_points().len(), session.test_points().len()),
            (2, 1)
        );
        wider.dataset = DatasetKind::Spiral;
        wider.problem = ProblemType::Classification;
        session.apply(wider).unwrap();
        assert_eq!(session.data_file(), None);
        assert_eq!(session.train_points().len(), 250);
    }

    #[test]
    fn a_snapshot_has_a_heatmap_for_every_neuron() {
        let mut session = Session::new(PlaygroundConfig::default()).unwrap();
        let snapshot = session.snapshot().unwrap();
        assert_eq!(snapshot.layer_sizes, [2, 4, 2, 1]);
        assert_eq!(
            snapshot.output_heatmap.len(),
            OUTPUT_RESOLUTION * OUTPUT_RESOLUTION
        );
        let thumbnail_cells = Snapshot::thumbnail_resolution().pow(2);
        for (layer, &size) in snapshot.layer_sizes.iter().enumerate() {
            assert_eq!(snapshot.neuron_heatmaps[layer].len(), size);
            for heatmap in &snapshot.neuron_heatmaps[layer] {
                assert_eq!(heatmap.len(), thumbnail_cells);
                assert!(heatmap.iter().all(|v| (-1.0..=1.0).contains(v)));
            }
        }
    }

    #[test]
    fn all_equal_weights_make_twins_that_stay_twins() {
        let (config, _) = crate::playground::from_hash("init=equal&layers=3,2&dataset=circle");
        let mut session = Session::new(config).unwrap();
        for _ in 0..5 {
            session.train_epoch().unwrap();
        }
        let snapshot = session.snapshot().unwrap();
        assert_eq!(snapshot.twins[1], [None, Some(0), Some(0)]);
        assert_eq!(snapshot.twins[2], [None, Some(0)]);
        let (random, _) = crate::playground::from_hash("layers=3,2");
        let snapshot = Session::new(random).unwrap().snapshot().unwrap();
        assert!(snapshot.twins.iter().flatten().all(Option::is_none));
    }

    #[test]
    fn linear_layers_collapse_into_their_product() {
        let (config, _) = crate::playground::from_hash(
            "layers=3,2&activations=linear,linear&loss=mse&dataset=reg-plane",
        );
        let mut session = Session::new(config).unwrap();
        let collapsed = session
            .snapshot()
            .unwrap()
            .collapsed
            .expect("all hidden layers are linear");
        let (x, y) = (0.3_f32, -1.7_f32);
        let direct =
            collapsed.weights[0][0] * x + collapsed.weights[1][0] * y + collapsed.biases[0];
        let input = Tensor::from_vec(&[1, 2], vec![x, y]).unwrap();
        let model = session.trainer.model_mut();
        model.forward(&input).unwrap();
        let network = model.output().get(0, 0);
        assert!((direct - network).abs() < 1e-5, "{direct} vs {network}");
        let (tanh, _) = crate::playground::from_hash("layers=3,2");
        assert!(
            Session::new(tanh)
                .unwrap()
                .snapshot()
                .unwrap()
                .collapsed
                .is_none()
        );
    }

    #[test]
    fn xor_trains_to_a_low_test_loss() {
        let mut session = Session::new(PlaygroundConfig::default()).unwrap();
        for _ in 0..300 {
            session.train_epoch().unwrap();
        }
        assert!(
            session.test_evaluation().loss < 0.05,
            "{:?}",
            session.test_evaluation()
        );
        assert_eq!(session.snapshot().unwrap().history.len(), 300);
    }

    #[test]
    fn setting_a_weight_changes_the_loss_and_the_boundary() {
        let mut session = Session::new(PlaygroundConfig::default()).unwrap();
        let before = session.snapshot().unwrap();
        session.set_weight(0, 0, 0, 5.0).unwrap();
        let after = session.snapshot().unwrap();
        assert_eq!(after.weight(0, 0, 0), 5.0);
        assert_ne!(before.train.loss, after.train.loss);
        assert_ne!(before.output_heatmap, after.output_heatmap);
    }

    #[test]
    fn softmax_cross_entropy_has_two_output_neurons() {
        let config = PlaygroundConfig {
            loss: Loss::SoftmaxCrossEntropy,
            ..PlaygroundConfig::default()
        };
        let mut session = Session::new(config).unwrap();
        let snapshot = session.snapshot().unwrap();
        assert_eq!(snapshot.layer_sizes.last(), Some(&2));
        session.train_epoch().unwrap();
    }

    #[test]
    fn a_huge_learning_rate_stops_with_a_reason() {
        let config = PlaygroundConfig {
            dataset: crate::data::DatasetKind::RegressionPlane,
            loss: Loss::MeanSquaredError,
            activations: vec![crate::engine::Activation::Linear; 2],
            optimizer: crate::engine::OptimizerKind::Sgd,
            learning_rate: 10.0,
            ..PlaygroundConfig::default()
        };
        let mut session = Session::new(config).unwrap();
        let before = session.model().weight(0, 0, 0);
        let error = session
            .train_epoch()
            .expect_err("diverges in the first epoch");
        assert!(error.to_string().contains("loss"), "{error}");
        assert_eq!(
            session.model().weight(0, 0, 0),
            before,
            "the weights were put back"
        );
        assert!(session.train_evaluation().loss.is_finite());
    }

    #[test]
    fn weights_trained_elsewhere_are_adopted_with_their_epochs() {
        let mut session = Session::new(PlaygroundConfig::default()).unwrap();
        let mut elsewhere = Session::new(PlaygroundConfig::default()).unwrap();
        for _ in 0..3 {
            elsewhere.train_epoch().unwrap();
        }
        session
            .adopt_trained(elsewhere.model(), &[0.5, 0.4, 0.3])
            .unwrap();
        assert_eq!(session.epoch(), 3);
        assert_eq!(session.parameters(), elsewhere.parameters());
        assert_eq!(
            session.test_evaluation().loss,
            elsewhere.test_evaluation().loss
        );
        assert_eq!(session.snapshot().unwrap().history.len(), 1);

        let before = session.parameters();
        let error = session
            .adopt_trained(
                &Model::new(&session.config().model_config()).unwrap(),
                &[0.2, f32::NAN],
            )
            .expect_err("a NaN loss is refused");
        assert!(error.to_string().contains("diverged"), "{error}");
        assert_eq!(session.parameters(), before, "the last good weights stay");
        assert_eq!(session.epoch(), 3);
        session.reset().unwrap();
        assert_eq!(session.epoch(), 0);
    }

    #[test]
    fn changing_the_learning_rate_keeps_the_weights() {
        let mut session = Session::new(PlaygroundConfig::default()).unwrap();
        session.train_epoch().unwrap();
        let weight = session.model().weight(0, 0, 0);
        let config = PlaygroundConfig {
            learning_rate: 0.3,
            ..session.config().clone()
        };
        session.apply(config).unwrap();
        assert_eq!(session.model().weight(0, 0, 0), weight);
        assert_eq!(session.epoch(), 1);
        let config = PlaygroundConfig {
            hidden_layers: vec![3],
            ..session.config().clone()
        };
        session.apply(config).unwrap();
        assert_eq!(session.epoch(), 0);
        assert_eq!(session.model().layer_sizes(), [2, 3, 1]);
    }
}

#[cfg(test)]
mod link_tests {
    use super::*;
    use crate::playground::from_hash;

    #[test]
    fn parameters_survive_a_link() {
        let mut session = Session::new(PlaygroundConfig::default()).unwrap();
        session.train_epoch().unwrap();
        let mut config = session.config().clone();
        config.parameters = Some(session.parameters());
        let (read, rejected) = from_hash(&crate::playground::to_hash(&config));
        assert!(rejected.is_empty(), "{rejected:?}");
        let restored = Session::new(read).unwrap();
        assert_eq!(restored.parameters(), session.parameters());
    }

    #[test]
    fn parameters_that_do_not_fit_are_refused_with_a_notice() {
        let (config, _) = from_hash("layers=2&parameters=1,2,3");
        let mut session = Session::new(config).unwrap();
        let notice = session.take_notice().expect("a notice");
        assert!(
            notice.contains("holds 3 weights and biases but this network has 9"),
            "{notice}"
        );
    }

    #[test]
    fn the_single_layer_lesson_computes_11_5_and_9_3() {
        let lesson = crate::playground::lessons::find("single-layer").unwrap();
        let (config, _) = from_hash(&lesson.link());
        let mut session = Session::new(config).unwrap();
        assert_eq!(session.take_notice(), None);
        assert_eq!(session.parameters(), [3.0, 7.0, 4.0, 1.0, 0.5, 0.3]);
        let trace = session.backprop_trace(0).unwrap();
        assert_eq!(trace.inputs, [1.0, 2.0], "{:?}", trace.steps[0]);
        assert_eq!(trace.neurons[0][0].weighted_sum, 11.5);
        assert!((trace.neurons[0][1].weighted_sum - 9.3).abs() < 1e-6);
    }
}
