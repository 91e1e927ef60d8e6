//! Model files: a [`Sequential`] network and its weights as one `.safetensors` file whose tensor
//! names and layouts are PyTorch's, so that `model.load_state_dict(load_file(path))` fills the
//! same network built with `torch.nn`, and a file PyTorch wrote opens back here.
//!
//! Layer `i` of the network is module `i` of an `nn.Sequential`:
//! - a dense layer: `i.weight` `[out, in]` (ours is `[in, out]`), `i.bias`;
//! - a convolution: `i.weight` `[out, in, k, k]`, `i.bias`;
//! - batch normalisation: `i.weight` (γ), `i.bias` (β), `i.running_mean`, `i.running_var`, and
//!   `i.num_batches_tracked` (an int64 PyTorch keeps; written as 0, ignored when read);
//! - an RNN or an LSTM: `nn.RNN`'s and `nn.LSTM`'s `i.weight_ih_l0` `[gates·hidden, features]`,
//!   `i.weight_hh_l0` `[gates·hidden, hidden]`, `i.bias_ih_l0` and `i.bias_hh_l0` (ours is one
//!   `W` of `[hidden + features, gates·hidden]`, state rows first, and one bias: written as
//!   `bias_ih`, with `bias_hh` zeros; read as their sum). PyTorch orders an LSTM's gates
//!   i, f, g (= C~), o; ours are f, i, o, C~;
//! - a GRU, the course's cell (the reset gate multiplies the state before its product with the
//!   weights, unlike `nn.GRU`): `i.weight_ih` `[3·hidden, features]`, `i.weight_hh`
//!   `[3·hidden, hidden]` and `i.bias`, the gates in our order z, r, h~;
//! - an encoder-decoder (`seq2seq`): `i.source_embedding.weight` and
//!   `i.target_embedding.weight` (`nn.Embedding`'s `[tokens, size]`), its cells as above under
//!   `i.encoder.` and `i.decoder.`, additive attention's `nn.Linear` weights (no bias)
//!   `i.attention.query.weight`, `i.attention.key.weight` and `i.attention.score.weight`, and the
//!   output layer's `i.output.weight` and `i.output.bias`;
//! - pooling, flatten and dropout: nothing.
//!
//! The file's metadata holds the network's description (`network`, the JSON of its
//! [`SequentialConfig`]), what made it (`format`, `version`), and optionally the page's settings
//! (`settings`, JSON the page reads back). A file is read in full before anything changes, and
//! whatever is wrong with it is said in words.

use std::collections::HashMap;

use safetensors::tensor::{Dtype, SafeTensors, TensorView};

use super::layers::{Attention, Cell, LayerConfig};
use super::params::ParamId;
use super::sequential::{Sequential, SequentialConfig};
use super::tensor::Tensor;

/// The `format` of our files' metadata.
pub const FORMAT: &str = "neural-playground";
/// The version of the layout this module writes; it reads this one and those before it.
pub const VERSION: u32 = 1;
/// The largest network a file may describe, in scalars.
pub const MAX_PARAMETERS: usize = 50_000_000;
/// How many more scalars than a file holds its network may have before it is refused unread
/// (beyond that, a tensor is surely missing; below it, the missing tensor is named).
const SLACK: usize = 65_536;

/// A network read from a file, and the settings saved with it.
#[derive(Debug)]
pub struct OpenedModel {
    pub network: Sequential,
    /// The page's settings, as saved (JSON), if any.
    pub settings: Option<String>,
}

/// One tensor as written to a file (a model file, or a checkpoint around one).
pub(super) struct Named {
    pub(super) name: String,
    pub(super) dtype: Dtype,
    pub(super) shape: Vec<usize>,
    pub(super) bytes: Vec<u8>,
}

impl Named {
    pub(super) fn floats(name: String, shape: Vec<usize>, values: &[f32]) -> Named {
        let bytes = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        Named {
            name,
            dtype: Dtype::F32,
            shape,
            bytes,
        }
    }
}

