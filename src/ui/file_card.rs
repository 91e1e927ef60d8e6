//! A card that saves a page's file and opens one: a download button, and a file picker or a
//! drop that the card reads itself, handing the page the file's name and bytes; the page says in
//! the status line what it did or why it refused the file. Model files and the playground's
//! points are both offered through it.

use gloo::file::callbacks::FileReader;
use web_sys::{DragEvent, File, HtmlInputElement};
use yew::prelude::*;

/// A file's name and its bytes, or why they could not be read.
pub type ReadFile = (String, Result<Vec<u8>, String>);

#[derive(Properties, PartialEq)]
pub struct FileCardProps {
    /// The card's heading, its two buttons' words, the files the picker offers (`.csv`) and a
    /// line on what the file holds.
    pub title: AttrValue,
    pub download_label: AttrValue,
    pub open_label: AttrValue,
    pub accept: AttrValue,
    pub hint: AttrValue,
    /// Saves the page's file.
    pub on_download: Callback<()>,
    /// Puts the file into the page's link, where the page offers that.
    #[prop_or_default]
    pub on_link: Option<Callback<()>>,
    /// A file picked or dropped, read: its name and bytes, to open.
    pub on_open: Callback<ReadFile>,
    /// While a run trains, a file cannot replace what it trains.
    pub locked: bool,
    /// What the last download or opening did, or why it failed.
    pub status: Option<String>,
    /// The test hooks' prefix: "seq-model" gives `seq-model-download`, `seq-model-file`, ...
    pub id: AttrValue,
}

#[component]
pub fn FileCard(props: &FileCardProps) -> Html {
    let dragging = use_state(|| false);
    // The file being read: dropping the reader would abort it.
    let reader = use_mut_ref(|| None::<FileReader>);
    let id = |what: &str| format!("{}-{what}", props.id);
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
        <section class="card file-card" aria-labelledby={id("title")}>
            <h3 id={id("title")}>{props.title.clone()}</h3>
            <div class={classes!("drop-zone", dragging.then_some("dragging"))} data-testid={id("drop")}
                ondrop={on_drop} ondragover={on_drag_over} ondragleave={on_drag_leave}>
                <button onclick={on_download} data-testid={id("download")}>{props.download_label.clone()}</button>
                if let Some(on_link) = &props.on_link {
                    <button onclick={on_link.reform(|_: MouseEvent| ())} data-testid={id("link")}>{"Put it in the link"}</button>
                }
                {" "}
                <label class={classes!("file-button", props.locked.then_some("disabled"))}>{props.open_label.clone()}
                    <input type="file" accept={props.accept.clone()} onchange={on_pick} disabled={props.locked}
                        data-testid={id("file")} />
                </label>
                <p class="hint">{props.hint.clone()}</p>
            </div>
            <p class="hint" role="status" aria-live="polite" data-testid={id("status")}>
                {props.status.clone().unwrap_or_default()}
            </p>
        </section>
    }
}
