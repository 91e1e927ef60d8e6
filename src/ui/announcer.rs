//! A polite announcement, for screen readers, of figures that change while a network trains
//! (epoch, loss, accuracy): a visually hidden live region that takes the newest text at most
//! once a second, so that a reader is not flooded with a figure per frame.

use std::cell::RefCell;
use std::rc::Rc;

use gloo::timers::callback::Timeout;
use yew::prelude::*;

/// The least time between two announcements, in milliseconds.
const INTERVAL_MS: f64 = 1000.0;

#[derive(Properties, PartialEq)]
pub struct AnnouncerProps {
    /// What to announce now (the newest wins when several come within a second).
    pub text: AttrValue,
    pub test_id: AttrValue,
}

#[component]
pub fn Announcer(props: &AnnouncerProps) -> Html {
    let shown = use_state_eq(|| props.text.clone());
    let latest = use_mut_ref(|| props.text.clone());
    let last_shown = use_mut_ref(|| f64::NEG_INFINITY);
    let scheduled = use_mut_ref(|| false);
    {
        let shown = shown.clone();
        use_effect_with(props.text.clone(), move |text| {
            *latest.borrow_mut() = text.clone();
            let wait = *last_shown.borrow() + INTERVAL_MS - js_sys::Date::now();
            if wait <= 0.0 {
                show(&shown, &latest, &last_shown);
            } else if !scheduled.replace(true) {
                Timeout::new(wait.ceil() as u32, move || {
                    *scheduled.borrow_mut() = false;
                    show(&shown, &latest, &last_shown);
                })
                .forget();
            }
        });
    }
    html! {
        <p class="visually-hidden" role="status" aria-live="polite" data-testid={props.test_id.clone()}>
            {(*shown).clone()}
        </p>
    }
}

fn show(
    shown: &UseStateHandle<AttrValue>,
    latest: &Rc<RefCell<AttrValue>>,
    last_shown: &Rc<RefCell<f64>>,
) {
    *last_shown.borrow_mut() = js_sys::Date::now();
    shown.set(latest.borrow().clone());
}
