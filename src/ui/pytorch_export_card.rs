//! Export to PyTorch on a page: "Show the PyTorch script" opens a panel with the script the page
//! would export (written by `engine::pytorch_script`), and the panel's button downloads it with
//! the weights it loads and the data it reads, in one zip. The page says what it saved.

use yew::prelude::*;

use super::save_file::save_bytes;

/// Offers the export `zip` (or the reason it could not be made) as the download `name`; says
/// what was saved or why nothing was.
pub fn exported_status(name: &str, zip: Result<Vec<u8>, String>) -> String {
    match zip.and_then(|bytes| save_bytes(name, &bytes, "application/zip")) {
        Ok(()) => format!(
            "Saved {name}: train.py, the weights it loads (model.safetensors) and the data it \
             reads. Unzip it and run python train.py."
        ),
        Err(reason) => format!("The PyTorch export could not be made: {reason}."),
    }
}

#[derive(Properties, PartialEq)]
pub struct PyTorchExportCardProps {
    /// The script, while the panel is open (or why there is none for this network).
    pub script: Option<Result<AttrValue, AttrValue>>,
    /// Opens the panel (the page writes the script).
    pub on_show: Callback<()>,
    pub on_hide: Callback<()>,
    /// Downloads the zip.
    pub on_download: Callback<()>,
    /// What the last download did, or why it failed.
    pub status: Option<String>,
    /// Prefixes the test hooks ("playground" gives `playground-pytorch-show`, ...).
    pub id: AttrValue,
}

#[component]
pub fn PyTorchExportCard(props: &PyTorchExportCardProps) -> Html {
    let id = |what: &str| format!("{}-pytorch-{what}", props.id);
    let panel = match &props.script {
        None => html! {
            <button onclick={props.on_show.reform(|_: MouseEvent| ())} aria-expanded="false"
                aria-controls={id("panel")} data-testid={id("show")}>
                {"Show the PyTorch script"}
            </button>
        },
        Some(script) => {
            let body = match script {
                Ok(script) => html! {
                    <>
                        <button onclick={props.on_download.reform(|_: MouseEvent| ())}
                            data-testid={id("download")}>
                            {"Download script, weights and data (.zip)"}
                        </button>
                        <pre class="script" tabindex="0" aria-label="The PyTorch script"
                            data-testid={id("script")}>{script.clone()}</pre>
                    </>
                },
                Err(reason) => html! {
                    <p class="hint" data-testid={id("refused")}>
                        {format!("This network cannot be exported: {reason}.")}
                    </p>
                },
            };
            html! {
                <>
                    <button onclick={props.on_hide.reform(|_: MouseEvent| ())} aria-expanded="true"
                        aria-controls={id("panel")} data-testid={id("hide")}>
                        {"Hide the PyTorch script"}
                    </button>
                    <div id={id("panel")} class="script-panel">{body}</div>
                </>
            }
        }
    };
    html! {
        <section class="card pytorch-export-card" aria-labelledby={id("title")}>
            <h3 id={id("title")}>{"Export to PyTorch"}</h3>
            <p class="hint">{"A Python script that rebuilds this network with torch.nn, loads its weights, prints the test loss and accuracy shown here, trains on, and saves weights this page opens."}</p>
            {panel}
            <p class="hint" role="status" aria-live="polite" data-testid={id("status")}>
                {props.status.clone().unwrap_or_default()}
            </p>
        </section>
    }
}
