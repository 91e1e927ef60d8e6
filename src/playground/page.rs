//! The pages of the app: the playground itself, the backprop stepper and the explorers. The
//! page is part of the URL, so a teacher can link straight to one.

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Page {
    #[default]
    Playground,
    Lessons,
    Backprop,
    Activations,
    Losses,
    Optimizers,
    Words,
    OneWeight,
    Convolution,
    Images,
    Sequences,
    Seq2Seq,
}

impl Page {
    pub const ALL: [Page; 12] = [
        Page::Playground,
        Page::Lessons,
        Page::Backprop,
        Page::Activations,
        Page::Losses,
        Page::Optimizers,
        Page::Words,
        Page::OneWeight,
        Page::Convolution,
        Page::Images,
        Page::Sequences,
        Page::Seq2Seq,
    ];

    /// The short name used in the URL and in test hooks (`nav-<key>`).
    pub fn key(self) -> &'static str {
        match self {
            Page::Playground => "playground",
            Page::Lessons => "lessons",
            Page::Backprop => "backprop",
            Page::Activations => "activations",
            Page::Losses => "losses",
            Page::Optimizers => "optimizers",
            Page::Words => "words",
            Page::OneWeight => "one-weight",
            Page::Convolution => "convolution",
            Page::Images => "images",
            Page::Sequences => "sequences",
            Page::Seq2Seq => "seq2seq",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Page::Playground => "Playground",
            Page::Lessons => "Lessons",
            Page::Backprop => "Backprop step by step",
            Page::Activations => "Activations",
            Page::Losses => "Losses",
            Page::Optimizers => "Optimizer race",
            Page::Words => "Documents",
            Page::OneWeight => "One weight",
            Page::Convolution => "Convolution",
            Page::Images => "Images (MNIST)",
            Page::Sequences => "Sequences (RNN)",
            Page::Seq2Seq => "Seq2seq",
        }
    }

    pub fn from_key(key: &str) -> Option<Page> {
        Page::ALL.into_iter().find(|page| page.key() == key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The page shown while the module loads (`www/index.html`) links to every page, with the
    /// app's titles and in its order, and says what each does.
    #[test]
    fn the_loading_page_links_to_every_page() {
        let shell = include_str!("../../www/index.html");
        let links: Vec<&str> = shell
            .split("<a class=\"nav\" href=\"#page=")
            .skip(1)
            .map(|rest| rest.split("</a>").next().unwrap_or_default())
            .collect();
        let expected: Vec<String> = Page::ALL
            .iter()
            .map(|page| format!("{}\">{}", page.key(), page.title()))
            .collect();
        assert_eq!(links, expected);
        for page in Page::ALL {
            let about = format!(
                "<p class=\"boot-about\" data-page=\"{}\" hidden>",
                page.key()
            );
            assert!(shell.contains(&about), "no description of {page:?}");
        }
    }
}
