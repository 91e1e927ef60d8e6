//! The confusion matrix as a table: row = true digit, column = prediction, each cell shaded by
//! the share of its row; clicking a cell shows those test digits. From the keyboard the grid is
//! one tab stop: the arrow keys move between cells, Home and End to a row's ends, and Enter or
//! Space shows a cell's digits.

use crate::playground::colors;
use crate::playground::images::confusion::ConfusionMatrix;
use wasm_bindgen::JsCast;
use web_sys::HtmlElement;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct ConfusionViewProps {
    pub matrix: ConfusionMatrix,
    /// The cell whose digits are shown, if any.
    pub selected: Option<(usize, usize)>,
    pub on_select: Callback<Option<(usize, usize)>>,
}

#[component]
pub fn ConfusionView(props: &ConfusionViewProps) -> Html {
    let matrix = &props.matrix;
    let classes = matrix.classes;
    // The cell that takes the tab stop, and whether a key just moved it (then it takes focus).
    let current = use_state(|| props.selected.unwrap_or((0, 0)));
    let moved = use_mut_ref(|| false);
    let table = use_node_ref();
    {
        let (table, moved) = (table.clone(), moved.clone());
        use_effect_with(*current, move |&(truth, predicted)| {
            if std::mem::take(&mut *moved.borrow_mut()) {
                let button = table.cast::<web_sys::Element>().and_then(|table| {
                    let selector = format!("[data-testid=confusion-{truth}-{predicted}] button");
                    table.query_selector(&selector).ok().flatten()
                });
                if let Some(button) = button.and_then(|b| b.dyn_into::<HtmlElement>().ok()) {
                    let _ = button.focus();
                }
            }
        });
    }
    let onkeydown = {
        let current = current.clone();
        Callback::from(move |event: KeyboardEvent| {
            let (truth, predicted) = *current;
            let last = classes.saturating_sub(1);
            let next = match event.key().as_str() {
                "ArrowUp" => (truth.saturating_sub(1), predicted),
                "ArrowDown" => ((truth + 1).min(last), predicted),
                "ArrowLeft" => (truth, predicted.saturating_sub(1)),
                "ArrowRight" => (truth, (predicted + 1).min(last)),
                "Home" => (truth, 0),
                "End" => (truth, last),
                _ => return,
            };
            event.prevent_default();
            *moved.borrow_mut() = true;
            current.set(next);
        })
    };
    let header = (0..matrix.classes).map(|p| html! { <th>{p}</th> });
    let rows = (0..matrix.classes).map(|truth| {
        let total = matrix.row_total(truth).max(1) as f32;
        let cells = (0..matrix.classes).map(|predicted| {
            let count = matrix.count(truth, predicted);
            let share = count as f32 / total;
            // Right answers in blue, mistakes in red (four times as strong), with text in
            // black or white, whichever reads better on the shade.
            let background = if truth == predicted {
                colors::over_white([8, 119, 189], share)
            } else {
                colors::over_white([220, 60, 40], (share * 4.0).min(1.0))
            };
            let [r, g, b] = background;
            let style = format!(
                "background: rgb({r}, {g}, {b}); color: {}",
                colors::text_on(background)
            );
            let cell = (truth, predicted);
            let selected = props.selected == Some(cell);
            let on_select = props.on_select.clone();
            let onfocus = {
                let current = current.clone();
                Callback::from(move |_: FocusEvent| {
                    if *current != cell {
                        current.set(cell)
                    }
                })
            };
            let tabindex = if *current == cell { "0" } else { "-1" };
            html! {
                <td class={classes!("confusion-cell", selected.then_some("selected"))}
                    {style} title={format!("true {truth}, predicted {predicted}: {count}")}
                    data-testid={format!("confusion-{truth}-{predicted}")}>
                    <button type="button" {tabindex} {onfocus} aria-pressed={if selected { "true" } else { "false" }}
                        aria-label={format!("{count} digits {truth} taken for {predicted}")}
                        onclick={Callback::from(move |_| on_select.emit((!selected).then_some(cell)))}>
                        {if count > 0 { count.to_string() } else { String::new() }}
                    </button>
                </td>
            }
        });
        html! { <tr><th>{truth}</th>{ for cells }</tr> }
    });
    let worst = matrix
        .worst_confusion()
        .map(|(t, p, n)| format!("Most frequent mistake: {t} taken for {p} ({n} times)."));
    html! {
        <div class="confusion" data-testid="confusion-matrix">
            <table ref={table} {onkeydown} aria-label="Confusion matrix: rows are the true digits, columns the predictions">
                <thead><tr><th class="corner">{"true \\ predicted"}</th>{ for header }</tr></thead>
                <tbody>{ for rows }</tbody>
            </table>
            <p class="hint">{worst.unwrap_or_else(|| "No mistakes on the test digits.".to_string())}
                {" Click a cell, or move with the arrow keys and press Enter, to see its digits."}</p>
        </div>
    }
}
