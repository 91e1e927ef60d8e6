//! Where the digits come from: the download's progress bar, then the set in use and its split;
//! a file picker and a drop zone for IDX files (MNIST, Fashion-MNIST, KMNIST).

use super::digits_download::Loaded;
use web_sys::{DragEvent, File, HtmlInputElement};
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct DataCardProps {
    /// The download's progress while the default digits load.
    pub loading: Option<Loaded>,
    /// The name and size of the set in use.
    pub source: Option<(String, usize)>,
    /// `(train, test)` digits of the run.
    pub split: Option<(usize, usize)>,
    /// Whether the digits are the learner's own, and if so whether the browser keeps them.
    pub own: Option<bool>,
    pub on_files: Callback<Vec<File>>,
    /// Back to the default digits.
    pub on_default: Callback<()>,
}

fn files_of(list: Option<web_sys::FileList>) -> Vec<File> {
    let Some(list) = list else {
        return Vec::new();
    };
    (0..list.length()).filter_map(|i| list.get(i)).collect()
}

#[component]
pub fn DataCard(props: &DataCardProps) -> Html {
    let dragging = use_state(|| false);
    let on_pick = {
        let on_files = props.on_files.clone();
        Callback::from(move |event: Event| {
            let input: HtmlInputElement = event.target_unchecked_into();
            on_files.emit(files_of(input.files()));
            // Picking the same files again must fire again.
            input.set_value("");
        })
    };
    let on_drop = {
        let (on_files, dragging) = (props.on_files.clone(), dragging.clone());
        Callback::from(move |event: DragEvent| {
            event.prevent_default();
            dragging.set(false);
            on_files.emit(files_of(event.data_transfer().and_then(|d| d.files())));
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
    let progress = props.loading.map(|loaded| {
        let (value, max, text) = match loaded.total {
            Some(total) if total > 0.0 => (
                loaded.bytes,
                total,
                format!("{:.1} of {:.1} MB", loaded.bytes / 1e6, total / 1e6),
            ),
            _ => (loaded.bytes, 0.0, format!("{:.1} MB", loaded.bytes / 1e6)),
        };
        html! {
            <div class="download" data-testid="digits-progress">
                {"Loading the digits… "}{text}
                if max > 0.0 {
                    <progress value={value.to_string()} max={max.to_string()} />
                } else {
                    <progress />
                }
            </div>
        }
    });
    html! {
        <section class="card data-card">
            <h3>{"Data"}</h3>
            {progress.unwrap_or_default()}
            if let Some((name, count)) = &props.source {
                <p data-testid="digits-source">{format!("{name}: {count} digits")}</p>
            }
            if let Some((train, test)) = props.split {
                <p class="hint" data-testid="digits-split">{format!("{train} to train on, {test} held out to test")}</p>
            }
            if let Some(kept) = props.own {
                <p class="hint" data-testid="digits-kept">
                    {match kept {
                        true => "Your digits are kept in this browser for your next visit. ",
                        false => "Your digits are not kept in this browser. ",
                    }}
                    <button type="button" data-testid="default-digits" onclick={props.on_default.reform(|_| ())}>
                        {"Back to the MNIST digits"}
                    </button>
                </p>
            }
            <div class={classes!("drop-zone", dragging.then_some("dragging"))} data-testid="drop-zone"
                ondrop={on_drop} ondragover={on_drag_over} ondragleave={on_drag_leave}>
                {"Open your own: drop an images file and a labels file here ("}
                <code>{"*-idx3-ubyte[.gz]"}</code>{", "}<code>{"*-idx1-ubyte[.gz]"}</code>{"), or "}
                <label class="file-button">{"choose files"}
                    <input type="file" multiple=true onchange={on_pick} data-testid="idx-files" />
                </label>
                {". Full MNIST, Fashion-MNIST and KMNIST work."}
            </div>
        </section>
    }
}
