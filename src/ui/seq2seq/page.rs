//! The Seq2seq page: keeps its training worker (the same loop as every training page, fed
//! translations), the curves and the latest test's scores, the answers by input length for
//! each attention trained with, and a copy of the network (its weights follow the worker's
//! tests) that decodes a typed input step by step and shows its embeddings.

use super::attention_lengths::AttentionLengths;
use super::decoding_view::DecodingView;
use super::embedding_view::EmbeddingView;
use super::setup_card::SetupCard;
use crate::data::translation::TranslationTask;
use crate::engine::{Attention, Described, Sequential};
use crate::playground::images::protocol::{Command, Report};
use crate::playground::images::training::{Progress, RunSettings};
use crate::playground::model_files::{open_seq2seq_file, page_file};
use crate::playground::model_link::decode_model;
use crate::playground::pytorch_export::seq2seq_export;
use crate::playground::sequences::decoding::{Decoding, decode, drawn_input, parse_input};
use crate::playground::sequences::embedding_map::{Projection, embedding_maps};
use crate::playground::sequences::generalisation::LengthAccuracy;
use crate::playground::sequences::seq2seq_settings::Seq2SeqSettings;
use crate::ui::images::curves::{Curves, TestPoint};
use crate::ui::images::kept_run::{KeptRun, RunCurves};
use crate::ui::images::training_card::{RunState, TrainingCard};
use crate::ui::images::worker_link::{TrainingWorker, WorkerReport};
use crate::ui::model_file_card::{
    ModelFileCard, ReadFile, link_opened_status, linked_status, opened_status, saved_status,
};
use crate::ui::pytorch_export_card::{PyTorchExportCard, exported_status};
use crate::ui::saved_work_view::{SavedWorkCard, SavedWorkNotice};
use crate::ui::shared::Shared;
use web_sys::HtmlInputElement;
use yew::prelude::*;

pub enum Msg {
    Worker(WorkerReport),
    Settings(Seq2SeqSettings),
    Training(RunSettings),
    Train,
    Pause,
    Reset,
    Input(String),
    /// Draws another input of the task's lengths into the decoding.
    AnotherInput,
    DismissMessage,
    DownloadModel,
    ModelRead(ReadFile),
    LinkModel,
    ShowExport,
    HideExport,
    DownloadExport,
    AutosaveTick,
    AutosaveDone(Result<f64, String>),
    KeptRead(Result<Option<Vec<u8>>, String>),
    OpenKeptWork,
    DismissWorkNotice,
}

/// The page's key in the browser's store of kept work.
const AUTOSAVE_KEY: &str = "seq2seq";

#[derive(Properties, PartialEq)]
pub struct Seq2SeqPageProps {
    /// The set-up, as the URL has it.
    pub settings: Seq2SeqSettings,
    /// Called with the set-up whenever the learner changes it.
    pub on_settings: Callback<Seq2SeqSettings>,
    /// A model the link carries (`playground::model_link`), opened as a file would be.
    #[prop_or_default]
    pub model_link: Option<AttrValue>,
}

pub struct Seq2SeqPage {
    worker: TrainingWorker,
    worker_ready: bool,
    gpu: Option<Result<String, String>>,
    settings: Seq2SeqSettings,
    state: RunState,
    progress: Option<Progress>,
    examples_per_second: f32,
    train_loss: Shared<Vec<(f32, f32)>>,
    tests: Shared<Vec<TestPoint>>,
    /// Share of output tokens right at the latest test.
    accuracy: Option<f32>,
    /// Share of whole answers right at the latest test.
    answers: Option<f32>,
    /// Answers right by input length at the latest test of each attention trained with (on
    /// this task and these lengths).
    by_attention: Vec<(Attention, Vec<LengthAccuracy>)>,
    model: Sequential,
    /// The typed input, and its decoding or why there is none.
    text: String,
    decoding: Result<Decoding, String>,
    /// How many inputs were drawn for the decoding so far.
    drawn: u64,
    /// The input and output tokens' embedding maps.
    maps: Option<(Projection, Projection)>,
    message: Option<String>,
    /// Whether the network came from a model file (the next run starts from its weights).
    from_file: bool,
    model_status: Option<String>,
    /// The exported PyTorch script, while its panel is open, or why there is none.
    export_script: Option<Result<AttrValue, AttrValue>>,
    export_status: Option<String>,
    /// The link's model field last opened.
    opened_link: Option<AttrValue>,
    kept: KeptRun<Seq2SeqSettings>,
}

