//! The CPU deep-learning engine: tensors, an autograd tape, dense layers, losses, optimizers and
//! a trainer. No web dependency: it builds and is tested natively and compiles to wasm32.
//!
//! The pieces, from the bottom up: [`Tensor`] holds numbers; a [`Tape`] records [`Op`]s on them
//! and replays forward and backward; [`Params`] holds the learnable tensors outside any tape;
//! [`Dense`] layers stack into a [`Model`]; image networks are a [`Sequential`] of convolution,
//! pooling, dense, batch normalisation and dropout layers; a [`Trainer`] fits either (both are
//! [`Trainable`]) with a [`Loss`], an optimizer ([`OptimizerConfig`]) and a [`Regularization`].
//! Tapes are recorded for a [`Mode`]: training or evaluation. [`TrainingEngine`] is what a
//! training run drives, the CPU [`Trainer`] or a GPU trainer alike.

pub mod activation;
pub mod batch_norm;
pub mod checkpoint;
pub mod dense;
pub mod description;
pub mod dropout;
pub mod error;
pub mod fast_exp;
pub mod fused_update;
pub mod gemm;
pub mod init;
pub mod layers;
pub mod loss;
pub mod model;
pub mod model_file;
pub mod model_tape;
pub mod ops;
pub mod optimizer;
pub mod packed_weights;
pub mod params;
pub mod pytorch_script;
pub mod regularization;
pub mod rng;
pub mod sequential;
pub mod softmax;
#[cfg(all(target_arch = "wasm32", target_feature = "relaxed-simd"))]
pub mod tanh_wasm;
pub mod tape;
pub mod tensor;
pub mod trainable;
pub mod trainer;
pub mod training_engine;

pub use activation::Activation;
pub use batch_norm::{BatchNorm, BatchNormNodes};
pub use dense::{Dense, DenseConfig, DenseNodes};
pub use description::{Described, Description};
pub use dropout::DropoutNodes;
pub use error::EngineError;
pub use fused_update::FusedUpdate;
pub use init::Initializer;
pub use layers::{
    Attention, AvgPool2d, BatchNormLayer, Cell, Columns, Conv2d, DecoderStep, DenseLayer, Dropout,
    Flatten, Gru, Layer, LayerConfig, Lstm, MaxPool2d, Pooling, RecurrentNodes, RecurrentWeights,
    Rnn, RnnWeights, Seq2Seq, Seq2SeqNodes, Seq2SeqWeights, Setting, SettingValue, StepNodes,
};
pub use loss::{Loss, OutputTransform};
pub use model::{LayerSpec, Model, ModelConfig};
pub use model_file::{OpenedModel, read_model, write_model};
pub use model_tape::{Mode, ModelTape};
pub use ops::{NormStatistics, Op, Scratch, output_side};
pub use optimizer::{
    Moments, Optimizer, OptimizerConfig, OptimizerKind, OptimizerState, OptimizerStep,
};
pub use packed_weights::PackedWeights;
pub use params::{ParamId, ParamRole, Params};
pub use regularization::Regularization;
pub use rng::SeededRng;
pub use sequential::{LayerSummary, Sequential, SequentialConfig};
pub use tape::{Node, NodeId, Tape};
pub use tensor::Tensor;
pub use trainable::Trainable;
pub use trainer::{Evaluation, TrainConfig, Trainer, TrainerState, clip_gradients};
pub use training_engine::{Pending, TrainingEngine};
