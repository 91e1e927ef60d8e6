//! `Page`: the app open in a browser, read and driven through its `data-testid` hooks.

use std::fmt::Debug;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use fantoccini::Locator;
use fantoccini::actions::{
    InputSource, MOUSE_BUTTON_LEFT, MouseActions, PointerAction, TouchActions,
};
use fantoccini::elements::Element;
use serde_json::Value;

use crate::driver::Browser;
use crate::readout::{all_digits, first_number};
use crate::server::{StaticServer, dist_dir};

/// How long the page may take to load its wasm and show an element; also the default wait.
pub const LOAD_TIMEOUT: Duration = Duration::from_secs(30);

const POLL_INTERVAL: Duration = Duration::from_millis(100);

/// The CSS selector of a `data-testid` hook.
pub fn selector(test_id: &str) -> String {
    format!("[data-testid=\"{test_id}\"]")
}

/// A browser showing the app served from `dist/` (or `$PLAYGROUND_DIST`).
pub struct Page {
    // Field order is drop order: the browser goes before the server it reads from.
    browser: Browser,
    server: StaticServer,
}

impl Page {
    /// Serves the app and starts a browser; call [`Page::open`] next.
    pub async fn launch() -> Self {
        Self::launch_with_args(&[]).await
    }

    /// Like [`Page::launch`], with more Chromium flags (e.g. `--enable-unsafe-webgpu`).
    pub async fn launch_with_args(extra_chrome_args: &[&str]) -> Self {
        Self::launch_serving(dist_dir(), extra_chrome_args).await
    }

    /// Like [`Page::launch`], in a browser that keeps no site data (cookies and storage
    /// blocked, as a learner may set it): IndexedDB refuses the page.
    pub async fn launch_without_storage() -> Self {
        let server = StaticServer::start(dist_dir());
        let blocked = serde_json::json!({ "profile.default_content_setting_values.cookies": 2 });
        let browser = Browser::launch_with_prefs(&[], blocked).await;
        Self { browser, server }
    }

    /// Like [`Page::launch_with_args`], serving another folder than the app (e.g. a benchmark
    /// page of a reference library); it must hold an `index.html`.
    pub async fn launch_serving(root: PathBuf, extra_chrome_args: &[&str]) -> Self {
        let server = StaticServer::start(root);
        let browser = Browser::launch(extra_chrome_args).await;
        Self { browser, server }
    }

    /// Loads `path_and_hash` (e.g. `/#dataset=circle`) afresh, even if only the hash differs.
    pub async fn open(&self, path_and_hash: &str) {
        let client = &self.browser.client;
        client.goto("about:blank").await.expect("open about:blank");
        let url = format!("{}{path_and_hash}", self.server.base_url());
        client
            .goto(&url)
            .await
            .unwrap_or_else(|error| panic!("cannot open {url}: {error}"));
    }

    /// Resizes the browser's window, e.g. to a phone's 390x844.
    pub async fn resize(&self, width: u32, height: u32) {
        self.browser
            .client
            .set_window_size(width, height)
            .await
            .unwrap_or_else(|error| {
                panic!("cannot resize the window to {width}x{height}: {error}")
            });
    }

    /// The page's whole width and the window's, in CSS pixels: a page that fits scrolls no
    /// wider than the window.
    pub async fn widths(&self) -> (u64, u64) {
        let widths = self
            .execute(
                "return [document.documentElement.scrollWidth, \
                 document.documentElement.clientWidth];",
            )
            .await;
        (widths[0].as_u64().unwrap(), widths[1].as_u64().unwrap())
    }

    /// The WebDriver session, for what the other helpers of this crate need directly.
    pub(crate) fn client(&self) -> &fantoccini::Client {
        &self.browser.client
    }

    /// Runs `script` in the page and returns what it returns.
    pub async fn execute(&self, script: &str) -> Value {
        self.execute_with(script, Vec::new()).await
    }

    /// Runs `script` with `arguments[0..]` bound to `args`.
    pub async fn execute_with(&self, script: &str, args: Vec<Value>) -> Value {
        self.browser
            .client
            .execute(script, args)
            .await
            .unwrap_or_else(|error| panic!("script failed: {error}\n{script}"))
    }

    /// Runs `script` asynchronously: it calls its last argument with the value to return.
    pub async fn execute_async(&self, script: &str, args: Vec<Value>) -> Value {
        self.browser
            .client
            .execute_async(script, args)
            .await
            .unwrap_or_else(|error| panic!("script failed: {error}\n{script}"))
    }