/// An input to start the decoding with, as long as the task's longest.
fn example_input(task: TranslationTask, longest: usize) -> String {
    match task {
        TranslationTask::AddBinary => {
            let bits = longest.clamp(1, 4);
            let a: String = "1011".chars().take(bits).collect();
            let b: String = "110".chars().take(bits.min(3)).collect();
            format!("{a} + {b}")
        }
        TranslationTask::Reverse | TranslationTask::Sort => "31415926535897932384626"
            .chars()
            .take(longest)
            .map(String::from)
            .collect::<Vec<_>>()
            .join(" "),
    }
}

/// The untrained network of `settings` (the defaults' if they cannot build one).
fn initial_model(settings: &Seq2SeqSettings) -> Sequential {
    settings
        .model()
        .init()
        .or_else(|_| Seq2SeqSettings::default().model().init())
        .expect("the default encoder-decoder builds")
}

impl Component for Seq2SeqPage {
    type Message = Msg;
    type Properties = Seq2SeqPageProps;

    fn create(ctx: &Context<Self>) -> Self {
        let on_report = ctx.link().callback(Msg::Worker);
        let mut message = None;
        let worker = TrainingWorker::spawn(on_report.clone()).unwrap_or_else(|reason| {
            message = Some(format!(
                "This browser could not start a training worker ({reason}): training runs on the \
                 page itself, in short slices."
            ));
            TrainingWorker::in_page(on_report)
        });
        let settings = ctx.props().settings.clone();
        let mut page = Seq2SeqPage {
            worker,
            worker_ready: false,
            gpu: None,
            state: RunState::Idle,
            progress: None,
            examples_per_second: 0.0,
            train_loss: Shared::new(Vec::new()),
            tests: Shared::new(Vec::new()),
            accuracy: None,
            answers: None,
            by_attention: Vec::new(),
            model: initial_model(&settings),
            text: example_input(settings.task, settings.longest),
            decoding: Err(String::new()),
            drawn: 0,
            maps: None,
            message,
            settings,
            from_file: false,
            model_status: None,
            export_script: None,
            export_status: None,
            opened_link: None,
            kept: KeptRun::new(
                AUTOSAVE_KEY,
                ctx.link().callback(|()| Msg::AutosaveTick),
                ctx.link().callback(Msg::KeptRead),
            ),
        };
        page.refresh_views();
        page.open_link(ctx);
        page
    }

    fn update(&mut self, ctx: &Context<Self>, msg: Msg) -> bool {
        match msg {
            Msg::Worker(report) => self.on_report(ctx, report),
            Msg::Settings(settings) => {
                ctx.props().on_settings.emit(settings.clone());
                self.adopt_settings(settings);
            }
            Msg::Training(run) => {
                let settings = self.settings.with_training(&run);
                ctx.props().on_settings.emit(settings.clone());
                self.adopt_settings(settings);
            }
            Msg::Train => match self.state {
                RunState::Paused => {
                    self.worker.send(&Command::Play);
                    self.state = RunState::Training;
                    self.message = None;
                }
                RunState::Idle | RunState::Finished => {
                    if let Err(error) = self.settings.validate() {
                        self.message = Some(format!("This set-up cannot train: {error}"));
                        return true;
                    }
                    self.clear_history();
                    self.message = None;
                    let weights = self.from_file.then(|| self.model.params().to_flat());
                    self.worker.send(&Command::Start {
                        settings: self.settings.run_settings(),
                        weights,
                    });
                    self.state = RunState::Training;
                }
                RunState::Training => {}
            },
            Msg::Pause => {
                self.worker.send(&Command::Pause);
                self.state = RunState::Paused;
            }
            Msg::Reset => {
                self.kept.forget();
                self.worker.send(&Command::Reset);
                self.state = RunState::Idle;
                self.clear_history();
                self.model = initial_model(&self.settings);
                self.from_file = false;
                self.refresh_views();
            }
            Msg::Input(text) => {
                self.text = text;
                self.refresh_views();
            }
            Msg::AnotherInput => {
                let lengths = (self.settings.shortest, self.settings.longest);
                if let Ok(text) = drawn_input(self.settings.task, lengths, self.drawn) {
                    self.drawn += 1;
                    self.text = text;
                    self.refresh_views();
                }
            }
            Msg::DismissMessage => self.message = None,
            Msg::DownloadModel => self.model_status = Some(self.download_model()),
            Msg::LinkModel => {
                self.model_status = Some(linked_status(page_file(&self.model, &self.settings)))
            }
            Msg::ModelRead((name, bytes)) => {
                let opened = bytes.and_then(|bytes| self.open_model(ctx, &bytes));
                self.model_status = Some(opened_status(&name, opened));
            }
            Msg::ShowExport => {
                self.export_script = Some(
                    seq2seq_export(&self.settings, &self.model)
                        .map(|export| AttrValue::from(export.script))
                        .map_err(AttrValue::from),
                );
            }
            Msg::HideExport => self.export_script = None,
            Msg::DownloadExport => {
                let name = "seq2seq-pytorch";
                let zip =
                    seq2seq_export(&self.settings, &self.model).and_then(|export| export.zip(name));
                self.export_status = Some(exported_status(&format!("{name}.zip"), zip));
            }
            Msg::AutosaveTick => {
                let running = self.state != RunState::Idle;
                if self.kept.due(running) {
                    let page = KeptRun::page(self.curves());
                    self.worker.send(&Command::Save { page });
                }
                return false;
            }
            Msg::AutosaveDone(result) => self.kept.done(result),
            Msg::KeptRead(read) => {
                self.kept.read(read);
                self.offer_kept();
            }
            Msg::OpenKeptWork => {
                if let Some((settings, bytes)) = self.kept.open_waiting() {
                    ctx.props().on_settings.emit(settings.clone());
                    self.adopt_settings(settings);
                    self.worker.send_saved_run(bytes);
                }
            }
            Msg::DismissWorkNotice => self.kept.dismiss(),
        }
        true
    }

