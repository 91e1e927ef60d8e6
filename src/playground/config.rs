//! Everything the learner can set: data, features, network, training. One table of properties,
//! serialised to the URL as in TensorFlow Playground.

use super::images::training::RunSettings;
use super::page::Page;
use super::sequences::SequenceSettings;
use super::sequences::seq2seq_settings::Seq2SeqSettings;
use crate::data::{DatasetKind, Feature};
use crate::engine::{
    Activation, Initializer, LayerSpec, Loss, ModelConfig, OptimizerConfig, OptimizerKind,
    Regularization, TrainConfig,
};

/// Most hidden layers a network may have.
pub const MAX_HIDDEN_LAYERS: usize = 8;
/// Most neurons in one hidden layer.
pub const MAX_NEURONS: usize = 16;
/// The learning rates offered in the menu (any positive value is accepted from a URL).
pub const LEARNING_RATES: [f32; 12] = [
    0.00001, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0,
];
/// The regularisation rates offered in the menu.
pub const REGULARIZATION_RATES: [f32; 9] = [0.0, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0];

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ProblemType {
    Classification,
    Regression,
}

impl ProblemType {
    pub fn key(self) -> &'static str {
        match self {
            ProblemType::Classification => "classification",
            ProblemType::Regression => "regression",
        }
    }

    pub fn from_key(key: &str) -> Option<ProblemType> {
        [ProblemType::Classification, ProblemType::Regression]
            .into_iter()
            .find(|p| p.key() == key)
    }
}

/// The weight initialisers offered, with the scale the playground uses for the plain ones.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum InitChoice {
    Xavier,
    He,
    Uniform,
    Normal,
    AllEqual,
    Zeros,
}

impl InitChoice {
    pub const ALL: [InitChoice; 6] = [
        InitChoice::Xavier,
        InitChoice::He,
        InitChoice::Uniform,
        InitChoice::Normal,
        InitChoice::AllEqual,
        InitChoice::Zeros,
    ];

    pub fn key(self) -> &'static str {
        match self {
            InitChoice::Xavier => "xavier",
            InitChoice::He => "he",
            InitChoice::Uniform => "uniform",
            InitChoice::Normal => "normal",
            InitChoice::AllEqual => "equal",
            InitChoice::Zeros => "zeros",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            InitChoice::Xavier => "Xavier / Glorot",
            InitChoice::He => "He",
            InitChoice::Uniform => "Uniform ±0.5",
            InitChoice::Normal => "Normal σ=0.5",
            InitChoice::AllEqual => "All equal (0.5)",
            InitChoice::Zeros => "Zeros",
        }
    }

    pub fn from_key(key: &str) -> Option<InitChoice> {
        InitChoice::ALL
            .into_iter()
            .find(|choice| choice.key() == key)
    }

    pub fn initializer(self) -> Initializer {
        match self {
            InitChoice::Xavier => Initializer::XavierUniform,
            InitChoice::He => Initializer::HeUniform,
            InitChoice::Uniform => Initializer::Uniform { limit: 0.5 },
            InitChoice::Normal => Initializer::Normal { std: 0.5 },
            InitChoice::AllEqual => Initializer::Constant(0.5),
            InitChoice::Zeros => Initializer::Zeros,
        }
    }
}

/// The whole state a link reproduces.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PlaygroundConfig {
    /// Which page of the app is open.
    pub page: Page,
    pub dataset: DatasetKind,
    /// 0 (clean) to 0.5.
    pub noise: f32,
    /// Share of the points used for training, 0.1 to 0.9.
    pub train_fraction: f32,
    pub point_count: usize,
    pub data_seed: u64,
    pub features: Vec<Feature>,
    /// Neurons in each hidden layer.
    pub hidden_layers: Vec<usize>,
    /// The activation of each hidden layer (same length as `hidden_layers`).
    pub activations: Vec<Activation>,
    pub init: InitChoice,
    pub loss: Loss,
    pub optimizer: OptimizerKind,
    pub learning_rate: f32,
    pub batch_size: usize,
    pub regularization: Regularization,
    pub regularization_rate: f32,
    pub problem: ProblemType,
    pub show_test_data: bool,
    pub discretize: bool,
    /// Seeds the weights and the order of the mini-batches.
    pub seed: u64,
    /// The lesson whose explanation is shown, if any.
    pub lesson: Option<String>,
    /// Every weight and bias to start from, layer by layer (weights row by row, then biases),
    /// instead of the initialiser's: how a link carries a trained or hand-set network.
    pub parameters: Option<Vec<f32>>,
    /// An example of the stepper's own (input features), instead of a training point.
    pub example: Option<Vec<f32>>,
    /// The class (or regression target) of `example`.
    pub example_label: f32,
    /// A model the link carries for the Images or Sequences page (`model_link`'s field: the
    /// page's model file, deflated, in URL-safe base64), opened when that page opens; never
    /// written back to the link by itself, nor saved in a model file.
    /// Shared, not copied: the app hands it to its pages at every render.
    #[serde(skip)]
    pub model_link: Option<std::rc::Rc<str>>,
    /// The Images page's network and how it trains.
    pub images: RunSettings,
    /// The Sequences page's task, network and how it trains.
    pub sequences: SequenceSettings,
    /// The Seq2seq page's task, encoder-decoder and how it trains.
    #[serde(default)]
    pub seq2seq: Seq2SeqSettings,
}

