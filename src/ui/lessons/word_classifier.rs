//! The document classifier page: documents of the words a, b and c, their counts, an editable
//! weight matrix and the verdicts it gives beside the rule's, and a button that lets the engine
//! learn the weights. The counting, scoring and training live in `playground::word_counts`.

use crate::playground::page::WORDS_INTRODUCTION;
use crate::playground::word_counts::{
    Category, Judgement, STARTING_DOCUMENTS, TRAINING_STEPS, WordClassifier as Classifier,
    WordCounts, count_words, train,
};
use web_sys::HtmlInputElement;
use yew::prelude::*;

/// The names of the three features, in the order of W's rows.
const FEATURE_NAMES: [&str; 3] = ["f1 (count of a)", "f2 (count of b)", "f3 (count of c)"];

/// A document on the page: its words and, once counted, their counts.
#[derive(Clone, PartialEq)]
struct Document {
    text: String,
    counts: WordCounts,
}

fn starting_documents() -> Vec<Document> {
    STARTING_DOCUMENTS
        .iter()
        .filter_map(|text| {
            let counts = count_words(text).ok()?;
            Some(Document {
                text: text.to_string(),
                counts,
            })
        })
        .collect()
}

#[component]
pub fn WordClassifier() -> Html {
    let documents = use_state(starting_documents);
    let classifier = use_state(Classifier::default);
    let draft = use_state(String::new);
    let refusal = use_state(|| None::<String>);
    let training_note = use_state(|| None::<String>);

    let judgements: Vec<Judgement> = documents
        .iter()
        .map(|d| classifier.judge(d.counts))
        .collect();
    let agreeing = judgements.iter().filter(|j| j.agrees()).count();

    let set_parameter = {
        let classifier = classifier.clone();
        Callback::from(move |(row, column, value): (usize, usize, f32)| {
            let mut next = *classifier;
            match row {
                3 => next.biases[column] = value,
                _ => next.weights[row][column] = value,
            }
            classifier.set(next);
        })
    };
    let add_document = {
        let (documents, draft, refusal) = (documents.clone(), draft.clone(), refusal.clone());
        Callback::from(move |event: SubmitEvent| {
            event.prevent_default();
            match count_words(&draft) {
                Ok(counts) => {
                    let mut next = (*documents).clone();
                    let text = draft.split_whitespace().collect::<Vec<_>>().join(" ");
                    next.push(Document { text, counts });
                    documents.set(next);
                    draft.set(String::new());
                    refusal.set(None);
                }
                Err(error) => refusal.set(Some(error.to_string())),
            }
        })
    };
    let on_draft = {
        let draft = draft.clone();
        Callback::from(move |event: InputEvent| {
            draft.set(event.target_unchecked_into::<HtmlInputElement>().value())
        })
    };
    let remove_document = {
        let documents = documents.clone();
        Callback::from(move |index: usize| {
            let mut next = (*documents).clone();
            next.remove(index);
            documents.set(next);
        })
    };
    let train_it = {
        let (documents, classifier, note) =
            (documents.clone(), classifier.clone(), training_note.clone());
        Callback::from(move |_: MouseEvent| {
            let counts: Vec<WordCounts> = documents.iter().map(|d| d.counts).collect();
            match train(&counts) {
                Ok(trained) => {
                    classifier.set(trained.to_hundredths());
                    note.set(Some(format!(
                        "The engine trained W and b: {TRAINING_STEPS} gradient steps (Adam, softmax \
                         cross-entropy) on the {} documents, each labelled by the rule, starting from zero.",
                        counts.len()
                    )));
                }
                Err(error) => note.set(Some(format!("Training failed: {error}"))),
            }
        })
    };
    let zero_weights = {
        let (classifier, note) = (classifier.clone(), training_note.clone());
        Callback::from(move |_: MouseEvent| {
            classifier.set(Classifier::default());
            note.set(None);
        })
    };

    html! {
        <section class="page word-classifier" data-testid="words-page">
            <h2>{WORDS_INTRODUCTION.heading}</h2>
            <p class="words-lead">{WORDS_INTRODUCTION.lead}</p>
            <div class="words-layout">
                <div class="words-documents">
                    {document_table(&documents, &judgements, &remove_document)}
                    <form class="words-new" onsubmit={add_document}>
                        <input type="text" data-testid="word-new-document" placeholder="type a document, e.g. a c a b a"
                            value={(*draft).clone()} oninput={on_draft} />
                        <button type="submit" data-testid="word-add">{"Add document"}</button>
                    </form>
                    if let Some(refusal) = (*refusal).clone() {
                        <p class="words-refusal" data-testid="word-document-error" role="alert">{refusal}</p>
                    }
                    if agreeing == judgements.len() && !judgements.is_empty() {
                        <p class="words-solved" data-testid="words-solved">{"Solved: every document classified as the rule says."}</p>
                    } else {
                        <p class="words-status" data-testid="words-status">
                            {format!("{agreeing} of {} documents classified as the rule says; the rows in red are not.", judgements.len())}
                        </p>
                    }
                </div>
                <div class="words-weights">
                    <h3>{"Weights W and biases b"}</h3>
                    {weight_matrix(&classifier, &set_parameter)}
                    <div class="words-buttons">
                        <button class="words-train" data-testid="words-train" onclick={train_it}>{"Train it"}</button>
                        <button data-testid="words-zero" onclick={zero_weights}>{"All zero"}</button>
                    </div>
                    if let Some(note) = (*training_note).clone() {
                        <p class="hint" data-testid="words-training-note">{note}</p>
                    }
                    <p class="hint">
                        {"With thousands of words the matrix has thousands of rows: nobody finds those weights by hand. \
                          Training shows the network examples and lets it adjust W to reduce a loss."}
                    </p>
                </div>
            </div>
        </section>
    }
}

