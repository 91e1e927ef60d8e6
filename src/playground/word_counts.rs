//! The course's document classifier: a language of three words a, b and c, documents turned into
//! their word counts f = (f1, f2, f3), one linear layer c = f·W + b scoring Sports (c1) against
//! Politics (c2), the rule "f1 > f2 + f3 is Sports" to check it against, and the engine training
//! W on the documents ("let the machine learn the weights").

use std::fmt;

use crate::engine::{
    Activation, EngineError, Initializer, LayerSpec, Loss, Model, ModelConfig, OptimizerConfig,
    OptimizerKind, Regularization, Tensor, TrainConfig, Trainer,
};

/// The words of the language, in the order of the features f1, f2, f3.
pub const VOCABULARY: [&str; 3] = ["a", "b", "c"];

/// The two documents the course asks about.
pub const COURSE_DOCUMENTS: [&str; 2] = ["a b a c a b c a c", "a b a a c"];

/// The documents the page starts with: the course's two, then a few more on both sides of the
/// rule, some only one word away from it, so that training has to find the right boundary.
pub const STARTING_DOCUMENTS: [&str; 8] = [
    COURSE_DOCUMENTS[0],
    COURSE_DOCUMENTS[1],
    "a a a b",
    "b c b c a",
    "a a b a c a",
    "c c a b",
    "a a a a b c c",
    "a b b c a",
];

/// The longest document a learner may type, to keep the table readable.
pub const MAX_WORDS: usize = 40;

/// Gradient steps of "Train it", each on every document at once.
pub const TRAINING_STEPS: usize = 300;
const TRAINING_RATE: f32 = 0.1;

/// The two categories, in the order of the outputs c1, c2.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Category {
    Sports,
    Politics,
}

impl Category {
    pub fn name(self) -> &'static str {
        match self {
            Category::Sports => "Sports",
            Category::Politics => "Politics",
        }
    }

    /// The output that stands for it: 0 for c1, 1 for c2.
    pub fn output(self) -> usize {
        match self {
            Category::Sports => 0,
            Category::Politics => 1,
        }
    }
}

/// Why a typed document was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DocumentError {
    Empty,
    UnknownWord(String),
    TooLong(usize),
}

impl fmt::Display for DocumentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DocumentError::Empty => write!(f, "A document needs at least one word."),
            DocumentError::UnknownWord(word) => write!(
                f,
                "\"{word}\" is not a word of this language: it has only the words a, b and c."
            ),
            DocumentError::TooLong(words) => write!(
                f,
                "That document has {words} words; keep it to {MAX_WORDS} at most."
            ),
        }
    }
}

/// The features of a document: how many times each word occurs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WordCounts {
    /// f1, f2, f3: the counts of a, b and c.
    pub counts: [u32; 3],
}

impl WordCounts {
    pub fn features(self) -> [f32; 3] {
        self.counts.map(|count| count as f32)
    }

    /// What the course's rule says: Sports when f1 > f2 + f3, otherwise Politics.
    pub fn rule_category(self) -> Category {
        let [a, b, c] = self.counts;
        if a > b + c {
            Category::Sports
        } else {
            Category::Politics
        }
    }
}

/// Counts the words of a document, refusing any word outside the language.
pub fn count_words(document: &str) -> Result<WordCounts, DocumentError> {
    let mut counts = WordCounts::default();
    let mut words = 0;
    for word in document.split_whitespace() {
        let index = VOCABULARY
            .iter()
            .position(|known| known.eq_ignore_ascii_case(word))
            .ok_or_else(|| DocumentError::UnknownWord(word.to_string()))?;
        counts.counts[index] += 1;
        words += 1;
    }
    match words {
        0 => Err(DocumentError::Empty),
        n if n > MAX_WORDS => Err(DocumentError::TooLong(n)),
        _ => Ok(counts),
    }
}

/// One linear layer from the three counts to the two scores: `c = f·W + b`, where row `i` of
/// `weights` holds the weights from f(i+1) and column `j` the weights into c(j+1).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct WordClassifier {
    pub weights: [[f32; 2]; 3],
    pub biases: [f32; 2],
}

impl WordClassifier {
    /// The course's answer to Problem 2: c1 = f1 and c2 = f2 + f3.
    pub fn course_solution() -> WordClassifier {
        WordClassifier {
            weights: [[1.0, 0.0], [0.0, 1.0], [0.0, 1.0]],
            biases: [0.0, 0.0],
        }
    }

    /// The scores c1 and c2 of a document.
    pub fn scores(&self, counts: WordCounts) -> [f32; 2] {
        let f = counts.features();
        std::array::from_fn(|output| {
            self.biases[output]
                + (0..3)
                    .map(|input| f[input] * self.weights[input][output])
                    .sum::<f32>()
        })
    }

    /// The argmax of the scores; a tie goes to the first, c1, as argmax usually does.
    pub fn predict(&self, counts: WordCounts) -> Category {
        let [sports, politics] = self.scores(counts);
        if politics > sports {
            Category::Politics
        } else {
            Category::Sports
        }
    }

    /// The classifier's verdict on one document beside the rule's.
    pub fn judge(&self, counts: WordCounts) -> Judgement {
        Judgement {
            counts,
            scores: self.scores(counts),
            predicted: self.predict(counts),
            expected: counts.rule_category(),
        }
    }

    /// Every weight and bias to two decimals, as the page's number inputs show them.
    pub fn to_hundredths(self) -> WordClassifier {
        let round = |value: f32| (value * 100.0).round() / 100.0;
        WordClassifier {
            weights: self.weights.map(|row| row.map(round)),
            biases: self.biases.map(round),
        }
    }

