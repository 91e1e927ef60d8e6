//! Activation functions and their derivatives.

use yew::prelude::*;

#[component]
pub fn ActivationExplorer() -> Html {
    html! { <section class="page explorer"><h2>{"Activation functions and their derivatives"}</h2></section> }
}