    /// Polls `probe` every 100 ms until `done` accepts its value, and returns that value.
    /// After `timeout`, saves `screenshots/failed-<what>.png` and panics with the last value.
    pub async fn wait_until<T: Debug>(
        &self,
        what: &str,
        timeout: Duration,
        mut probe: impl AsyncFnMut() -> T,
        done: impl Fn(&T) -> bool,
    ) -> T {
        let start = Instant::now();
        loop {
            let value = probe().await;
            if done(&value) {
                return value;
            }
            if start.elapsed() >= timeout {
                let shot = self
                    .try_screenshot(&format!("failed-{}", file_name(what)))
                    .await;
                panic!(
                    "timed out after {timeout:?} waiting until {what}; last value seen: {value:?} \
                     (screenshot: {shot})"
                );
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }

    /// Waits up to `timeout` until the control `test_id` is there and not disabled (e.g. a
    /// Train button once the page's worker has started).
    pub async fn wait_until_enabled(&self, test_id: &str, timeout: Duration) {
        self.wait_until(
            &format!("{test_id} is enabled"),
            timeout,
            async || {
                self.execute_with(
                    "const b = document.querySelector(`[data-testid=${arguments[0]}]`);
                     return b !== null && !b.disabled;",
                    vec![Value::from(test_id)],
                )
                .await
            },
            |ready| ready == &Value::Bool(true),
        )
        .await;
    }

    /// Whether an element with this `data-testid` is in the page now.
    pub async fn exists(&self, test_id: &str) -> bool {
        let found = self
            .execute_with(
                "return document.querySelector(arguments[0]) !== null;",
                vec![Value::String(selector(test_id))],
            )
            .await;
        found.as_bool().unwrap_or(false)
    }

    /// Whether the element appears within `timeout`; unlike [`Page::wait_for`], never panics.
    pub async fn appears(&self, test_id: &str, timeout: Duration) -> bool {
        let start = Instant::now();
        while !self.exists(test_id).await {
            if start.elapsed() >= timeout {
                return false;
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
        true
    }

    /// The element with this `data-testid`, waiting up to `timeout` for it to appear.
    pub async fn wait_for(&self, test_id: &str, timeout: Duration) -> Element {
        let css = selector(test_id);
        let found = self
            .wait_until(
                &format!("{css} exists"),
                timeout,
                async || self.browser.client.find(Locator::Css(&css)).await.ok(),
                Option::is_some,
            )
            .await;
        found.expect("wait_until returned a found element")
    }

    /// Evaluates `expression` on the element `e` with this `data-testid`, waiting for it to exist.
    async fn read(&self, test_id: &str, expression: &str) -> Value {
        let script = format!(
            "const e = document.querySelector(arguments[0]); return e === null ? null : ({expression});"
        );
        let css = Value::String(selector(test_id));
        self.wait_until(
            &format!("{test_id} exists"),
            LOAD_TIMEOUT,
            async || self.execute_with(&script, vec![css.clone()]).await,
            |value| !value.is_null(),
        )
        .await
    }

    /// The element's text (`textContent`, whitespace collapsed and trimmed).
    pub async fn text(&self, test_id: &str) -> String {
        let text = self.read(test_id, "e.textContent").await;
        let text = text.as_str().unwrap_or_default();
        text.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    /// The current `value` of an `<input>` or `<select>`.
    pub async fn value(&self, test_id: &str) -> String {
        let value = self.read(test_id, "String(e.value)").await;
        value.as_str().unwrap_or_default().to_string()
    }

    /// Whether the element's class list contains `class`.
    pub async fn has_class(&self, test_id: &str, class: &str) -> bool {
        let classes = self.read(test_id, "e.getAttribute('class') || ''").await;
        let classes = classes.as_str().unwrap_or_default();
        classes.split_whitespace().any(|name| name == class)
    }

    /// The first decimal number in the element's text ("NaN" and "∞" read as such), waiting
    /// until the text holds one.
    pub async fn number(&self, test_id: &str) -> f64 {
        let text = self
            .wait_until(
                &format!("{test_id} shows a number"),
                LOAD_TIMEOUT,
                async || self.text(test_id).await,
                |text| first_number(text).is_some(),
            )
            .await;
        first_number(&text).expect("wait_until returned a number")
    }

    /// All the digits of the element's text read as one integer ("Epoch 001,234" is 1234).
    pub async fn integer(&self, test_id: &str) -> u64 {
        let text = self
            .wait_until(
                &format!("{test_id} shows digits"),
                LOAD_TIMEOUT,
                async || self.text(test_id).await,
                |text| all_digits(text).is_some(),
            )
            .await;
        all_digits(&text).expect("wait_until returned digits")
    }

    /// Clicks the element like a user (WebDriver click), retrying while it is re-rendered.
    pub async fn click(&self, test_id: &str) {
        self.act_on(test_id, "click", async |element: Element| {
            element.click().await
        })
        .await;
    }

    /// Picks the `<option>` of this value in a `<select>`, like a user.
    pub async fn select(&self, test_id: &str, value: &str) {
        self.act_on(test_id, "select an option of", async |element: Element| {
            element.select_by_value(value).await
        })
        .await;
    }

    /// Sends keys to the element as a user would with it focused (WebDriver codes such as
    /// `\u{E007}` for Enter included), without clearing anything first.
    pub async fn keys(&self, test_id: &str, keys: &str) {
        self.act_on(test_id, "send keys to", async |element: Element| {
            element.send_keys(keys).await
        })
        .await;
    }

    /// Replaces the text of an `<input>` by typing `text`, then fires `change`.
    pub async fn type_into(&self, test_id: &str, text: &str) {
        self.wait_for(test_id, LOAD_TIMEOUT).await;
        // Emptied and announced in one go, as a user's deletion would be: a page that keeps the
        // field's text in its state and renders in between must not put the old text back.
        self.execute_with(
            "const e = document.querySelector(arguments[0]); e.value = '';\
             e.dispatchEvent(new Event('input', { bubbles: true }));",
            vec![Value::String(selector(test_id))],
        )
        .await;
        self.act_on(test_id, "type into", async |element: Element| {
            element.send_keys(text).await
        })
        .await;
        self.execute_with(
            "document.querySelector(arguments[0])\
                .dispatchEvent(new Event('change', { bubbles: true }));",
            vec![Value::String(selector(test_id))],
        )
        .await;
    }

    /// From now on keeps every Blob the page hands the browser as a download (through
    /// `URL.createObjectURL`), so that [`Page::download`] can read what a user would save.
    pub async fn keep_downloads(&self) {
        self.execute(
            "window.keptBlobs = []; const make = URL.createObjectURL;\
             URL.createObjectURL = (blob) => { window.keptBlobs.push(blob); return make(blob); };",
        )
        .await;
    }

    /// The bytes of the `index`-th download kept since [`Page::keep_downloads`].
    pub async fn download(&self, index: usize) -> Vec<u8> {
        let bytes = self
            .execute_with(
                "return window.keptBlobs[arguments[0]].arrayBuffer()\
                 .then(buffer => Array.from(new Uint8Array(buffer)));",
                vec![Value::from(index)],
            )
            .await;
        bytes
            .as_array()
            .unwrap_or_else(|| panic!("no download {index}: {bytes}"))
            .iter()
            .map(|byte| byte.as_u64().expect("a byte") as u8)
            .collect()
    }

    /// Chooses these files in an `<input type=file>`, like a user picking them.
    pub async fn upload(&self, test_id: &str, files: &[PathBuf]) {
        let paths: Vec<String> = files
            .iter()
            .map(|file| file.to_string_lossy().into_owned())
            .collect();
        let joined = paths.join("\n");
        self.act_on(test_id, "choose files in", async |element: Element| {
            element.send_keys(&joined).await
        })
        .await;
    }

    /// Retries `action` on a freshly found element until it succeeds or `LOAD_TIMEOUT` passes;
    /// a re-render between finding and acting makes the element stale.
    async fn act_on<F>(&self, test_id: &str, verb: &str, mut action: F)
    where
        F: AsyncFnMut(Element) -> Result<(), fantoccini::error::CmdError>,
    {
        let element = self.wait_for(test_id, LOAD_TIMEOUT).await;
        let mut outcome = action(element).await;
        let start = Instant::now();
        while let Err(error) = &outcome {
            if start.elapsed() >= Duration::from_secs(5) {
                let shot = self
                    .try_screenshot(&format!("failed-{verb}-{test_id}"))
                    .await;
                panic!("cannot {verb} {test_id}: {error} (screenshot: {shot})");
            }
            tokio::time::sleep(POLL_INTERVAL).await;
            let element = self.wait_for(test_id, LOAD_TIMEOUT).await;
            outcome = action(element).await;
        }
    }

    /// The pixels of a canvas (or of the first canvas inside the element) as a data URL.
    pub async fn canvas_data_url(&self, test_id: &str) -> String {
        let url = self
            .read(
                test_id,
                "(e instanceof HTMLCanvasElement ? e : e.querySelector('canvas')).toDataURL()",
            )
            .await;
        url.as_str().unwrap_or_default().to_string()
    }

    /// A point (viewport pixels) on the element where it is the topmost element, so that
    /// pointer events reach it: for an SVG path, a point on its stroke, not its box's centre.
    pub async fn point_on(&self, test_id: &str) -> (f64, f64) {
        let point = self.read(test_id, POINT_ON_ELEMENT).await;
        let coordinate = |index: usize| point[index].as_f64().expect("a coordinate");
        (coordinate(0), coordinate(1))
    }

    /// Moves the mouse over the element.
    pub async fn hover(&self, test_id: &str) {
        let (x, y) = self.point_on(test_id).await;
        self.pointer(vec![PointerAction::MoveTo {
            duration: None,
            x,
            y,
        }])
        .await;
    }

    /// Moves the mouse onto the element and presses and releases the left button there.
    pub async fn press(&self, test_id: &str) {
        let (x, y) = self.point_on(test_id).await;
        self.pointer(vec![
            PointerAction::MoveTo {
                duration: None,
                x,
                y,
            },
            PointerAction::Down {
                button: MOUSE_BUTTON_LEFT,
            },
            PointerAction::Up {
                button: MOUSE_BUTTON_LEFT,
            },
        ])
        .await;
    }

    /// Presses the left button on the element, moves by (`dx`, `dy`) pixels over 300 ms
    /// (several `pointermove` events) and releases it.
    pub async fn drag(&self, test_id: &str, dx: f64, dy: f64) {
        let stroke = self.stroke(test_id, dx, dy).await;
        self.pointer(stroke).await;
    }

    /// Like [`Page::drag`] with a finger: a touch pointer's down, moves and up.
    pub async fn touch_drag(&self, test_id: &str, dx: f64, dy: f64) {
        let stroke = self.stroke(test_id, dx, dy).await;
        let mut finger = TouchActions::new("finger".to_string());
        for action in stroke {
            finger = finger.then(action);
        }
        let client = &self.browser.client;
        client
            .perform_actions(finger)
            .await
            .expect("perform touch actions");
        client
            .release_actions()
            .await
            .expect("release touch actions");
    }

    /// A drag's actions, whatever points: down on the element, a move by (`dx`, `dy`) over
    /// 300 ms, up.
    async fn stroke(&self, test_id: &str, dx: f64, dy: f64) -> Vec<PointerAction> {
        let (x, y) = self.point_on(test_id).await;
        vec![
            PointerAction::MoveTo {
                duration: None,
                x,
                y,
            },
            PointerAction::Down {
                button: MOUSE_BUTTON_LEFT,
            },
            PointerAction::MoveBy {
                duration: Some(Duration::from_millis(300)),
                x: dx,
                y: dy,
            },
            PointerAction::Up {
                button: MOUSE_BUTTON_LEFT,
            },
        ]
    }

    async fn pointer(&self, actions: Vec<PointerAction>) {
        let mut mouse = MouseActions::new("mouse".to_string());
        for action in actions {
            mouse = mouse.then(action);
        }
        let client = &self.browser.client;
        client
            .perform_actions(mouse)
            .await
            .expect("perform mouse actions");
        client
            .release_actions()
            .await
            .expect("release mouse actions");
    }

    /// Saves a PNG of the viewport as `tests/browser/screenshots/<name>.png`; returns its path.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let png = self
            .browser
            .client
            .screenshot()
            .await
            .expect("take a screenshot");
        let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/screenshots"));
        std::fs::create_dir_all(&dir).expect("create tests/browser/screenshots");
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap_or_else(|error| {
            panic!("cannot write {}: {error}", path.display());
        });
        path
    }

    /// A screenshot taken while failing: never panics itself.
    async fn try_screenshot(&self, name: &str) -> String {
        match self.browser.client.screenshot().await {
            Ok(_) => self.screenshot(name).await.display().to_string(),
            Err(error) => format!("none, {error}"),
        }
    }
}

/// Finds a point on `e` (bound by `Page::read`) that `elementFromPoint` says is `e` itself,
/// sampling along an SVG path's length, or across the box of any other element.
const POINT_ON_ELEMENT: &str = r#"(() => {
    e.scrollIntoView({ block: 'nearest', inline: 'nearest' });
    const candidates = [];
    const fractions = [0.5, 0.4, 0.6, 0.3, 0.7, 0.2, 0.8, 0.15, 0.85, 0.1, 0.9];
    if (typeof e.getTotalLength === 'function' && e.getScreenCTM() !== null) {
        const length = e.getTotalLength();
        const m = e.getScreenCTM();
        for (const f of fractions) {
            const p = e.getPointAtLength(length * f);
            candidates.push([m.a * p.x + m.c * p.y + m.e, m.b * p.x + m.d * p.y + m.f]);
        }
    } else {
        const r = e.getBoundingClientRect();
        for (const f of fractions) {
            candidates.push([r.left + r.width * f, r.top + r.height * f]);
        }
    }
    const rounded = candidates.map(([x, y]) => [Math.round(x), Math.round(y)]);
    const hit = rounded.find(([x, y]) => {
        const top = document.elementFromPoint(x, y);
        return top !== null && (top === e || e.contains(top));
    });
    return hit || rounded[0];
})()"#;

/// `what` made safe as a file name.
fn file_name(what: &str) -> String {
    let name: String = what
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    name.split('-')
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join("-")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_plain() {
        assert_eq!(
            file_name("[data-testid=\"x\"] exists"),
            "data-testid-x-exists"
        );
    }
}
