//! Optimizers racing on one loss surface.

use yew::prelude::*;

#[component]
pub fn OptimizerRace() -> Html {
    html! { <section class="page explorer"><h2>{"Optimizers racing on one loss surface"}</h2></section> }
}
