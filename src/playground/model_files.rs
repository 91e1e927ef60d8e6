//! A page's model file: its network and its set-up (the page's own settings, as JSON in the
//! file's metadata), written with `engine::model_file`; opened only when the set-up is the page's
//! kind and builds exactly the network the file holds.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::engine::{Sequential, SequentialConfig, read_model, write_model};
use crate::playground::PlaygroundConfig;
use crate::playground::images::training::RunSettings;
use crate::playground::sequences::SequenceSettings;
use crate::playground::sequences::seq2seq_settings::Seq2SeqSettings;

/// `network` and the page's `settings` as a model file.
pub fn page_file(network: &Sequential, settings: &impl Serialize) -> Result<Vec<u8>, String> {
    let settings = serde_json::to_string(settings)
        .map_err(|error| format!("the set-up cannot be written: {error}"))?;
    write_model(network, Some(&settings))
}

/// The network and the set-up of a file saved from a page whose settings are `S`, checked
/// with `validate` and against the network `network_of` builds from them; or why the file is
/// not one (`page` names the page in the message).
pub fn open_page_file<S: DeserializeOwned>(
    bytes: &[u8],
    page: &str,
    validate: impl Fn(&S) -> Result<(), String>,
    network_of: impl Fn(&S) -> SequentialConfig,
) -> Result<(Sequential, S), String> {
    let opened = read_model(bytes)?;
    let settings: S = opened
        .settings
        .as_deref()
        .and_then(|text| serde_json::from_str(text).ok())
        .ok_or(format!(
            "it holds no set-up of the {page} page (was it saved from another page?)"
        ))?;
    validate(&settings)?;
    if opened.network.config() != &network_of(&settings) {
        return Err("its network is not the one its set-up builds".to_string());
    }
    Ok((opened.network, settings))
}

/// A model file saved from the playground: its network and set-up.
pub fn open_playground_file(bytes: &[u8]) -> Result<(Sequential, PlaygroundConfig), String> {
    open_page_file(
        bytes,
        "playground",
        |_: &PlaygroundConfig| Ok(()),
        |config| config.model_config().network(),
    )
}

/// A model file saved from the Images page: its network and settings.
pub fn open_images_file(bytes: &[u8]) -> Result<(Sequential, RunSettings), String> {
    let validate = |settings: &RunSettings| settings.validate().map_err(|e| e.to_string());
    open_page_file(bytes, "Images", validate, |settings| settings.model.clone())
}

/// A model file saved from the Sequences page: its network and settings.
pub fn open_sequences_file(bytes: &[u8]) -> Result<(Sequential, SequenceSettings), String> {
    open_page_file(bytes, "Sequences", SequenceSettings::validate, |s| {
        s.model()
    })
}

/// A model file saved from the Seq2seq page: its network and settings.
pub fn open_seq2seq_file(bytes: &[u8]) -> Result<(Sequential, Seq2SeqSettings), String> {
    open_page_file(bytes, "Seq2seq", Seq2SeqSettings::validate, |s| s.model())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_opens_its_own_files_only() {
        let settings = SequenceSettings::default();
        let network = settings.model().init().unwrap();
        let file = page_file(&network, &settings).unwrap();
        let open_sequences = |bytes: &[u8]| {
            open_page_file(bytes, "Sequences", SequenceSettings::validate, |s| {
                s.model()
            })
        };
        let (opened, read) = open_sequences(&file).unwrap();
        assert_eq!(read, settings);
        assert_eq!(opened.params().to_flat(), network.params().to_flat());
        // The Images page's file is not the Sequences page's.
        let images = RunSettings::default();
        let image_file = page_file(&images.model.init().unwrap(), &images).unwrap();
        let error = open_sequences(&image_file).unwrap_err();
        assert!(error.contains("no set-up of the Sequences page"), "{error}");
        // A set-up that builds another network than the file's.
        let other = SequenceSettings {
            hidden: 5,
            ..settings.clone()
        };
        let mismatched = page_file(&network, &other).unwrap();
        let error = open_sequences(&mismatched).unwrap_err();
        assert!(error.contains("not the one its set-up builds"), "{error}");
    }

    #[test]
    fn the_seq2seq_page_opens_its_encoder_decoder_and_not_a_sequences_file() {
        let settings = Seq2SeqSettings {
            hidden: 6,
            embedding: 3,
            ..Seq2SeqSettings::default()
        };
        let network = settings.model().init().unwrap();
        let file = page_file(&network, &settings).unwrap();
        let (opened, read) = open_seq2seq_file(&file).unwrap();
        assert_eq!(read, settings);
        assert_eq!(opened.params().to_flat(), network.params().to_flat());
        let sequences = SequenceSettings::default();
        let other = page_file(&sequences.model().init().unwrap(), &sequences).unwrap();
        let error = open_seq2seq_file(&other).unwrap_err();
        assert!(error.contains("Seq2seq page"), "{error}");
    }
}
