//! A chart's numbers as a table, shown on demand: a disclosure ("Show the numbers") that builds
//! its rows only while open, so that a chart redrawn every frame costs nothing more until a
//! learner asks. The table is the long text alternative behind each chart's one-line summary.

use web_sys::HtmlDetailsElement;
use yew::prelude::*;

/// The most rows a table lists; longer series are thinned evenly
/// ([`crate::playground::table_rows::evenly_spaced`]).
pub const MOST_ROWS: usize = 60;

#[derive(Properties, PartialEq)]
pub struct DataTableProps {
    /// What the numbers are of, read as the table's caption.
    pub caption: AttrValue,
    /// Column headings; the first column heads each row.
    pub columns: Vec<AttrValue>,
    /// Builds the rows, called only while the table is open.
    pub rows: Callback<(), Vec<Vec<String>>>,
    #[prop_or_default]
    pub test_id: Option<AttrValue>,
}

#[component]
pub fn DataTable(props: &DataTableProps) -> Html {
    let open = use_state(|| false);
    let ontoggle = {
        let open = open.clone();
        Callback::from(move |event: Event| {
            open.set(event.target_unchecked_into::<HtmlDetailsElement>().open())
        })
    };
    let table = open.then(|| {
        let header = props
            .columns
            .iter()
            .map(|column| html! { <th scope="col">{column.clone()}</th> });
        let rows = props.rows.emit(()).into_iter().map(|row| {
            let mut cells = row.into_iter();
            let head = cells.next().unwrap_or_default();
            html! { <tr><th scope="row">{head}</th>{ for cells.map(|cell| html! { <td>{cell}</td> }) }</tr> }
        });
        html! {
            <div class="data-table-scroll" tabindex="0" role="region" aria-label={props.caption.clone()}>
                <table>
                    <caption>{props.caption.clone()}</caption>
                    <thead><tr>{ for header }</tr></thead>
                    <tbody>{ for rows }</tbody>
                </table>
            </div>
        }
    });
    html! {
        <details class="data-table" {ontoggle} data-testid={props.test_id.clone()}>
            <summary>{"Show the numbers"}<span class="visually-hidden">{": "}{props.caption.clone()}</span></summary>
            { table.unwrap_or_default() }
        </details>
    }
}