impl Default for PlaygroundConfig {
    fn default() -> Self {
        PlaygroundConfig {
            page: Page::Playground,
            dataset: DatasetKind::Xor,
            noise: 0.0,
            train_fraction: 0.5,
            point_count: 500,
            data_seed: 1,
            features: vec![Feature::X1, Feature::X2],
            hidden_layers: vec![4, 2],
            activations: vec![Activation::Tanh, Activation::Tanh],
            init: InitChoice::Xavier,
            loss: Loss::BinaryCrossEntropy,
            optimizer: OptimizerKind::Sgd,
            learning_rate: 0.03,
            batch_size: 10,
            regularization: Regularization::None,
            regularization_rate: 0.0,
            problem: ProblemType::Classification,
            show_test_data: false,
            discretize: false,
            seed: 1,
            lesson: None,
            parameters: None,
            example: None,
            example_label: 0.0,
            model_link: None,
            images: RunSettings::default(),
            sequences: SequenceSettings::default(),
            seq2seq: Seq2SeqSettings::default(),
        }
    }
}

impl PlaygroundConfig {
    /// Outputs of the network: two logits with softmax cross-entropy, otherwise one neuron.
    pub fn output_count(&self) -> usize {
        if self.loss == Loss::SoftmaxCrossEntropy {
            2
        } else {
            1
        }
    }

    /// The activation of the output layer as the engine builds it. The fused losses take
    /// logits, so their output layer is linear and the probabilities are computed for display.
    pub fn engine_output_activation(&self) -> Activation {
        match self.loss {
            Loss::BinaryCrossEntropy | Loss::SoftmaxCrossEntropy => Activation::Linear,
            // MSE and MAE on class labels 0 and 1 want an output in [0, 1].
            Loss::MeanSquaredError | Loss::HalfSquaredError | Loss::MeanAbsoluteError => {
                match self.problem {
                    ProblemType::Classification => Activation::Sigmoid,
                    ProblemType::Regression => Activation::Linear,
                }
            }
        }
    }

    /// Keeps the configuration inside what the playground can build: the activation list
    /// matches the layers, sizes are clamped, the loss suits the problem.
    pub fn normalise(&mut self) {
        self.hidden_layers.truncate(MAX_HIDDEN_LAYERS);
        for neurons in &mut self.hidden_layers {
            *neurons = (*neurons).clamp(1, MAX_NEURONS);
        }
        let fill = self.activations.last().copied().unwrap_or(Activation::Tanh);
        self.activations.resize(self.hidden_layers.len(), fill);
        self.noise = self.noise.clamp(0.0, 0.5);
        self.train_fraction = self.train_fraction.clamp(0.1, 0.9);
        self.point_count = self.point_count.clamp(10, 2000);
        self.batch_size = self.batch_size.clamp(1, 1000);
        // The diagram lists features in a fixed order; the network's inputs follow it.
        self.features = Feature::ALL
            .into_iter()
            .filter(|f| self.features.contains(f))
            .collect();
        if self.features.is_empty() {
            self.features = vec![Feature::X1, Feature::X2];
        }
        self.problem = if self.dataset.is_regression() {
            ProblemType::Regression
        } else {
            ProblemType::Classification
        };
        if self.problem == ProblemType::Regression
            && matches!(
                self.loss,
                Loss::BinaryCrossEntropy | Loss::SoftmaxCrossEntropy
            )
        {
            self.loss = Loss::MeanSquaredError;
        }
    }

    pub fn model_config(&self) -> ModelConfig {
        let hidden = self.hidden_layers.iter().zip(&self.activations);
        let mut layers: Vec<LayerSpec> = hidden
            .map(|(&neurons, &activation)| LayerSpec {
                neurons,
                activation,
            })
            .collect();
        layers.push(LayerSpec {
            neurons: self.output_count(),
            activation: self.engine_output_activation(),
        });
        ModelConfig {
            inputs: self.features.len(),
            layers,
            initializer: self.init.initializer(),
            seed: self.seed,
        }
    }

    pub fn train_config(&self) -> TrainConfig {
        TrainConfig {
            loss: self.loss,
            optimizer: OptimizerConfig::new(self.optimizer, self.learning_rate),
            batch_size: self.batch_size,
            regularization: self.regularization,
            regularization_rate: self.regularization_rate,
            seed: self.seed,
            clip_norm: None,
            truncation: None,
        }
    }
}
