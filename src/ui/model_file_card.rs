//! Model files on a page: "Download model" saves the network as a `.safetensors` file (PyTorch's
//! names, see `engine::model_file`), and a file picker or a drop opens one (the card reads it
//! and hands the page its bytes); the page says in words what it did or why it refused the file,
//! in the words of [`saved_status`] and [`opened_status`].

use gloo::file::callbacks::FileReader;
use web_sys::{DragEvent, File, HtmlInputElement};
use yew::prelude::*;

use super::save_file::save_bytes;

/// A file's name and its bytes, or why they could not be read.
pub type ReadFile = (String, Result<Vec<u8>, String>);

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

#[derive(Properties, PartialEq)]
pub struct ModelFileCardProps {
    /// Saves the page's network.
    pub on_download: Callback<()>,
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
    let dragging = use_state(|| false);
    // The file being read: dropping the reader would abort it.
    let reader = use_mut_ref(|| None::<FileReader>);
    let id = |what: &str| format!("{}-model-{what}", props.id);
    let read = {
        let (on_open, reader) = (props.on_open.clone(), reader.clone());
        Callback::from(move |file: File| {
            let file = gloo::file::File::from(file);
            let (name, on_open) = (file.name(), on_open.clone());
            *reader.borrow_mut() =
                Some(gloo::file::callbacks::read_as_bytes(&file, move |bytes| {
                    on_open.emit((name, bytes.map_err(|error| error.to_string())));
                }));
        })
    };
    let on_pick = {
        let on_open = read.clone();
        Callback::from(move |event: Event| {
            let input: HtmlInputElement = event.target_unchecked_into();
            if let Some(file) = input.files().and_then(|files| files.get(0)) {
                on_open.emit(file);
            }
            // Picking the same file again must fire again.
            input.set_value("");
        })
    };
    let on_drop = {
        let (on_open, dragging, locked) = (read, dragging.clone(), props.locked);
        Callback::from(move |event: DragEvent| {
            event.prevent_default();
            dragging.set(false);
            let file = event
                .data_transfer()
                .and_then(|transfer| transfer.files())
                .and_then(|files| files.get(0));
            if let (Some(file), false) = (file, locked) {
                on_open.emit(file);
            }
        })
    };
    let on_drag_over = {
        let dragging = dragging.clone();
        Callback::from(move |event: DragEvent| {
            event.prevent_default();
            dragging.set(true);
        })
    };
    let on_drag_leave = {
        let dragging = dragging.clone();
        Callback::from(move |_: DragEvent| dragging.set(false))
    };
    let on_download = props.on_download.reform(|_: MouseEvent| ());
    html! {
        <section class="card model-file-card" aria-labelledby={id("title")}>
            <h3 id={id("title")}>{"Model file"}</h3>
            <div class={classes!("drop-zone", dragging.then_some("dragging"))} data-testid={id("drop")}
                ondrop={on_drop} ondragover={on_drag_over} ondragleave={on_drag_leave}>
                <button onclick={on_download} data-testid={id("download")}>{"Download model"}</button>
                {" "}
                <label class={classes!("file-button", props.locked.then_some("disabled"))}>{"Open model…"}
                    <input type="file" accept=".safetensors" onchange={on_pick} disabled={props.locked}
                        data-testid={id("file")} />
                </label>
                <p class="hint">{"A .safetensors file with PyTorch's names (load it with safetensors' load_file and load_state_dict), the set-up in its metadata. Drop one here or open it to go on from its weights."}</p>
            </div>
            <p class="hint" role="status" aria-live="polite" data-testid={id("status")}>
                {props.status.clone().unwrap_or_default()}
            </p>
        </section>
    }
}
