//! What a page says about its work kept in this browser: a notice when saved work came back (or
//! could not), with "Start fresh", and a card with where saving stands.

use super::autosave::{SaveStatus, date_of, time_of};
use yew::prelude::*;

/// What happened to the work kept from an earlier visit.
#[derive(Clone, Debug, PartialEq)]
pub enum WorkNotice {
    /// It came back as it was: saved at this time, at this epoch.
    Restored { saved_at: f64, epoch: usize },
    /// The page opened a link to another set-up; the kept work (saved at this time) waits.
    Waiting { saved_at: f64 },
    /// It could not be read, for this reason.
    Unreadable(String),
    /// The browser keeps nothing (storage switched off, full, or refused): why.
    NotKept(String),
}

#[derive(Properties, PartialEq)]
pub struct SavedWorkNoticeProps {
    pub notice: Option<WorkNotice>,
    /// Start again from the page's defaults, forgetting the kept work.
    pub on_fresh: Callback<()>,
    /// Open the kept work that waits.
    pub on_open: Callback<()>,
    pub on_dismiss: Callback<()>,
    /// The test hooks' prefix: "playground" gives `playground-work-notice`, ...
    pub id: AttrValue,
}

/// The notice under the title bar; announced politely when it appears.
#[component]
pub fn SavedWorkNotice(props: &SavedWorkNoticeProps) -> Html {
    let id = |what: &str| format!("{}-{what}", props.id);
    let text = match &props.notice {
        None => String::new(),
        Some(WorkNotice::Restored { saved_at, epoch }) => format!(
            "Welcome back: your work from {} is here as you left it (epoch {epoch}); training goes on from there.",
            date_of(*saved_at)
        ),
        Some(WorkNotice::Waiting { saved_at }) => format!(
            "You opened a link to another set-up. Your own work from {} is kept until you change this one.",
            date_of(*saved_at)
        ),
        Some(WorkNotice::NotKept(reason)) => format!(
            "Your work is not being kept in this browser: {reason}. Everything on screen stays; download the model or the points to keep them."
        ),
        Some(WorkNotice::Unreadable(reason)) => format!(
            "The work kept from an earlier visit could not be read ({reason}); the page starts afresh and saves anew."
        ),
    };
    let button = |label: &str, what: &str, callback: &Callback<()>| {
        html! {
            <button onclick={callback.reform(|_: MouseEvent| ())} data-testid={id(what)}>{label.to_string()}</button>
        }
    };
    html! {
        <div class={classes!("work-notice", props.notice.is_none().then_some("hidden"))} role="status"
            aria-live="polite" data-testid={id("work-notice")}>
            <span>{text}</span>
            if matches!(props.notice, Some(WorkNotice::Restored { .. })) {
                {button("Start fresh", "start-fresh", &props.on_fresh)}
            }
            if matches!(props.notice, Some(WorkNotice::Waiting { .. })) {
                {button("Open my work", "open-work", &props.on_open)}
            }
            if props.notice.is_some() {
                <button class="dismiss" aria-label="Dismiss" onclick={props.on_dismiss.reform(|_: MouseEvent| ())}>{"×"}</button>
            }
        </div>
    }
}

#[derive(Properties, PartialEq)]
pub struct SavedWorkCardProps {
    pub status: SaveStatus,
    pub on_fresh: Callback<()>,
    pub id: AttrValue,
}

/// Where saving stands: kept in this browser as of a time, or not kept and why. The time is not
/// announced at each save; a failure is.
#[component]
pub fn SavedWorkCard(props: &SavedWorkCardProps) -> Html {
    let id = |what: &str| format!("{}-{what}", props.id);
    let (line, off) = match &props.status {
        SaveStatus::Reading => ("Looking for work kept in this browser…".to_string(), None),
        SaveStatus::Saved(None) => (
            "Your work is kept in this browser as you go: a reload brings it back.".to_string(),
            None,
        ),
        SaveStatus::Saved(Some(at)) => (
            format!(
                "Kept in this browser at {}: a reload brings it back.",
                time_of(*at)
            ),
            None,
        ),
        SaveStatus::Off(reason) => (
            "Your work is not being kept in this browser.".to_string(),
            Some(format!(
                "Saving stopped: {reason}. Everything on screen stays; download the model to keep it."
            )),
        ),
    };
    html! {
        <section class="card saved-work-card" aria-labelledby={id("work-title")}>
            <h3 id={id("work-title")}>{"In this browser"}</h3>
            <p class="hint" data-testid={id("save-status")}>{line}</p>
            <p class={classes!("hint", "save-problem", off.is_none().then_some("hidden"))} role="status" aria-live="polite"
                data-testid={id("save-problem")}>{off.unwrap_or_default()}</p>
            <button onclick={props.on_fresh.reform(|_: MouseEvent| ())} data-testid={id("fresh")}>{"Start fresh"}</button>
            <p class="hint">{"Start fresh forgets the kept work and opens the page as on a first visit."}</p>
        </section>
    }
}