/// `network`'s weights and description (and the page's `settings`, JSON) as a `.safetensors`
/// file.
pub fn write_model(network: &Sequential, settings: Option<&str>) -> Result<Vec<u8>, String> {
    let mut tensors = Vec::new();
    for (index, layer) in network.config().layers.iter().enumerate() {
        tensors.extend(export_layer(network, index, layer));
    }
    let description = serde_json::to_string(network.config())
        .map_err(|error| format!("the network cannot be described: {error}"))?;
    let mut metadata = HashMap::from([
        ("format".to_string(), FORMAT.to_string()),
        ("version".to_string(), VERSION.to_string()),
        ("network".to_string(), description),
    ]);
    if let Some(settings) = settings {
        metadata.insert("settings".to_string(), settings.to_string());
    }
    serialize(&tensors, metadata)
}

/// `tensors` and `metadata` as the bytes of a `.safetensors` file.
pub(super) fn serialize(
    tensors: &[Named],
    metadata: HashMap<String, String>,
) -> Result<Vec<u8>, String> {
    let views: Vec<(String, TensorView<'_>)> = tensors
        .iter()
        .map(|tensor| {
            let view = TensorView::new(tensor.dtype, tensor.shape.clone(), &tensor.bytes);
            view.map(|view| (tensor.name.clone(), view))
        })
        .collect::<Result<_, _>>()
        .map_err(|error| format!("a tensor cannot be written: {error}"))?;
    safetensors::tensor::serialize(views, Some(metadata))
        .map_err(|error| format!("the file cannot be written: {error}"))
}

/// Reads a file [`write_model`] (or PyTorch, with our metadata) wrote: the network it
/// describes with its weights, or why the file cannot be one.
pub fn read_model(bytes: &[u8]) -> Result<OpenedModel, String> {
    let (_, header) = SafeTensors::read_metadata(bytes).map_err(|error| {
        format!("this is not a complete model file, or it was cut short (safetensors: {error})")
    })?;
    let metadata = header.metadata().clone().unwrap_or_default();
    let format = metadata.get("format").map(String::as_str);
    if format != Some(FORMAT) {
        return Err(
            "this safetensors file does not describe its network (no `format: \
             neural-playground` in its metadata): save it from the page or the exported script"
                .to_string(),
        );
    }
    let version: u32 = metadata
        .get("version")
        .and_then(|version| version.parse().ok())
        .ok_or("the file does not say which version of the format it is")?;
    if version > VERSION {
        return Err(format!(
            "the file is of version {version} of the format; this page reads up to {VERSION}: \
             reload the page for its latest version"
        ));
    }
    let description = metadata
        .get("network")
        .ok_or("the file's metadata has no `network`")?;
    let config: SequentialConfig = serde_json::from_str(description)
        .map_err(|error| format!("the file's network cannot be read: {error}"))?;
    let needed = config
        .parameter_count()
        .map_err(|error| format!("the file's network cannot be built: {error}"))?;
    let stored: usize = header
        .tensors()
        .values()
        .map(|info| info.shape.iter().product::<usize>())
        .sum();
    // Before anything is allocated: a small file cannot make the page build a large network.
    if needed > MAX_PARAMETERS || needed > stored + SLACK {
        return Err(format!(
            "the file's network needs {needed} values and the file holds {stored}: it is \
             not this network's file"
        ));
    }
    let file =
        SafeTensors::deserialize(bytes).map_err(|error| format!("the file is damaged: {error}"))?;
    let mut network = config
        .init()
        .map_err(|error| format!("the file's network cannot be built: {error}"))?;
    let mut unread: Vec<String> = file.names().into_iter().map(str::to_string).collect();
    for (index, layer) in config.layers.iter().enumerate() {
        import_layer(&mut network, index, layer, &file, &mut unread)?;
    }
    unread.sort();
    if let Some(name) = unread.first() {
        return Err(format!(
            "the tensor `{name}` belongs to no layer of the file's network"
        ));
    }
    Ok(OpenedModel {
        network,
        settings: metadata.get("settings").cloned(),
    })
}

/// How a recurrent layer's gates are laid out: how many, and which of ours is PyTorch's k-th.
fn recurrent_gates(layer: &LayerConfig) -> Option<(usize, &'static [usize], bool)> {
    match layer {
        LayerConfig::Rnn(rnn) => Some(cell_gates(Cell::Rnn(rnn.activation))),
        LayerConfig::Lstm(_) => Some(cell_gates(Cell::Lstm)),
        LayerConfig::Gru(_) => Some(cell_gates(Cell::Gru)),
        _ => None,
    }
}

/// A cell's gates: how many, which of ours is PyTorch's k-th, and whether it is named as
/// `torch.nn`'s (the course GRU is not `nn.GRU`).
fn cell_gates(cell: Cell) -> (usize, &'static [usize], bool) {
    match cell {
        Cell::Rnn(_) => (1, &[0], true),
        // PyTorch's i, f, g, o from our f, i, o, C~.
        Cell::Lstm => (4, &[1, 0, 3, 2], true),
        Cell::Gru => (3, &[0, 1, 2], false),
    }
}

/// A recurrent cell's `W` and `b` under PyTorch's names, each after `prefix`: `nn.RNN`'s and
/// `nn.LSTM`'s (`torch`), or the course GRU's.
fn export_cell(
    prefix: &str,
    (weights, bias): (&Tensor, &Tensor),
    (gates, order, torch): (usize, &[usize], bool),
) -> Vec<Named> {
    let name = |suffix: &str| format!("{prefix}{suffix}");
    let hidden = bias.len() / gates;
    let features = weights.shape()[0] - hidden;
    let (state_rows, input_rows) = weights.data().split_at(hidden * gates * hidden);
    let ih = gate_rows(input_rows, features, hidden, order);
    let hh = gate_rows(state_rows, hidden, hidden, order);
    let b = gate_rows(bias.data(), 1, hidden, order);
    let ih_shape = vec![gates * hidden, features];
    let hh_shape = vec![gates * hidden, hidden];
    match torch {
        true => vec![
            Named::floats(name("weight_ih_l0"), ih_shape, &ih),
            Named::floats(name("weight_hh_l0"), hh_shape, &hh),
            Named::floats(name("bias_ih_l0"), vec![gates * hidden], &b),
            Named::floats(
                name("bias_hh_l0"),
                vec![gates * hidden],
                &vec![0.0; b.len()],
            ),
        ],
        false => vec![
            Named::floats(name("weight_ih"), ih_shape, &ih),
            Named::floats(name("weight_hh"), hh_shape, &hh),
            Named::floats(name("bias"), vec![gates * hidden], &b),
        ],
    }
}

/// A weight matrix of ours (`[in, out]`) as `nn.Linear`'s `weight` (`[out, in]`), after `prefix`.
fn export_linear(prefix: &str, weights: &Tensor) -> Named {
    let (inputs, outputs) = (weights.shape()[0], weights.shape()[1]);
    let transposed = transpose(weights.data(), inputs, outputs);
    Named::floats(
        format!("{prefix}weight"),
        vec![outputs, inputs],
        &transposed,
    )
}

/// The tensors of layer `index` under PyTorch's names.
fn export_layer(network: &Sequential, index: usize, layer: &LayerConfig) -> Vec<Named> {
    let ids = network.layer_params(index);
    let value = |k: usize| network.params().value(ids[k]);
    let name = |suffix: &str| format!("{index}.{suffix}");
    if let Some(layout) = recurrent_gates(layer) {
        return export_cell(&name(""), (value(0), value(1)), layout);
    }
    if let LayerConfig::Seq2Seq(seq2seq) = layer {
        let layout = cell_gates(seq2seq.cell);
        let as_is = |k: usize, suffix: &str| {
            Named::floats(name(suffix), value(k).shape().to_vec(), value(k).data())
        };
        let mut tensors = vec![
            as_is(0, "source_embedding.weight"),
            as_is(1, "target_embedding.weight"),
        ];
        tensors.extend(export_cell(&name("encoder."), (value(2), value(3)), layout));
        tensors.extend(export_cell(&name("decoder."), (value(4), value(5)), layout));
        let mut next = 6;
        if seq2seq.attention == Attention::Additive {
            for part in ["query", "key", "score"] {
                tensors.push(export_linear(
                    &name(&format!("attention.{part}.")),
                    value(next),
                ));
                next += 1;
            }
        }
        tensors.push(export_linear(&name("output."), value(next)));
        tensors.push(as_is(next + 1, "output.bias"));
        return tensors;
    }
    match layer {
        LayerConfig::Dense(_) => {
            let weights = value(0);
            let (inputs, outputs) = (weights.shape()[0], weights.shape()[1]);
            let transposed = transpose(weights.data(), inputs, outputs);
            vec![
                Named::floats(name("weight"), vec![outputs, inputs], &transposed),
                Named::floats(name("bias"), value(1).shape().to_vec(), value(1).data()),
            ]
        }
        LayerConfig::Conv2d(_) => ["weight", "bias"]
            .iter()
            .enumerate()
            .map(|(k, suffix)| {
                Named::floats(name(suffix), value(k).shape().to_vec(), value(k).data())
            })
            .collect(),
        LayerConfig::BatchNorm(_) => {
            let mut tensors: Vec<Named> = ["weight", "bias", "running_mean", "running_var"]
                .iter()
                .enumerate()
                .map(|(k, suffix)| {
                    Named::floats(name(suffix), value(k).shape().to_vec(), value(k).data())
                })
                .collect();
            tensors.push(Named {
                name: name("num_batches_tracked"),
                dtype: Dtype::I64,
                shape: Vec::new(),
                bytes: 0i64.to_le_bytes().to_vec(),
            });
            tensors
        }
        _ => Vec::new(),
    }
}

/// A cell's `W` (ours shaped `weights_shape`) and `b` from the tensors after `prefix` that
/// `read` gives (`suffix`, shape).
fn import_cell(
    weights_shape: &[usize],
    prefix: &str,
    (gates, order, torch): (usize, &[usize], bool),
    read: &mut impl FnMut(&str, &[usize]) -> Result<Vec<f32>, String>,
) -> Result<(Vec<f32>, Vec<f32>), String> {
    let width = weights_shape[1];
    let hidden = width / gates;
    let features = weights_shape[0] - hidden;
    let names = match torch {
        true => ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0"],
        false => ["weight_ih", "weight_hh", "bias"],
    };
    let ih = read(&format!("{prefix}{}", names[0]), &[width, features])?;
    let hh = read(&format!("{prefix}{}", names[1]), &[width, hidden])?;
    let mut bias = read(&format!("{prefix}{}", names[2]), &[width])?;
    if torch {
        let second = read(&format!("{prefix}bias_hh_l0"), &[width])?;
        // Added only where it is not zero, so that a bias of -0.0 stays bit for bit.
        for (b, extra) in bias.iter_mut().zip(second) {
            if extra != 0.0 {
                *b += extra;
            }
        }
    }
    let mut weights = ours_from_gate_rows(&hh, hidden, hidden, order);
    weights.extend(ours_from_gate_rows(&ih, features, hidden, order));
    Ok((weights, ours_from_gate_rows(&bias, 1, hidden, order)))
}

/// Sets layer `index`'s parameters from the file's tensors (each checked: its type and
/// shape), crossing each name it reads off `unread`.
fn import_layer(
    network: &mut Sequential,
    index: usize,
    layer: &LayerConfig,
    file: &SafeTensors<'_>,
    unread: &mut Vec<String>,
) -> Result<(), String> {
    let ids = network.layer_params(index);
    let shape_of = |network: &Sequential, k: usize| network.params().value(ids[k]).shape().to_vec();
    let mut read = |suffix: &str, shape: &[usize]| -> Result<Vec<f32>, String> {
        let name = format!("{index}.{suffix}");
        unread.retain(|other| *other != name);
        floats(file, &name, shape)
    };
    let set = |network: &mut Sequential, id: ParamId, values: Vec<f32>| {
        let shape = network.params().value(id).shape().to_vec();
        *network.params_mut().value_mut(id) =
            Tensor::from_vec(&shape, values).expect("the values were read for this shape");
    };
    // A cell's `W` and `b` (parameters `k` and `k + 1`) from the tensors after `prefix`.
    let mut read_cell = |network: &mut Sequential, prefix: &str, k: usize, layout| {
        let (weights, bias) = import_cell(&shape_of(network, k), prefix, layout, &mut read)?;
        set(network, ids[k], weights);
        set(network, ids[k + 1], bias);
        Ok::<(), String>(())
    };
    if let Some(layout) = recurrent_gates(layer) {
        return read_cell(network, "", 0, layout);
    }
    if let LayerConfig::Seq2Seq(seq2seq) = layer {
        let layout = cell_gates(seq2seq.cell);
        read_cell(network, "encoder.", 2, layout)?;
        read_cell(network, "decoder.", 4, layout)?;
        let mut linear = |network: &mut Sequential, prefix: &str, k: usize| {
            let shape = shape_of(network, k);
            let weights = read(&format!("{prefix}weight"), &[shape[1], shape[0]])?;
            set(network, ids[k], transpose(&weights, shape[1], shape[0]));
            Ok::<(), String>(())
        };
        let mut next = 6;
        if seq2seq.attention == Attention::Additive {
            for part in ["query", "key", "score"] {
                linear(network, &format!("attention.{part}."), next)?;
                next += 1;
            }
        }
        linear(network, "output.", next)?;
        let as_is = [
            (0, "source_embedding.weight"),
            (1, "target_embedding.weight"),
            (next + 1, "output.bias"),
        ];
        for (k, suffix) in as_is {
            let values = read(suffix, &shape_of(network, k))?;
            set(network, ids[k], values);
        }
        return Ok(());
    }
    match layer {
        LayerConfig::Dense(_) => {
            let shape = shape_of(network, 0);
            let (inputs, outputs) = (shape[0], shape[1]);
            let weights = read("weight", &[outputs, inputs])?;
            set(network, ids[0], transpose(&weights, outputs, inputs));
            let bias = read("bias", &shape_of(network, 1))?;
            set(network, ids[1], bias);
        }
        LayerConfig::Conv2d(_) => {
            for (k, suffix) in ["weight", "bias"].iter().enumerate() {
                let values = read(suffix, &shape_of(network, k))?;
                set(network, ids[k], values);
            }
        }
        LayerConfig::BatchNorm(_) => {
            let suffixes = ["weight", "bias", "running_mean", "running_var"];
            for (k, suffix) in suffixes.iter().enumerate() {
                let values = read(suffix, &shape_of(network, k))?;
                set(network, ids[k], values);
            }
            let counter = format!("{index}.num_batches_tracked");
            unread.retain(|other| *other != counter);
        }
        _ => {}
    }
    Ok(())
}

/// The values of the tensor `name`, which must be float32 of `shape`.
fn floats(file: &SafeTensors<'_>, name: &str, shape: &[usize]) -> Result<Vec<f32>, String> {
    let tensor = file
        .tensor(name)
        .map_err(|_| format!("the file has no tensor `{name}`, which its network needs"))?;
    if tensor.dtype() != Dtype::F32 {
        return Err(format!(
            "the tensor `{name}` holds {:?} numbers; the page reads float32 (F32)",
            tensor.dtype()
        ));
    }
    if tensor.shape() != shape {
        return Err(format!(
            "the tensor `{name}` is shaped {:?}; the file's network needs {shape:?}",
            tensor.shape()
        ));
    }
    let values: Vec<f32> = tensor
        .data()
        .chunks_exact(4)
        .map(|bytes| f32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
        .collect();
    if values.iter().any(|value| !value.is_finite()) {
        return Err(format!("the tensor `{name}` holds NaN or infinite values"));
    }
    Ok(values)
}

/// `[rows, cols]` as `[cols, rows]`.
fn transpose(values: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    let mut out = vec![0.0; values.len()];
    for r in 0..rows {
        for c in 0..cols {
            out[c * rows + r] = values[r * cols + c];
        }
    }
    out
}

/// Our `[inputs, gates·hidden]` (one row per input, the gates side by side in our order) as
/// PyTorch's `[gates·hidden, inputs]`, the gates in its order: its k-th block of `hidden` rows
/// is our gate `order[k]`'s columns, transposed.
fn gate_rows(ours: &[f32], inputs: usize, hidden: usize, order: &[usize]) -> Vec<f32> {
    let width = order.len() * hidden;
    let mut out = Vec::with_capacity(ours.len());
    for &gate in order {
        for unit in 0..hidden {
            let column = gate * hidden + unit;
            out.extend((0..inputs).map(|input| ours[input * width + column]));
        }
    }
    out
}

/// The inverse of [`gate_rows`].
fn ours_from_gate_rows(theirs: &[f32], inputs: usize, hidden: usize, order: &[usize]) -> Vec<f32> {
    let width = order.len() * hidden;
    let mut out = vec![0.0; theirs.len()];
    for (k, &gate) in order.iter().enumerate() {
        for unit in 0..hidden {
            let row = k * hidden + unit;
            for input in 0..inputs {
                out[input * width + gate * hidden + unit] = theirs[row * inputs + input];
            }
        }
    }
    out
}