    fn changed(&mut self, ctx: &Context<Self>, old: &Self::Properties) -> bool {
        if ctx.props().model_link != old.model_link {
            self.open_link(ctx);
            return true;
        }
        let settings = &ctx.props().settings;
        if *settings == self.settings {
            return false;
        }
        self.adopt_settings(settings.clone());
        true
    }

    fn view(&self, ctx: &Context<Self>) -> Html {
        let link = ctx.link();
        let percent =
            |share: Option<f32>| share.map_or("–".to_string(), |a| format!("{:.1}%", 100.0 * a));
        let on_input = link.callback(|event: InputEvent| {
            let input: HtmlInputElement = event.target_unchecked_into();
            Msg::Input(input.value())
        });
        let input_hint = match self.settings.task {
            TranslationTask::AddBinary => "two binary numbers, e.g. 101 + 11",
            TranslationTask::Reverse | TranslationTask::Sort => "digits, e.g. 3 1 4",
        };
        html! {
            <div class="sequences-page seq2seq-page" data-testid="seq2seq-page">
                <SavedWorkNotice id="s2s" notice={self.kept.notice()}
                    on_fresh={link.callback(|()| Msg::Reset)}
                    on_open={link.callback(|()| Msg::OpenKeptWork)}
                    on_dismiss={link.callback(|()| Msg::DismissWorkNotice)} />
                <div class={classes!("message", self.message.is_none().then_some("hidden"))} data-testid="s2s-message" role="status">
                    {self.message.clone().unwrap_or_default()}
                    if self.message.is_some() {
                        <button class="dismiss" aria-label="dismiss" onclick={link.callback(|_| Msg::DismissMessage)}>{"×"}</button>
                    }
                </div>
                <main class="sequences-columns">
                    <h2 class="visually-hidden">{"Seq2seq: an encoder, a decoder and attention"}</h2>
                    <div class="sequences-setup-column">
                        <SetupCard settings={self.settings.clone()} locked={self.state != RunState::Idle}
                            on_change={link.callback(Msg::Settings)} />
                        <TrainingCard settings={self.settings.run_settings()} state={self.state} can_train={self.worker_ready}
                            progress={self.progress} examples_per_second={self.examples_per_second} gpu={self.gpu.clone()}
                            on_settings={link.callback(Msg::Training)} on_train={link.callback(|_| Msg::Train)}
                            on_pause={link.callback(|_| Msg::Pause)} on_reset={link.callback(|_| Msg::Reset)}
                            train_id="s2s-train" augmentation={None::<AttrValue>} examples="examples" />
                        <ModelFileCard id="s2s" locked={!matches!(self.state, RunState::Idle | RunState::Finished)}
                            status={self.model_status.clone()} on_download={link.callback(|()| Msg::DownloadModel)}
                            on_link={link.callback(|()| Msg::LinkModel)} on_open={link.callback(Msg::ModelRead)} />
                        <PyTorchExportCard id="s2s" script={self.export_script.clone()}
                            status={self.export_status.clone()}
                            on_show={link.callback(|()| Msg::ShowExport)}
                            on_hide={link.callback(|()| Msg::HideExport)}
                            on_download={link.callback(|()| Msg::DownloadExport)} />
                        <SavedWorkCard id="s2s" status={self.kept.status().clone()}
                            on_fresh={link.callback(|()| Msg::Reset)} />
                    </div>
                    <div class="sequences-results">
                        <section class="card" aria-labelledby="s2s-results-title">
                            <h3 id="s2s-results-title">{"Answers right "}
                                <span class="big-number" data-testid="s2s-answers" aria-live="polite">{percent(self.answers)}</span></h3>
                            <p class="hint" data-testid="s2s-tokens">{format!(
                                "{} of the output tokens right, the decoder reading back its own choices (greedy).",
                                percent(self.accuracy)
                            )}</p>
                            <Curves train_loss={self.train_loss.clone()} tests={self.tests.clone()} epochs={self.settings.epochs as f32}
                                accuracy_title="test tokens right" />
                        </section>
                        <section class="card unrolled-card" aria-labelledby="s2s-decoding-title">
                            <h3 id="s2s-decoding-title">{"Step through decoding"}</h3>
                            <label class="row">{format!("an input ({input_hint}; 1 to {} tokens)", self.settings.longest)}
                                <input type="text" value={self.text.clone()} oninput={on_input} data-testid="s2s-input"
                                    spellcheck="false" autocomplete="off" />
                            </label>
                            <button onclick={link.callback(|_| Msg::AnotherInput)} data-testid="s2s-another">{"Draw another input"}</button>
                            {match &self.decoding {
                                Ok(decoding) => html! {
                                    <DecodingView decoding={decoding.clone()} task={self.settings.task} />
                                },
                                Err(reason) => html! { <p class="hint" role="status" data-testid="s2s-input-error">{reason.clone()}</p> },
                            }}
                            <p class="hint">{"Strips are vectors, one cell per value, orange below zero and blue above (hover one, or read it with a screen reader, for its numbers). The decoding follows the network as it trains."}</p>
                        </section>
                        <section class="card" aria-labelledby="s2s-lengths-title">
                            <h3 id="s2s-lengths-title">{"Longer inputs, with and without attention"}</h3>
                            <AttentionLengths measured={self.by_attention.clone()}
                                shortest={self.settings.shortest} longest={self.settings.longest} />
                            <p class="hint">{"Each line is the latest test of a run with that attention, on this task and these lengths. Without attention the decoder knows the input only through the encoding, a fixed number of values, however long the input: train once with none and once with dot-product attention on inputs up to 16 long to see it."}</p>
                        </section>
                        <section class="card" aria-labelledby="s2s-embeddings-title">
                            <h3 id="s2s-embeddings-title">{"Embeddings"}</h3>
                            if let Some((source, target)) = &self.maps {
                                <EmbeddingView source={source.clone()} target={target.clone()} task={self.settings.task} />
                            }
                            <p class="hint">{"Each token's learned embedding, projected on the two directions in which the embeddings differ most (principal components). Tokens the network treats alike move together as it trains."}</p>
                        </section>
                    </div>
                </main>
            </div>
        }
    }
}

