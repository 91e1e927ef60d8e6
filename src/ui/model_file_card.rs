//! Model files on a page: "Download model" saves the network as a `.safetensors` file (PyTorch's
//! names, see `engine::model_file`), and a file picker or a drop opens one; the page says in
//! words what it did or why it refused the file.

use web_sys::{DragEvent, File, HtmlInputElement};
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct ModelFileCardProps {
    /// Saves the page's network.
    pub on_download: Callback<()>,
    /// A file picked or dropped, to open.
    pub on_open: Callback<File>,
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
    let id = |what: &str| format!("{}-model-{what}", props.id);
    let on_pick = {
        let on_open = props.on_open.clone();
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
        let (on_open, dragging, locked) = (props.on_open.clone(), dragging.clone(), props.locked);
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