    /// Whether every document gets the category the rule gives it.
    pub fn solves(&self, documents: &[WordCounts]) -> bool {
        documents.iter().all(|&counts| self.judge(counts).agrees())
    }
}

/// What the classifier makes of a document, and what the rule says it should.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Judgement {
    pub counts: WordCounts,
    pub scores: [f32; 2],
    pub predicted: Category,
    pub expected: Category,
}

impl Judgement {
    pub fn agrees(&self) -> bool {
        self.predicted == self.expected
    }

    /// Whether the two scores are equal, so that the prediction is argmax's tie-break (c1),
    /// not a preference: all-zero weights tie on every document.
    pub fn tied(&self) -> bool {
        self.scores[0] == self.scores[1]
    }
}

/// Fits W and b on the documents, labelled by the rule, with the engine: a model of 3 inputs
/// and 2 linear outputs, softmax cross-entropy, `TRAINING_STEPS` full-batch steps from zero.
pub fn train(documents: &[WordCounts]) -> Result<WordClassifier, EngineError> {
    if documents.is_empty() {
        return Err(EngineError::InvalidConfig(
            "there are no documents to train on".to_string(),
        ));
    }
    let model = Model::new(&ModelConfig {
        inputs: 3,
        layers: vec![LayerSpec::new(2, Activation::Linear)],
        initializer: Initializer::Zeros,
        seed: 0,
    })?;
    let mut trainer = Trainer::new(
        model,
        TrainConfig {
            loss: Loss::SoftmaxCrossEntropy,
            optimizer: OptimizerConfig::new(OptimizerKind::Adam, TRAINING_RATE),
            batch_size: documents.len(),
            regularization: Regularization::None,
            regularization_rate: 0.0,
            seed: 1,
            clip_norm: None,
            truncation: None,
        },
    )?;
    let inputs: Vec<Vec<f32>> = documents.iter().map(|d| d.features().to_vec()).collect();
    let targets: Vec<Vec<f32>> = documents
        .iter()
        .map(|d| {
            let mut one_hot = vec![0.0; 2];
            one_hot[d.rule_category().output()] = 1.0;
            one_hot
        })
        .collect();
    let (inputs, targets) = (Tensor::from_rows(&inputs)?, Tensor::from_rows(&targets)?);
    for _ in 0..TRAINING_STEPS {
        trainer.train_step(&inputs, &targets)?;
    }
    let model = trainer.model();
    Ok(WordClassifier {
        weights: std::array::from_fn(|input| {
            std::array::from_fn(|output| model.weight(0, input, output))
        }),
        biases: std::array::from_fn(|output| model.bias(0, output)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn starting_counts() -> Vec<WordCounts> {
        STARTING_DOCUMENTS
            .iter()
            .map(|d| count_words(d).unwrap())
            .collect()
    }

    #[test]
    fn the_course_documents_count_as_on_the_slides() {
        assert_eq!(count_words(COURSE_DOCUMENTS[0]).unwrap().counts, [4, 2, 3]);
        assert_eq!(count_words(COURSE_DOCUMENTS[1]).unwrap().counts, [3, 1, 1]);
    }

    #[test]
    fn the_rule_says_politics_then_sports_for_the_course_documents() {
        let categories = COURSE_DOCUMENTS.map(|d| count_words(d).unwrap().rule_category());
        assert_eq!(categories, [Category::Politics, Category::Sports]);
    }

    #[test]
    fn words_outside_the_language_and_empty_documents_are_refused() {
        assert_eq!(
            count_words("a b d"),
            Err(DocumentError::UnknownWord("d".to_string()))
        );
        assert_eq!(count_words("   "), Err(DocumentError::Empty));
        assert_eq!(
            count_words(&"a ".repeat(MAX_WORDS + 1)),
            Err(DocumentError::TooLong(41))
        );
        assert_eq!(count_words(" A  b\tc ").unwrap().counts, [1, 1, 1]);
    }

    #[test]
    fn the_course_weights_give_the_slides_scores_and_solve_problem_2() {
        let classifier = WordClassifier::course_solution();
        let first = classifier.judge(count_words(COURSE_DOCUMENTS[0]).unwrap());
        assert_eq!(first.scores, [4.0, 5.0]);
        assert_eq!(first.predicted, Category::Politics);
        assert!(classifier.solves(&starting_counts()));
    }

    #[test]
    fn all_zero_weights_do_not_solve_it() {
        assert!(!WordClassifier::default().solves(&starting_counts()));
    }

    #[test]
    fn all_zero_weights_tie_everywhere_and_the_course_weights_nowhere() {
        let zero = WordClassifier::default();
        let course = WordClassifier::course_solution();
        for counts in starting_counts() {
            assert!(zero.judge(counts).tied());
            assert!(!course.judge(counts).tied(), "{counts:?}");
        }
    }

    #[test]
    fn training_with_the_engine_solves_problem_2() {
        let documents = starting_counts();
        let trained = train(&documents).unwrap();
        for &counts in &documents {
            let judgement = trained.judge(counts);
            assert!(judgement.agrees(), "{judgement:?} with {trained:?}");
        }
        // The page shows the weights to two decimals: those still solve it.
        assert!(trained.to_hundredths().solves(&documents), "{trained:?}");
        // It learned the rule, not the list: documents it never saw are classified alike.
        for unseen in ["a a a a a b b c", "a a b b c", "a", "b b b", "a a a c c"] {
            let counts = count_words(unseen).unwrap();
            assert!(trained.judge(counts).agrees(), "{unseen}: {trained:?}");
        }
    }

    #[test]
    fn training_on_nothing_is_an_error_not_a_panic() {
        assert!(train(&[]).is_err());
    }
}
