//! Class probabilities as bars (a digit's ten, or a decoder step's output tokens), the most
//! likely highlighted.

use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct ProbabilityBarsProps {
    /// One probability per class 0-9 (empty: nothing to show yet).
    pub probabilities: Vec<f32>,
    #[prop_or_default]
    pub truth: Option<u8>,
    /// What each class is called, where not its number.
    #[prop_or_default]
    pub names: Vec<String>,
}

#[component]
pub fn ProbabilityBars(props: &ProbabilityBarsProps) -> Html {
    let best = crate::engine::trainer::argmax(&props.probabilities);
    html! {
        <div class="probability-bars" data-testid="probabilities">
            { for props.probabilities.iter().enumerate().map(|(class, &p)| {
                let classes = classes!(
                    "probability",
                    (class == best).then_some("best"),
                    (props.truth == Some(class as u8)).then_some("truth"),
                );
                html! {
                    <div class={classes} data-testid={format!("probability-{class}")}
                        data-value={format!("{p:.4}")}>
                        <span class="probability-class">{props.names.get(class).cloned().unwrap_or_else(|| class.to_string())}</span>
                        <span class="probability-track">
                            <span class="probability-fill" style={format!("width: {:.1}%", p * 100.0)} />
                        </span>
                        <span class="probability-value">{format!("{:.1}%", p * 100.0)}</span>
                    </div>
                }
            }) }
        </div>
    }
}
