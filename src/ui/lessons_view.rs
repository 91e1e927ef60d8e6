//! The lessons: a page listing them, and the panel that explains the open lesson and says when
//! its goal is reached.

use super::app::Msg;
use crate::playground::lessons::{Goal, LESSONS, Lesson, find};
use crate::playground::page::LESSONS_INTRODUCTION;
use crate::playground::{PlaygroundConfig, Snapshot};
use yew::prelude::*;

/// The list of lessons, each a link to its prepared state.
#[component]
pub fn LessonList() -> Html {
    html! {
        <section class="page lessons">
            <h2>{LESSONS_INTRODUCTION.heading}</h2>
            <p class="hint">{LESSONS_INTRODUCTION.lead}</p>
            <div class="lesson-cards">
                { for LESSONS.iter().map(|lesson| html! {
                    <a class="lesson-card" href={lesson.link()} data-testid={format!("lesson-{}", lesson.id)}>
                        <h2>{lesson.title}</h2>
                        <p>{lesson.topic}</p>
                    </a>
                }) }
            </div>
        </section>
    }
}

#[derive(Properties, PartialEq)]
pub struct LessonPanelProps {
    pub config: PlaygroundConfig,
    /// Whether the lesson's goal is reached ([`goal_reached`]): the panel renders again when
    /// that changes, not every frame of training.
    pub reached: bool,
    pub send: Callback<Msg>,
}

/// Whether the open lesson's goal is reached (false without a lesson, or one with no goal).
pub fn goal_reached(config: &PlaygroundConfig, snapshot: &Snapshot) -> bool {
    let Some(lesson) = config.lesson.as_deref().and_then(find) else {
        return false;
    };
    match lesson.goal {
        Goal::Explore => false,
        Goal::ClassifyEveryPoint => snapshot.train.accuracy >= 1.0,
        Goal::TestAccuracy(target) => snapshot.test.accuracy >= target,
    }
}

/// The open lesson's explanation, with its goal and whether it is reached.
#[component]
pub fn LessonPanel(props: &LessonPanelProps) -> Html {
    let Some(lesson) = props.config.lesson.as_deref().and_then(find) else {
        return html! {};
    };
    let leave = {
        let mut config = props.config.clone();
        config.lesson = None;
        props
            .send
            .reform(move |_| Msg::Configure(Box::new(config.clone())))
    };
    html! {
        <aside class="lesson-panel" data-testid="lesson-panel">
            <div class="lesson-head">
                <span class="lesson-tag">{"Lesson"}</span>
                <h2>{lesson.title}</h2>
                <button class="small" title="Leave the lesson" onclick={leave}>{"×"}</button>
            </div>
            { for lesson.text.iter().map(|paragraph| html! { <p>{*paragraph}</p> }) }
            {goal_status(lesson, props.reached)}
        </aside>
    }
}

fn goal_status(lesson: &Lesson, reached: bool) -> Html {
    let wanted = match lesson.goal {
        Goal::Explore => return html! {},
        Goal::ClassifyEveryPoint => "Goal: classify every training point correctly.".to_string(),
        Goal::TestAccuracy(target) => format!("Goal: reach {:.0}% test accuracy.", target * 100.0),
    };
    html! {
        <div class={classes!("goal", reached.then_some("reached"))} data-testid="lesson-goal">
            { if reached { "Solved! ".to_string() + &wanted } else { wanted } }
        </div>
    }
}
