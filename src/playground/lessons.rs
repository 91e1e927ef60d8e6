//! The course's lessons: each one a prepared state of the app (a URL hash), a short explanation,
//! and, where the lesson has one, a goal the page checks.

/// What a lesson asks of the learner, checked live.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Goal {
    /// Nothing to reach: read, step, watch.
    Explore,
    /// Every training point classified correctly.
    ClassifyEveryPoint,
    /// Test accuracy at least this fraction.
    TestAccuracy(f32),
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Lesson {
    pub id: &'static str,
    pub title: &'static str,
    /// The course topic it brings to life.
    pub topic: &'static str,
    /// The state it opens (a URL hash without `#`; `lesson=<id>` is added).
    pub hash: &'static str,
    /// The explanation, paragraph by paragraph.
    pub text: &'static [&'static str],
    pub goal: Goal,
}

impl Lesson {
    /// The full hash that opens the lesson.
    pub fn link(&self) -> String {
        format!("#{}&lesson={}", self.hash, self.id)
    }
}

pub const LESSONS: &[Lesson] = &[
    Lesson {
        id: "single-layer",
        title: "A single layer: c = f·W + b",
        topic: "Neurons and the worked example c1 = 11.5, c2 = 9.3",
        hash: "page=backprop&layers=&features=x,y&loss=softmax-ce&parameters=3,7,4,1,0.5,0.3&example=1,2&exampleLabel=0",
        text: &[
            "Two inputs f1 = 1 and f2 = 2 feed two output neurons. Neuron c1 has weights W11 = 3, W12 = 4 and bias 0.5; neuron c2 has W21 = 7, W22 = 1 and bias 0.3.",
            "Step through the forward pass: c1 = 1·3 + 2·4 + 0.5 = 11.5 and c2 = 1·7 + 2·1 + 0.3 = 9.3. The classifier's answer is the argmax: class 1, since 11.5 > 9.3.",
        ],
        goal: Goal::Explore,
    },
    Lesson {
        id: "problem-1",
        title: "Problem 1: find weights so that f1 > f2 gives class 1",
        topic: "Classifiers as argmax; setting weights by hand",
        hash: "page=playground&dataset=problem1&layers=&features=x,y&loss=softmax-ce&init=zeros",
        text: &[
            "A single layer with two outputs, c1 and c2; the predicted class is the larger one. All weights start at zero, so every point sits on the fence.",
            "Drag the edges (or click one and type a weight) until every point is classified correctly. Hint: make c2 grow with f1 and c1 grow with f2.",
        ],
        goal: Goal::ClassifyEveryPoint,
    },
    Lesson {
        id: "documents",
        title: "Problem 2: classify documents by their word counts",
        topic: "Text as a vector of counts; f1 > f2 + f3 is Sports; learning the weights",
        hash: "page=words",
        text: &[
            "A language with only the words a, b and c: a document becomes f1, f2, f3, the counts of each word, and one layer scores Sports (c1) against Politics (c2).",
            "Type weights until every document is classified as the rule f1 > f2 + f3 says, then let the engine train them instead.",
        ],
        goal: Goal::Explore,
    },
    Lesson {
        id: "problem-3-single-layer",
        title: "Problem 3: f1·f2 > 0 defeats a single layer",
        topic: "Why hidden layers: a straight boundary cannot solve Problem 3",
        hash: "page=playground&dataset=problem3&layers=&features=x,y&loss=bce&learningRate=0.03",
        text: &[
            "Class 1 when f1 and f2 have the same sign: two opposite quadrants. A single layer draws one straight boundary, so it can at best get about half of the points right.",
            "Press Play and watch the accuracy stall near 50%, whatever the learning rate.",
        ],
        goal: Goal::Explore,
    },
    Lesson {
        id: "problem-3-linear-stack",
        title: "Problem 3: stacked linear layers collapse into one",
        topic: "Stacking linear layers collapses (W W'); non-linearity is needed",
        hash: "page=playground&dataset=problem3&layers=4,4&activations=linear,linear&features=x,y&loss=bce",
        text: &[
            "Two hidden layers, but with linear activations: f·W1·W2·W3 is the same as f·(W1·W2·W3), one matrix. The product matrix is shown under the network.",
            "Train it: the boundary stays a straight line and the accuracy stays near 50%, exactly like a single layer.",
        ],
        goal: Goal::Explore,
    },
    Lesson {
        id: "problem-3-hidden-layer",
        title: "Problem 3: one non-linear hidden layer solves it",
        topic: "A hidden layer with a non-linearity",
        hash: "page=playground&dataset=problem3&layers=4&activations=tanh&features=x,y&loss=bce&learningRate=0.1",
        text: &[
            "The same data, one hidden layer of 4 tanh neurons. Press Play: the hidden neurons each draw a line and the output combines them into the two quadrants.",
            "Goal: reach 95% test accuracy.",
        ],
        goal: Goal::TestAccuracy(0.95),
    },
    Lesson {
        id: "symmetry",
        title: "All-equal weights never learn different features",
        topic: "Weight initialisation; the symmetry problem",
        hash: "page=playground&dataset=circle&layers=4,4&activations=tanh,tanh&features=x,y&init=equal&loss=bce&learningRate=0.1",
        text: &[
            "Every weight starts at 0.5, so every hidden neuron of a layer computes the same thing, receives the same gradient and stays identical: the diagram marks twins with =.",
            "Press Play and watch them stay twins. Then pick Xavier initialisation: random weights break the symmetry and the network learns the circle.",
        ],
        goal: Goal::Explore,
    },
    Lesson {
        id: "course-backprop",
        title: "Backpropagation by the chain rule",
        topic: "The course's 2-layer sigmoid network with J = ½ (A2 − Y)²",
        hash: "page=backprop&layers=2&activations=sigmoid&features=x,y&loss=half-se&dataset=xor&parameters=0.15,0.25,0.2,0.3,0.35,0.35,0.4,0.45,0.6&example=0.05,0.1&exampleLabel=0.01&learningRate=0.5",
        text: &[
            "A 2-2-1 network of sigmoid neurons, A1 = σ(Z1) and A2 = σ(Z2), with the loss J = ½ (A2 − Y)², whose derivative is simply A2 − Y. The example is x = (0.05, 0.10) with target Y = 0.01.",
            "Step backwards and watch the chain dJ/dW2 = (A2 − Y) · A2(1 − A2) · A1 being built one factor at a time, then the update W ← W − α dJ/dW.",
        ],
        goal: Goal::Explore,
    },
    Lesson {
        id: "activations",
        title: "Activation functions and their derivatives",
        topic: "Sigmoid, tanh, ReLU, GELU, softmax; where gradients vanish",
        hash: "page=activations",
        text: &["Plot each activation and its derivative, and see where the gradient vanishes."],
        goal: Goal::Explore,
    },
    Lesson {
        id: "losses",
        title: "Loss functions",
        topic: "MSE, MAE, RMSE, cross-entropy; the course's table",
        hash: "page=losses",
        text: &[
            "Drag predictions and watch each loss respond; the course's cross-entropy table is reproduced.",
        ],
        goal: Goal::Explore,
    },
    Lesson {
        id: "one-weight",
        title: "Gradient descent on one weight: loss x² + 3",
        topic: "From x = 2 (loss 7), one step at rate 0.01 gives 1.96 (loss 6.8416)",
        hash: "page=one-weight",
        text: &[
            "One weight x and the loss x² + 3. Each step moves x against the gradient 2x, by the learning rate times it.",
            "Step at 0.01 to get the course's numbers, then try larger rates: 1.0 oscillates and 1.1 diverges.",
        ],
        goal: Goal::Explore,
    },
    Lesson {
        id: "convolution",
        title: "Convolution and pooling, one window at a time",
        topic: "Kernels, stride, padding, channels; four 2×2 kernels give 17, 9, 13, 13; pooling",
        hash: "page=convolution",
        text: &[
            "A kernel slides over the image; at each position it multiplies the pixels under it by its weights, adds them up and adds a bias: one cell of the feature map.",
            "Step through the course's examples, change the stride, padding and kernel size and watch n_out = (n_in + 2p − k)/s + 1; then pool the course's 4×4 grid.",
        ],
        goal: Goal::Explore,
    },
    Lesson {
        id: "optimizers",
        title: "Optimisers racing on one loss surface",
        topic: "SGD, momentum, AdaGrad, RMSprop, Adam; the learning rate",
        hash: "page=optimizers",
        text: &[
            "Five optimisers start from the same point; change the learning rate and the surface.",
        ],
        goal: Goal::Explore,
    },
];

pub fn find(id: &str) -> Option<&'static Lesson> {
    LESSONS.iter().find(|lesson| lesson.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::playground::{Session, from_hash};

    #[test]
    fn every_lesson_link_reads_without_a_rejected_field_and_builds() {
        for lesson in LESSONS {
            let (config, rejected) = from_hash(&lesson.link());
            assert!(rejected.is_empty(), "{}: {rejected:?}", lesson.id);
            assert_eq!(config.lesson.as_deref(), Some(lesson.id));
            Session::new(config).unwrap_or_else(|e| panic!("{}: {e}", lesson.id));
        }
    }

    #[test]
    fn lesson_ids_are_unique() {
        for (i, lesson) in LESSONS.iter().enumerate() {
            assert!(
                LESSONS[i + 1..].iter().all(|other| other.id != lesson.id),
                "{}",
                lesson.id
            );
        }
    }
}