fn document_table(
    documents: &[Document],
    judgements: &[Judgement],
    remove: &Callback<usize>,
) -> Html {
    let rows = documents.iter().zip(judgements).enumerate().map(|(i, (document, judgement))| {
        let counts = document.counts.counts.iter().enumerate().map(|(k, count)| html! {
            <td class="number" data-testid={format!("word-count-{i}-{k}")}>{count}</td>
        });
        let scores = judgement.scores.iter().enumerate().map(|(k, score)| html! {
            <td class="number" data-testid={format!("word-score-{i}-{k}")}>{format!("{score:.2}")}</td>
        });
        let onclick = remove.reform(move |_: MouseEvent| i);
        html! {
            <tr class={classes!((!judgement.agrees()).then_some("disagrees"))} data-testid={format!("word-row-{i}")}>
                <td class="document" data-testid={format!("word-document-{i}")}>{&document.text}</td>
                {for counts}
                {for scores}
                if judgement.tied() {
                    <td class={category_class(judgement.predicted)} data-testid={format!("word-predicted-{i}")}
                        title="c1 = c2: no preference; argmax takes the first, c1">{judgement.predicted.name()}{" (tie)"}</td>
                } else {
                    <td class={category_class(judgement.predicted)} data-testid={format!("word-predicted-{i}")}>{judgement.predicted.name()}</td>
                }
                <td class={category_class(judgement.expected)} data-testid={format!("word-expected-{i}")}>{judgement.expected.name()}</td>
                <td><button class="small" title="Remove this document" {onclick}>{"×"}</button></td>
            </tr>
        }
    });
    html! {
        <table class="words-table" data-testid="words-table">
            <thead><tr>
                <th>{"Document"}</th><th class="number">{"f1"}</th><th class="number">{"f2"}</th><th class="number">{"f3"}</th>
                <th class="number">{"c1"}</th><th class="number">{"c2"}</th><th>{"Classifier says"}</th>
                <th title="Sports when f1 > f2 + f3, otherwise Politics">{"Rule says"}</th><th><span class="visually-hidden">{"remove"}</span></th>
            </tr></thead>
            <tbody>{for rows}</tbody>
        </table>
    }
}

fn category_class(category: Category) -> &'static str {
    match category {
        Category::Sports => "category sports",
        Category::Politics => "category politics",
    }
}

/// The 3×2 matrix and the two biases as number inputs; row 3 stands for the biases.
fn weight_matrix(classifier: &Classifier, set: &Callback<(usize, usize, f32)>) -> Html {
    let input = |row: usize, column: usize, value: f32, test_id: String| {
        let class = ["c1 (Sports)", "c2 (Politics)"][column];
        let name = match FEATURE_NAMES.get(row) {
            Some(feature) => format!("Weight from {feature} into {class}"),
            None => format!("Bias of {class}"),
        };
        // Half-typed numbers ("", "-") are skipped rather than read as 0, which would overwrite them.
        let set = set.clone();
        let oninput = Callback::from(move |event: InputEvent| {
            let typed = event.target_unchecked_into::<HtmlInputElement>().value();
            if let Some(value) = typed.parse::<f32>().ok().filter(|v| v.is_finite()) {
                set.emit((row, column, value));
            }
        });
        html! {
            <td><input type="number" step="0.5" value={value.to_string()} data-testid={test_id} {oninput}
                aria-label={name} /></td>
        }
    };
    let rows = FEATURE_NAMES.iter().enumerate().map(|(row, name)| {
        let cells = (0..2).map(|column| {
            input(
                row,
                column,
                classifier.weights[row][column],
                format!("word-weight-{row}-{column}"),
            )
        });
        html! { <tr><th>{*name}</th>{for cells}</tr> }
    });
    let biases = (0..2).map(|column| {
        input(
            3,
            column,
            classifier.biases[column],
            format!("word-bias-{column}"),
        )
    });
    html! {
        <table class="words-matrix">
            <thead><tr><th></th><th>{"into c1 (Sports)"}</th><th>{"into c2 (Politics)"}</th></tr></thead>
            <tbody>
                {for rows}
                <tr class="bias-row"><th>{"bias b"}</th>{for biases}</tr>
            </tbody>
        </table>
    }
}
