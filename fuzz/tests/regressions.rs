//! Every committed seed (real links and files) and every input a fuzzer once crashed on
//! (`regressions/<target>/`) runs through its target without a panic. `write_seeds` (ignored)
//! writes the seeds again from the product's own writers.

use std::path::{Path, PathBuf};

use fuzz::TARGETS;

fn inputs(folder: &str, target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(folder)
        .join(target);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries.flatten().map(|entry| entry.path()).collect();
    files.sort();
    files
}

#[test]
fn seeds_and_past_crashes_run_through_their_targets() {
    for (target, run) in TARGETS {
        let seeds = inputs("seeds", target);
        assert!(!seeds.is_empty(), "no seeds for {target}");
        for file in seeds.iter().chain(&inputs("regressions", target)) {
            let data = std::fs::read(file).expect("readable");
            run(&data);
        }
    }
}

#[test]
#[ignore = "writes the seed corpus: run with --ignored after a format changes"]
fn write_seeds() {
    use neural_playground::data::digits::DigitSet;
    use neural_playground::data::idx::write_idx;
    use neural_playground::data::points_csv::write_points_csv;
    use neural_playground::engine::{Activation, LayerConfig, SequentialConfig};
    use neural_playground::playground::PlaygroundConfig;
    use neural_playground::playground::images::training::{RunSettings, TrainingRun};
    use neural_playground::playground::model_files::page_file;
    use neural_playground::playground::model_link::encode_model;
    use neural_playground::playground::sequences::SequenceSettings;
    use neural_playground::playground::{Session, to_hash};

    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds");
    let write = |target: &str, name: &str, bytes: &[u8]| {
        let dir = root.join(target);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(name), bytes).unwrap();
    };
    let tests_data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data");

    // Links: each page's, a paused playground's with its weights, a model in the link.
    let mut session = Session::new(PlaygroundConfig::default()).unwrap();
    session.train_epoch().unwrap();
    let mut paused = session.config().clone();
    paused.parameters = Some(session.parameters());
    write(
        "link",
        "playground_weights.txt",
        to_hash(&paused).as_bytes(),
    );
    write(
        "link",
        "playground_spiral.txt",
        b"dataset=spiral&layers=8,8,4&activation=relu&optimizer=adam&points=500&noise=0.2",
    );
    write(
        "link",
        "images_lenet.txt",
        b"page=images&imageModel=conv6k5p2-relu,max2,conv16k5-relu,max2,flat,dense120-relu,dense84-relu,dense10&imageEpochs=3",
    );
    write(
        "link",
        "sequences_varying.txt",
        b"page=sequences&seqTask=running&seqCell=gru&seqLength=12&seqShortest=4&seqEpochs=40",
    );
    let sequences = SequenceSettings::default();
    let network = sequences.model().init().unwrap();
    let field = encode_model(&page_file(&network, &sequences).unwrap()).unwrap();
    write(
        "link",
        "sequences_model.txt",
        format!("page=sequences&model={field}").as_bytes(),
    );

    // IDX: the split byte, then a pair of ten digits, plain and gzipped.
    let digits = DigitSet::halves(10);
    let images = write_idx(&[10, 28, 28], &digits.pixels);
    let labels = write_idx(&[10], &digits.labels);
    let pair = |images: &[u8], labels: &[u8]| {
        let total = images.len() + labels.len();
        let split = (images.len() * 256).div_ceil(total) as u8;
        let mut bytes = vec![split];
        bytes.extend_from_slice(images);
        bytes.extend_from_slice(labels);
        bytes
    };
    write("idx", "pair.bin", &pair(&images, &labels));
    let gzip = |bytes: &[u8]| {
        use std::io::Write;
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(bytes).unwrap();
        encoder.finish().unwrap()
    };
    write(
        "idx",
        "pair_gzipped.bin",
        &pair(&gzip(&images), &gzip(&labels)),
    );
    write(
        "idx",
        "kept_digits.bin",
        &neural_playground::data::kept_digits::write_kept_digits(&digits).unwrap(),
    );

    // Model files: PyTorch's and each page's.
    for name in ["dense", "recurrent", "convolution"] {
        let bytes = std::fs::read(tests_data.join(format!("model_file_{name}.safetensors")));
        write(
            "model_file",
            &format!("pytorch_{name}.safetensors"),
            &bytes.unwrap(),
        );
    }
    write(
        "model_file",
        "sequences.safetensors",
        &page_file(&network, &sequences).unwrap(),
    );
    let playground = session.config().clone();
    write(
        "model_file",
        "playground.safetensors",
        &page_file(session.model().network(), &playground).unwrap(),
    );
    let images_settings = RunSettings {
        model: SequentialConfig::new(
            &[1, 28, 28],
            vec![
                LayerConfig::from_token("conv2k3").unwrap(),
                LayerConfig::FLATTEN,
                LayerConfig::dense(10, Activation::Linear),
            ],
        ),
        ..RunSettings::default()
    };
    let images_network = images_settings.model.init().unwrap();
    write(
        "model_file",
        "images.safetensors",
        &page_file(&images_network, &images_settings).unwrap(),
    );

    // Kept work: the playground's, a small Images run on the fuzzed runs' digits, a
    // Sequences run.
    write(
        "saved_work",
        "playground.bin",
        &session.save_work(0.0).unwrap(),
    );
    let small = RunSettings {
        model: SequentialConfig::new(
            &[1, 28, 28],
            vec![
                LayerConfig::FLATTEN,
                LayerConfig::dense(4, Activation::Relu),
                LayerConfig::dense(10, Activation::Linear),
            ],
        ),
        epochs: 2,
        batch_size: 16,
        ..RunSettings::default()
    };
    let mut run = TrainingRun::new(DigitSet::halves(200), small).unwrap();
    for _ in 0..5 {
        run.step().unwrap();
    }
    write("saved_work", "images_run.bin", &run.save("{}").unwrap());
    let bytes = std::fs::read(tests_data.join("sequences_run_v1.bin")).unwrap();
    write("saved_work", "sequences_run.bin", &bytes);

    // Points: the playground's own download.
    let csv = write_points_csv(session.train_points(), session.test_points());
    write("points_csv", "playground.csv", csv.as_bytes());
    write(
        "points_csv",
        "regression.csv",
        b"x1,x2,label\n0.5,-1.25,3.5\n-2,0,-0.25\n1e-3,4.75,0\n",
    );
}
