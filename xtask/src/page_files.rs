//! The page's own files in `dist/`: one style sheet from `www/*.css`, the loader from
//! `www/loader.js` and `index.html` from `www/index.html`, each filled in and named by a hash
//! of its content where a browser may keep it.

use crate::command::{Result, root};
use crate::wasm_builds::{Variant, content_hash};
use std::path::Path;

/// The style sheets, in the order they apply (later rules win).
const STYLE_SHEETS: [&str; 6] = [
    "style.css",
    "images.css",
    "sequences.css",
    "seq2seq.css",
    "draw_pad.css",
    "phone.css",
];

/// What the page may load and run: only its own files, its wasm compiled from them, its
/// training worker from a `blob:` script (which imports the app's own module), and images it
/// draws itself. Styles allow attributes, which Yew sets for the views' sizes and colours.
/// Written into the page, so that any static host applies it.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; \
     script-src 'self' 'wasm-unsafe-eval'; worker-src 'self' blob:; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; \
     object-src 'none'; base-uri 'none'; form-action 'none'";

/// Writes the style sheet, the loader of `builds` and `index.html` into `dist`.
pub fn write(dist: &Path, builds: &[(Variant, String)]) -> Result {
    let mut style = String::new();
    for sheet in STYLE_SHEETS {
        style.push_str(&read(&format!("www/{sheet}"))?);
        style.push('\n');
    }
    let style_name = write_hashed(dist, "style", "css", &style)?;
    let loader = fill_loader(&read("www/loader.js")?, builds)?;
    let loader_name = write_hashed(dist, "loader", "js", &loader)?;
    let page = fill(
        &read("www/index.html")?,
        &[
            ("content_security_policy", CONTENT_SECURITY_POLICY),
            ("style", &format!("./{style_name}")),
            ("loader", &format!("./{loader_name}")),
        ],
    )?;
    write_file(&dist.join("index.html"), &page)
}

/// The loader with the names of the two builds in place of its placeholders.
fn fill_loader(template: &str, builds: &[(Variant, String)]) -> Result<String> {
    let mut loader = template.to_string();
    for (variant, name) in builds {
        let placeholder = match variant {
            Variant::Simd128 => "SIMD128_BUILD",
            Variant::RelaxedSimd => "RELAXED_SIMD_BUILD",
        };
        if !loader.contains(placeholder) {
            return Err(format!("www/loader.js has no {placeholder} to fill"));
        }
        loader = loader.replace(placeholder, name);
    }
    Ok(loader)
}

/// `template` with each `{{key}}` replaced by its value; a key left unfilled is an error.
fn fill(template: &str, values: &[(&str, &str)]) -> Result<String> {
    let mut page = template.to_string();
    for (key, value) in values {
        page = page.replace(&format!("{{{{{key}}}}}"), value);
    }
    match page.find("{{") {
        Some(at) => Err(format!("www/index.html: a fill left unfilled at byte {at}")),
        None => Ok(page),
    }
}

/// Writes `content` as `<stem>-<hash>.<extension>` into `dist`; returns the file's name.
fn write_hashed(dist: &Path, stem: &str, extension: &str, content: &str) -> Result<String> {
    let name = format!(
        "{stem}-{:016x}.{extension}",
        content_hash(&[content.as_bytes()])
    );
    write_file(&dist.join(&name), content)?;
    Ok(name)
}

fn read(relative: &str) -> Result<String> {
    let path = root().join(relative);
    std::fs::read_to_string(&path)
        .map_err(|error| format!("cannot read {}: {error}", path.display()))
}

fn write_file(path: &Path, content: &str) -> Result {
    std::fs::write(path, content)
        .map_err(|error| format!("cannot write {}: {error}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_template_is_filled_completely() {
        let template = read("www/index.html").unwrap();
        let page = fill(
            &template,
            &[
                ("content_security_policy", CONTENT_SECURITY_POLICY),
                ("style", "./style-1.css"),
                ("loader", "./loader-2.js"),
            ],
        )
        .unwrap();
        assert!(page.contains(r#"<script type="module" src="./loader-2.js"></script>"#));
        assert!(page.contains("script-src 'self' 'wasm-unsafe-eval'"));
        assert!(fill(&template, &[("style", "x")]).is_err());
    }

    #[test]
    fn the_loader_names_both_builds() {
        let template = read("www/loader.js").unwrap();
        let builds = [
            (Variant::Simd128, "neural-playground-00aa".to_string()),
            (
                Variant::RelaxedSimd,
                "neural-playground-relaxed-simd-11bb".to_string(),
            ),
        ];
        let loader = fill_loader(&template, &builds).unwrap();
        assert!(
            loader.contains(
                r#"? "./neural-playground-relaxed-simd-11bb" : "./neural-playground-00aa""#
            )
        );
        assert!(fill_loader("nothing to fill", &builds).is_err());
    }

    #[test]
    fn every_style_sheet_in_www_is_bundled() {
        let mut sheets: Vec<String> = std::fs::read_dir(root().join("www"))
            .unwrap()
            .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
            .filter(|name| name.ends_with(".css"))
            .collect();
        sheets.sort();
        let mut bundled = STYLE_SHEETS.map(String::from).to_vec();
        bundled.sort();
        assert_eq!(sheets, bundled);
    }
}