impl Seq2SeqPage {
    fn adopt_settings(&mut self, settings: Seq2SeqSettings) {
        let network_changed = settings.model() != self.settings.model();
        let data_changed = (settings.task, settings.shortest, settings.longest)
            != (
                self.settings.task,
                self.settings.shortest,
                self.settings.longest,
            );
        let task_changed =
            settings.task != self.settings.task || settings.longest != self.settings.longest;
        self.settings = settings;
        if network_changed && self.state == RunState::Idle {
            self.model = initial_model(&self.settings);
        }
        if data_changed {
            self.by_attention.clear();
        }
        if task_changed {
            self.text = example_input(self.settings.task, self.settings.longest);
        }
        self.refresh_views();
    }

    /// Decodes the typed input with the page's network and maps its embeddings.
    fn refresh_views(&mut self) {
        self.decoding = parse_input(self.settings.task, &self.text, self.settings.longest)
            .and_then(|input| decode(&self.model, &input).map_err(|e| e.to_string()));
        self.maps = embedding_maps(&self.model);
    }

    fn download_model(&self) -> String {
        let name = format!(
            "seq2seq-{}-{}{}.safetensors",
            self.settings.task.key(),
            self.settings.cell.key(),
            self.settings.hidden
        );
        saved_status(
            &name,
            page_file(&self.model, &self.settings),
            &format!("{} parameters and the set-up", self.model.parameter_count()),
        )
    }

    fn open_link(&mut self, ctx: &Context<Self>) {
        let field = ctx.props().model_link.clone();
        if let Some(field) = field.filter(|field| Some(field) != self.opened_link.as_ref()) {
            self.opened_link = Some(field.clone());
            let opened = decode_model(&field).and_then(|bytes| self.open_model(ctx, &bytes));
            self.model_status = Some(link_opened_status(opened));
        }
    }

