//! Accessibility checks in the page: axe-core's WCAG rules, run by axe itself inside Chromium.
//!
//! `cargo xtask test` fetches axe-core from npm once and names its `axe.min.js` in `$AXE_CORE`.

use serde_json::Value;

use crate::page::Page;

/// The variable naming axe-core's `axe.min.js`.
pub const AXE_CORE_ENV: &str = "AXE_CORE";

/// The rule sets the issue asks for: WCAG 2.0, 2.1 and 2.2 at levels A and AA.
const WCAG_TAGS: [&str; 5] = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"];
/// Rules outside those tags that Lighthouse's accessibility score counts (best practices and
/// axe's experimental `td-has-header`), run too so that a page keeps its score of 100.
const LIGHTHOUSE_RULES: [&str; 12] = [
    "landmark-one-main",
    "heading-order",
    "empty-heading",
    "td-has-header",
    "th-has-data-cells",
    "table-duplicate-name",
    "aria-allowed-role",
    "aria-dialog-name",
    "aria-text",
    "aria-treeitem-name",
    "image-redundant-alt",
    "skip-link",
];

/// One broken rule and where: axe's rule id, its help text, and the CSS paths of the elements.
#[derive(Debug, Clone, PartialEq)]
pub struct Violation {
    pub rule: String,
    pub help: String,
    pub elements: Vec<String>,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} ({}) on {} element(s): {}",
            self.rule,
            self.help,
            self.elements.len(),
            self.elements.join(" | ")
        )
    }
}

fn axe_source() -> String {
    let path = std::env::var_os(AXE_CORE_ENV).unwrap_or_else(|| {
        panic!("${AXE_CORE_ENV} is not set: run `cargo xtask test browser`, which fetches axe-core")
    });
    std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("cannot read axe-core at {path:?}: {error}"))
}

impl Page {
    /// Runs axe-core's WCAG A and AA rules, and the others Lighthouse scores, over the whole
    /// page as it is now.
    pub async fn axe_violations(&self) -> Vec<Violation> {
        let loaded = self.execute("return typeof window.axe === 'object';").await;
        if loaded != Value::Bool(true) {
            self.execute(&axe_source()).await;
        }
        let tags: Vec<Value> = WCAG_TAGS.iter().map(|tag| Value::from(*tag)).collect();
        let more: Vec<Value> = LIGHTHOUSE_RULES
            .iter()
            .map(|rule| Value::from(*rule))
            .collect();
        let found = self
            .execute_async(
                "const [tags, more, done] = arguments;
                 const rules = axe.getRules(tags).map(rule => rule.ruleId).concat(more);
                 axe.run(document, { runOnly: { type: 'rule', values: rules }, resultTypes: ['violations'] })
                   .then(results => done(results.violations.map(v => ({
                     rule: v.id,
                     help: v.help,
                     elements: v.nodes.map(n => n.target.join(' ') + (n.failureSummary ? ' — ' + n.failureSummary.split('\\n').slice(1).join(' ').trim() : '')),
                   }))))
                   .catch(error => done([{ rule: 'axe-error', help: String(error), elements: [] }]));",
                vec![Value::Array(tags), Value::Array(more)],
            )
            .await;
        found
            .as_array()
            .expect("axe returns a list")
            .iter()
            .map(|violation| Violation {
                rule: violation["rule"].as_str().unwrap_or_default().to_string(),
                help: violation["help"].as_str().unwrap_or_default().to_string(),
                elements: violation["elements"]
                    .as_array()
                    .map(|elements| {
                        elements
                            .iter()
                            .map(|e| e.as_str().unwrap_or_default().to_string())
                            .collect()
                    })
                    .unwrap_or_default(),
            })
            .collect()
    }

    /// Asserts that axe finds no WCAG A or AA violation on the page in the state `state`
    /// (e.g. "the playground training"), listing every one found otherwise.
    pub async fn assert_accessible(&self, state: &str) {
        let violations = self.axe_violations().await;
        if !violations.is_empty() {
            let shot = self
                .screenshot(&format!("inaccessible-{}", state.replace(' ', "-")))
                .await;
            let list: Vec<String> = violations.iter().map(ToString::to_string).collect();
            panic!(
                "axe-core finds {} rule(s) broken on {state} (screenshot {}):\n{}",
                violations.len(),
                shot.display(),
                list.join("\n")
            );
        }
    }
}
