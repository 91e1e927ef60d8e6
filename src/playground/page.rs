//! The pages of the app: the playground itself, the backprop stepper and the explorers. The
//! page is part of the URL, so a teacher can link straight to one.

/// A page's heading and the paragraph under it, which its view shows and which the loading page
/// (`www/index.html`) shows too while the engine loads: the same words in the same place, so a
/// learner reads the page's idea at once on a slow connection.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Introduction {
    pub heading: &'static str,
    pub lead: &'static str,
}

pub const LESSONS_INTRODUCTION: Introduction = Introduction {
    heading: "Lessons from the course",
    lead: "Each lesson opens the playground in a prepared state. Its link can be shared or \
           projected in class.",
};

pub const ACTIVATIONS_INTRODUCTION: Introduction = Introduction {
    heading: "Activation functions and their derivatives",
    lead: "A neuron computes f(Σ wᵢxᵢ + b). The activation f bends the straight line; its slope f' is \
           the factor the chain rule multiplies into every gradient that flows back through the \
           neuron. Where f' is tiny, learning stalls.",
};

pub const LOSSES_INTRODUCTION: Introduction = Introduction {
    heading: "Loss functions: how wrong is a prediction?",
    lead: "A loss function turns the gap between what the network predicts and what it should \
           predict into one number that training drives down. It must be differentiable so that \
           gradient descent can follow it.",
};

pub const OPTIMIZERS_INTRODUCTION: Introduction = Introduction {
    heading: "Optimizers racing on one loss surface",
    lead: "Five optimizers start from the same point and follow the same gradient; only their update \
           rules differ. SGD steps straight down the slope, a fixed fraction (the learning rate) of \
           the gradient. Momentum accumulates a velocity from past gradients, so it speeds along a \
           long valley and overshoots across it. AdaGrad divides each weight's step by the root of \
           that weight's accumulated squared gradients, so steep directions slow down for good; \
           RMSprop uses a decaying average of the squared gradients instead, so it never stalls. \
           Adam combines momentum with RMSprop's scaling and corrects both averages for starting at \
           zero.",
};

pub const WORDS_INTRODUCTION: Introduction = Introduction {
    heading: "Documents as word counts: Sports or Politics?",
    lead: "Say a language has only the words a, b and c. A document becomes three numbers: f1 = count \
           of a, f2 = count of b, f3 = count of c. One layer turns them into two scores, c1 = \
           f·W[:,1] + b1 for Sports and c2 = f·W[:,2] + b2 for Politics, and the larger score is the \
           category. Problem 2 asks for weights such that f1 > f2 + f3 gives Sports and anything \
           else Politics.",
};

pub const ONE_WEIGHT_INTRODUCTION: Introduction = Introduction {
    heading: "Training one weight: gradient descent on the loss x² + 3",
    lead: "Say the classifier had a single weight x and its loss were x² + 3. Start at x = 2: the loss \
           is 7. The derivative of the loss is 2x = 4, positive, so increasing x would increase the \
           loss: step the other way, x ← x − rate · 4. At rate 0.01 that gives 1.96, and a loss of \
           6.8416. Repeat a few hundred times and x approaches 0, where the loss is smallest.",
};

pub const CONVOLUTION_INTRODUCTION: Introduction = Introduction {
    heading: "Convolution: a kernel sliding over an image",
    lead: "At each position the kernel's weights multiply the numbers under it, the products are \
           added up and the bias is added: one cell of the output (a feature map). Then the window \
           moves by the stride. Padding puts zeros around the input so that the window can also sit \
           on its edges. With several input channels each kernel has one k×k grid per channel and \
           all their products go into one sum; each output channel has its own kernel and its own \
           bias.",
};

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

    /// The heading and lead paragraph the page opens with, where it has them.
    pub fn introduction(self) -> Option<Introduction> {
        match self {
            Page::Lessons => Some(LESSONS_INTRODUCTION),
            Page::Activations => Some(ACTIVATIONS_INTRODUCTION),
            Page::Losses => Some(LOSSES_INTRODUCTION),
            Page::Optimizers => Some(OPTIMIZERS_INTRODUCTION),
            Page::Words => Some(WORDS_INTRODUCTION),
            Page::OneWeight => Some(ONE_WEIGHT_INTRODUCTION),
            Page::Convolution => Some(CONVOLUTION_INTRODUCTION),
            Page::Playground | Page::Backprop | Page::Images | Page::Sequences | Page::Seq2Seq => {
                None
            }
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
    /// app's titles and in its order, and says what each is about: where a page opens with an
    /// introduction, in its very words.
    #[test]
    fn the_loading_page_links_to_every_page_and_introduces_it() {
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
        let escape = |text: &str| {
            text.replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
        };
        for page in Page::ALL {
            let opening = format!("boot-about\" data-page=\"{}\" hidden>", page.key());
            let section = shell
                .split_once(&opening)
                .and_then(|(_, rest)| rest.split_once("</section>"))
                .map(|(section, _)| section)
                .unwrap_or_else(|| panic!("no introduction of {page:?}"));
            match page.introduction() {
                Some(introduction) => {
                    let heading = format!("<h2>{}</h2>", escape(introduction.heading));
                    assert!(section.contains(&heading), "{page:?}: {section}");
                    let lead = format!("\">{}</p>", escape(introduction.lead));
                    assert!(section.contains(&lead), "{page:?}: {section}");
                }
                None => {
                    let heading = format!("<h2>{}</h2>", escape(page.title()));
                    assert!(section.contains(&heading), "{page:?}: {section}");
                }
            }
        }
    }

    /// The loading page's list of lessons is the app's: every lesson's title, topic and link,
    /// which works before the engine runs.
    #[test]
    fn the_loading_page_lists_every_lesson_with_its_link() {
        let shell = include_str!("../../www/index.html");
        let escape = |text: &str| {
            text.replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
        };
        let cards = shell.matches("<a class=\"lesson-card\"").count();
        assert_eq!(cards, crate::playground::lessons::LESSONS.len());
        for lesson in crate::playground::lessons::LESSONS {
            let card = format!(
                "<a class=\"lesson-card\" href=\"{}\">\n              <h2>{}</h2>\n              <p>{}</p>",
                escape(&lesson.link()),
                escape(lesson.title),
                escape(lesson.topic)
            );
            assert!(shell.contains(&card), "{card}");
        }
    }
}
