//! Model files on a page: "Download model" saves the network as a `.safetensors` file (PyTorch's
//! names, see `engine::model_file`), and a file picker or a drop opens one (the [`FileCard`]
//! reads it and hands the page its bytes); the page says in words what it did or why it refused
//! the file, in the words of [`saved_status`] and [`opened_status`].

use yew::prelude::*;

use super::file_card::FileCard;
pub use super::file_card::ReadFile;
use super::save_file::save_bytes;
use crate::playground::model_link::encode_model;

/// Offers the model file `file` (or the reason it could not be made) as the download `name`;
/// says what was saved (`what`) or why nothing was.
pub fn saved_status(name: &str, file: Result<Vec<u8>, String>, what: &str) -> String {
    match file.and_then(|bytes| save_bytes(name, &bytes, "application/octet-stream")) {
        Ok(()) => format!("Saved {name}: {what}."),
        Err(reason) => format!("The model could not be saved: {reason}."),
    }
}

/// What opening the file `name` did (`Ok`: what it brought), or why it was refused.
pub fn opened_status(name: &str, outcome: Result<String, String>) -> String {
    match outcome {
        Ok(what) => format!("Opened {name}: {what}"),
        Err(reason) => format!("{name} was not opened: {reason}. The network is kept."),
    }
}

/// What opening the model a link carries did, or why it was refused.
pub fn link_opened_status(outcome: Result<String, String>) -> String {
    match outcome {
        Ok(what) => format!("Opened the link's model: {what}"),
        Err(reason) => {
            format!("The link's model was not opened: {reason}. The page's own network is kept.")
        }
    }
}

/// Puts the model file `file` into the address bar's link as its `model` field
/// (`playground::model_link`); says so, or why not.
pub fn linked_status(file: Result<Vec<u8>, String>) -> String {
    let written = file
        .and_then(|bytes| encode_model(&bytes))
        .and_then(|field| {
            let window = gloo::utils::window();
            let hash = window.location().hash().unwrap_or_default();
            let kept: Vec<&str> = hash
                .trim_start_matches('#')
                .split('&')
                .filter(|pair| !pair.is_empty() && !pair.starts_with("model="))
                .collect();
            let url = format!("#{}&model={field}", kept.join("&"));
            window
                .history()
                .and_then(|history| {
                    history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&url))
                })
                .map_err(|_| "the page cannot change its address".to_string())?;
            Ok(field.len())
        });
    match written {
        Ok(chars) => format!(
            "The link in the address bar now carries the model ({chars} characters): copy it to \
             share the trained network. Changing a setting takes the model out of it again."
        ),
        Err(reason) => format!("The model was not put in the link: {reason}."),
    }
}

#[derive(Properties, PartialEq)]
pub struct ModelFileCardProps {
    /// Saves the page's network.
    pub on_download: Callback<()>,
    /// Puts the network into the page's link.
    #[prop_or_default]
    pub on_link: Option<Callback<()>>,
    /// A file picked or dropped, read: its name and bytes, to open.
    pub on_open: Callback<ReadFile>,
    /// While a run trains, a file cannot replace its network.
    pub locked: bool,
    /// What the last download or opening did, or why it failed.
    pub status: Option<String>,
    /// Prefixes the test hooks ("seq" gives `seq-model-download`, `seq-model-file`, ...).
    pub id: AttrValue,
}

#[component]
pub fn ModelFileCard(props: &ModelFileCardProps) -> Html {
    html! {
        <FileCard id={format!("{}-model", props.id)} title="Model file" download_label="Download model"
            open_label="Open model…" accept=".safetensors"
            hint="A .safetensors file with PyTorch's names (load it with safetensors' load_file and load_state_dict), the set-up in its metadata. Drop one here or open it to go on from its weights."
            on_download={props.on_download.clone()} on_link={props.on_link.clone()} on_open={props.on_open.clone()}
            locked={props.locked} status={props.status.clone()} />
    }
}
