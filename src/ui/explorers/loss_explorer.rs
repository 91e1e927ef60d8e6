//! Loss functions for a prediction you drag.

use yew::prelude::*;

#[component]
pub fn LossExplorer() -> Html {
    html! { <section class="page explorer"><h2>{"Loss functions for a prediction you drag"}</h2></section> }
}
