//! Driving the page from the keyboard alone: keys go to whatever has the focus, as a user's
//! would (WebDriver key actions, not typing into an element), and the focus moves with Tab.

use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use serde_json::Value;

use crate::page::Page;

/// WebDriver's codes of the keys the tests press.
pub mod keys {
    pub const TAB: &str = "\u{E004}";
    pub const SHIFT_TAB: &str = "\u{E008}\u{E004}";
    pub const ENTER: &str = "\u{E007}";
    pub const SPACE: &str = " ";
    pub const ESCAPE: &str = "\u{E00C}";
    pub const LEFT: &str = "\u{E012}";
    pub const UP: &str = "\u{E013}";
    pub const RIGHT: &str = "\u{E014}";
    pub const DOWN: &str = "\u{E015}";
    pub const SHIFT: &str = "\u{E008}";
    pub const DELETE: &str = "\u{E017}";
}

/// The most Tab presses a walk to one control may take.
const MOST_TABS: usize = 400;

impl Page {
    /// Presses `keys` one after the other on the keyboard, as the focused element gets them;
    /// Shift (`keys::SHIFT`) stays down for the keys after it.
    pub async fn press_keys(&self, keys: &str) {
        let mut actions = KeyActions::new("keyboard".to_string());
        let shift = keys::SHIFT.chars().next().unwrap();
        let mut held = false;
        for key in keys.chars() {
            if key == shift {
                actions = actions.then(KeyAction::Down { value: key });
                held = true;
            } else {
                actions = actions
                    .then(KeyAction::Down { value: key })
                    .then(KeyAction::Up { value: key });
            }
        }
        if held {
            actions = actions.then(KeyAction::Up { value: shift });
        }
        let client = self.client();
        client
            .perform_actions(actions)
            .await
            .unwrap_or_else(|error| panic!("cannot press {keys:?}: {error}"));
        client.release_actions().await.expect("release the keys");
    }

    /// The `data-testid` of the focused element or of the nearest element around it that has
    /// one (a button in a table cell: the cell's), or its tag name when none has.
    pub async fn focused(&self) -> String {
        match self
            .execute(
                "const e = document.activeElement;
                 if (e === null) return '';
                 const named = e.closest('[data-testid]');
                 return named === null ? e.tagName.toLowerCase() : named.getAttribute('data-testid');",
            )
            .await
        {
            Value::String(id) => id,
            other => other.to_string(),
        }
    }

    /// Presses Tab until the control `test_id` has the focus; panics with the controls passed
    /// when it is not reached.
    pub async fn tab_to(&self, test_id: &str) {
        self.move_focus_to(test_id, keys::TAB).await
    }

    /// Presses Shift+Tab until the control `test_id` has the focus (a control before this one).
    pub async fn tab_back_to(&self, test_id: &str) {
        self.move_focus_to(test_id, keys::SHIFT_TAB).await
    }

    async fn move_focus_to(&self, test_id: &str, key: &str) {
        let mut passed = Vec::new();
        for _ in 0..MOST_TABS {
            let focused = self.focused().await;
            if focused == test_id {
                return;
            }
            passed.push(focused);
            self.press_keys(key).await;
        }
        panic!(
            "{test_id} is not reached with {key:?} in {MOST_TABS} presses; the focus went through {:?}",
            passed
        );
    }

    /// Whether the focused element shows a focus ring (an outline or a box shadow).
    pub async fn focus_is_visible(&self) -> bool {
        self.execute(
            "const e = document.activeElement;
             if (e === null) return false;
             const style = getComputedStyle(e);
             return (style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0)
                 || style.boxShadow !== 'none';",
        )
        .await
            == Value::Bool(true)
    }
}
