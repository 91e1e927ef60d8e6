//! Hands bytes to the browser as a download, named: a Blob behind an object URL and a link that
//! is clicked once (the URL is let go a minute later, when the download has long started).

use gloo::file::{Blob, ObjectUrl};
use wasm_bindgen::JsCast;

/// Offers `bytes` as the file `name` of the type `mime`, or says why the browser would not.
pub fn save_bytes(name: &str, bytes: &[u8], mime: &str) -> Result<(), String> {
    let url = ObjectUrl::from(Blob::new_with_options(bytes, Some(mime)));
    let document = web_sys::window()
        .and_then(|window| window.document())
        .ok_or("no document to download from")?;
    let link = document
        .create_element("a")
        .map_err(|_| "the page cannot make a download link")?
        .dyn_into::<web_sys::HtmlElement>()
        .map_err(|_| "the page cannot make a download link")?;
    link.set_attribute("href", &url)
        .and_then(|()| link.set_attribute("download", name))
        .map_err(|_| "the page cannot name the download")?;
    link.click();
    gloo::timers::callback::Timeout::new(60_000, move || drop(url)).forget();
    Ok(())
}