    fn open_model(&mut self, ctx: &Context<Self>, bytes: &[u8]) -> Result<String, String> {
        if !matches!(self.state, RunState::Idle | RunState::Finished) {
            return Err("a run is in progress: reset it first".to_string());
        }
        let (network, settings) = open_seq2seq_file(bytes)?;
        ctx.props().on_settings.emit(settings.clone());
        self.adopt_settings(settings);
        self.clear_history();
        self.state = RunState::Idle;
        self.model = network;
        self.from_file = true;
        self.refresh_views();
        Ok(format!(
            "{} parameters; Train goes on from its weights.",
            self.model.parameter_count()
        ))
    }

    fn offer_kept(&mut self) {
        if !(self.worker_ready && self.state == RunState::Idle) {
            return;
        }
        if let Some(bytes) = self.kept.offer(&self.settings) {
            self.worker.send_saved_run(bytes);
        }
    }

    fn curves(&self) -> RunCurves<Seq2SeqSettings> {
        RunCurves {
            setup: self.settings.clone(),
            train_loss: self.train_loss.to_vec(),
            tests: self.tests.to_vec(),
            progress: self.progress,
            first_gradients: Vec::new(),
            saved_at: 0.0,
        }
    }

    fn resumed(&mut self, page: &str) {
        self.clear_history();
        if let Some(curves) = self.kept.resumed(page) {
            self.train_loss = Shared::new(curves.train_loss);
            self.tests = Shared::new(curves.tests);
            self.progress = curves.progress;
        }
        self.from_file = false;
        self.state = match self.progress.is_some_and(|progress| progress.finished) {
            true => RunState::Finished,
            false => RunState::Paused,
        };
    }

    /// Forgets the run's curves and scores (the comparison by attention stays).
    fn clear_history(&mut self) {
        self.train_loss = Shared::new(Vec::new());
        self.tests = Shared::new(Vec::new());
        self.accuracy = None;
        self.answers = None;
        self.progress = None;
    }

    fn on_report(&mut self, ctx: &Context<Self>, worker_report: WorkerReport) {
        let WorkerReport {
            report,
            weights,
            checkpoint,
        } = worker_report;
        self.kept.heard(&report);
        match report {
            Report::Failed { message } if !self.worker_ready && !self.worker.runs_in_page() => {
                self.worker = TrainingWorker::in_page(ctx.link().callback(Msg::Worker));
                self.message = Some(format!(
                    "The training worker could not start ({message}): training runs on the page \
                     itself, in short slices."
                ));
            }
            Report::Ready => {
                self.worker_ready = true;
                self.offer_kept();
            }
            Report::Gpu { found } => self.gpu = Some(found),
            Report::Notice { message } => self.message = Some(message),
            Report::Started { .. } => {
                if !self.from_file {
                    self.model = initial_model(&self.settings);
                }
            }
            Report::Progress {
                progress,
                examples_per_second,
            } => {
                if progress.steps > 0 && progress.train_loss.is_finite() {
                    let point = (progress.epochs_done(), progress.train_loss);
                    self.train_loss = self.train_loss.changed(|points| points.push(point));
                }
                self.progress = Some(progress);
                self.examples_per_second = examples_per_second;
            }
            Report::Tested { report } => {
                if let Some(weights) = weights {
                    let mut model = self.model.clone();
                    if model.params_mut().load_flat(&weights).is_ok() {
                        self.model = model;
                    }
                }
                let point = TestPoint {
                    epoch: report.at_epoch,
                    accuracy: report.accuracy,
                    loss: report.loss,
                };
                self.tests = self.tests.changed(|points| points.push(point));
                self.accuracy = Some(report.accuracy);
                self.answers = report.answers_right;
                let attention = self.settings.attention;
                self.by_attention.retain(|(kind, _)| *kind != attention);
                self.by_attention.push((attention, report.length_accuracy));
                self.by_attention.sort_by_key(|(kind, _)| *kind as u8);
                self.refresh_views();
            }
            Report::Paused { reason } => {
                if reason.is_some() {
                    self.state = RunState::Paused;
                    self.message = reason;
                }
            }
            Report::Finished => self.state = RunState::Finished,
            Report::Saved => self
                .kept
                .saved(checkpoint, ctx.link().callback(Msg::AutosaveDone)),
            Report::Resumed { page } => self.resumed(&page),
            Report::Failed { message } => {
                if self.state == RunState::Training {
                    self.state = RunState::Idle;
                }
                self.message = Some(message);
            }
        }
    }
}
