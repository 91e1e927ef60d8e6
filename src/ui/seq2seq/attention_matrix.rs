//! The attention matrix of one decoding: a row per output step (the token it wrote), a column
//! per input token, each cell's share of the step's attention written as a percentage and shaded
//! by it (darker: more), the step being looked at outlined. A table, so a screen reader reads
//! it by row and column.

use crate::playground::colors;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct AttentionMatrixProps {
    /// The input's tokens, as a learner reads them.
    pub inputs: Vec<String>,
    /// Each output step: the token it wrote and its weights over the inputs.
    pub rows: Vec<(String, Vec<f32>)>,
    /// The decoding step shown beside the matrix.
    #[prop_or_default]
    pub current: Option<usize>,
}

#[component]
pub fn AttentionMatrix(props: &AttentionMatrixProps) -> Html {
    let most = |weights: &[f32]| crate::engine::trainer::argmax(weights);
    let summary: Vec<String> = props
        .rows
        .iter()
        .enumerate()
        .filter_map(|(step, (wrote, weights))| {
            let input = props.inputs.get(most(weights))?;
            Some(format!(
                "step {} ({wrote}) looks most at input {} ({input})",
                step + 1,
                most(weights) + 1
            ))
        })
        .collect();
    html! {
        <div class="attention-matrix-wrap">
            <table class="attention-matrix" data-testid="attention-matrix">
                <caption class="hint">{"Attention: each output step (row) over the input's tokens (columns)"}</caption>
                <thead>
                    <tr>
                        <th scope="col">{"wrote \\ read"}</th>
                        { for props.inputs.iter().map(|name| html! { <th scope="col">{name}</th> }) }
                    </tr>
                </thead>
                <tbody>
                    { for props.rows.iter().enumerate().map(|(step, (wrote, weights))| {
                        let best = most(weights);
                        html! {
                            <tr class={classes!((props.current == Some(step)).then_some("current"))}
                                data-testid={format!("attention-row-{step}")}>
                                <th scope="row">{format!("{}: {wrote}", step + 1)}</th>
                                { for weights.iter().enumerate().map(|(input, &weight)| {
                                    let background = colors::over_white([8, 119, 189], weight);
                                    let [r, g, b] = background;
                                    let shade = format!("background: rgb({r}, {g}, {b}); color: {}", colors::text_on(background));
                                    let strong = input == best && weight > 0.0;
                                    html! {
                                        <td style={shade} class={classes!(strong.then_some("most"))}
                                            data-value={format!("{weight:.4}")}>
                                            {format!("{:.0}", 100.0 * weight)}
                                        </td>
                                    }
                                }) }
                            </tr>
                        }
                    }) }
                </tbody>
            </table>
            <p class="visually-hidden" aria-live="polite" data-testid="attention-summary">{summary.join("; ")}</p>
        </div>
    }
}
