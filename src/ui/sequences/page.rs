//! The Sequences page: keeps its training worker (the same loop as the Images page's, fed a
//! sequence task instead of digits), the curves and the latest test accuracy, and a copy of the
//! network (its weights follow the worker's tests) unrolled in time for a typed sequence.

use super::counter_lesson::CounterLesson;
use super::gradient_chart::GradientChart;
use super::length_chart::LengthChart;
use super::race::Race;
use super::setup_card::SetupCard;
use super::unrolled_view::UnrolledView;
use crate::data::sequences::{SINE_NOISE, SequenceTask};
use crate::engine::{Described, OutputTransform, Sequential};
use crate::playground::images::protocol::{Command, Report};
use crate::playground::images::training::{Progress, RunSettings};
use crate::playground::model_files::{open_sequences_file, page_file};
use crate::playground::model_link::decode_model;
use crate::playground::pytorch_export::sequences_export;
use crate::playground::sequences::generalisation::LengthAccuracy;
use crate::playground::sequences::{
    SequenceSettings, Unrolled, parse_bits, parse_numbers, readable_lengths, unroll,
};
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
    Settings(SequenceSettings),
    Training(RunSettings),
    Train,
    Pause,
    Reset,
    Bits(String),
    DismissMessage,
    DownloadModel,
    ModelRead(ReadFile),
    LinkModel,
    ShowExport,
    HideExport,
    DownloadExport,
    /// Autosave: the timer's tick, a save's end, the run kept from an earlier visit, and the
    /// notice's buttons.
    AutosaveTick,
    AutosaveDone(Result<f64, String>),
    KeptRead(Result<Option<Vec<u8>>, String>),
    OpenKeptWork,
    DismissWorkNotice,
}

/// The page's key in the browser's store of kept work.
const AUTOSAVE_KEY: &str = "sequences";

#[derive(Properties, PartialEq)]
pub struct SequencesPageProps {
    /// The set-up, as the URL has it.
    pub settings: SequenceSettings,
    /// Called with the set-up whenever the learner changes it.
    pub on_settings: Callback<SequenceSettings>,
    /// A model the link carries (`playground::model_link`), opened as a file would be.
    #[prop_or_default]
    pub model_link: Option<AttrValue>,
}

pub struct SequencesPage {
    worker: TrainingWorker,
    worker_ready: bool,
    gpu: Option<Result<String, String>>,
    settings: SequenceSettings,
    state: RunState,
    progress: Option<Progress>,
    examples_per_second: f32,
    train_loss: Shared<Vec<(f32, f32)>>,
    tests: Shared<Vec<TestPoint>>,
    accuracy: Option<f32>,
    /// `‖∂L/∂h_t‖` of the top recurrent layer at the run's first test and at its latest.
    gradients: (Vec<f32>, Vec<f32>),
    /// Accuracy by test length at the latest test.
    lengths: Vec<LengthAccuracy>,
    /// A regression's root mean squared error at the latest test.
    rmse: Option<f32>,
    model: Sequential,
    bits: String,
    unrolled: Result<Unrolled, String>,
    message: Option<String>,
    /// Whether the network came from a model file (the next run starts from its weights).
    from_file: bool,
    /// What the last download or opening of a model file did, or why it failed.
    model_status: Option<String>,
    /// The exported PyTorch script, while its panel is open, or why there is none.
    export_script: Option<Result<AttrValue, AttrValue>>,
    export_status: Option<String>,
    /// The link's model field last opened: the same link is opened once, however often the
    /// page is shown again.
    opened_link: Option<AttrValue>,
    /// The run kept in this browser: saved as it trains, read back at start-up and offered to
    /// the worker once it is ready.
    kept: KeptRun<SequenceSettings>,
}

/// A sequence of `length` bits to start the unrolled view with: 0 1 0 0 1 1 0 1 …
fn example_bits(task: SequenceTask, length: usize) -> String {
    if task == SequenceTask::Sine {
        return (0..length)
            .map(|t| format!("{:.2}", (0.5 * t as f32 + 0.3).sin()))
            .collect::<Vec<_>>()
            .join(" ");
    }
    (0..length)
        .map(|t| if (t * 5 + 1) % 3 == 2 { "1" } else { "0" })
        .collect::<Vec<_>>()
        .join(" ")
}

impl Component for SequencesPage {
    type Message = Msg;
    type Properties = SequencesPageProps;

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
        let model = initial_model(&settings);
        let bits = example_bits(settings.task, settings.length);
        let mut page = SequencesPage {
            worker,
            worker_ready: false,
            gpu: None,
            state: RunState::Idle,
            progress: None,
            examples_per_second: 0.0,
            train_loss: Shared::new(Vec::new()),
            tests: Shared::new(Vec::new()),
            accuracy: None,
            gradients: (Vec::new(), Vec::new()),
            lengths: Vec::new(),
            rmse: None,
            model,
            bits,
            unrolled: Err(String::new()),
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
        page.refresh_unrolled();
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
                    // A network opened from a file trains on from its weights.
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
            Msg::Reset => {
                self.kept.forget();
                self.worker.send(&Command::Reset);
                self.state = RunState::Idle;
                self.clear_history();
                self.model = initial_model(&self.settings);
                self.from_file = false;
                self.refresh_unrolled();
            }
            Msg::Bits(text) => {
                self.bits = text;
                self.refresh_unrolled();
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
                    sequences_export(&self.settings, &self.model)
                        .map(|export| AttrValue::from(export.script))
                        .map_err(AttrValue::from),
                );
            }
            Msg::HideExport => self.export_script = None,
            Msg::DownloadExport => {
                let name = "sequences-pytorch";
                let zip = sequences_export(&self.settings, &self.model)
                    .and_then(|export| export.zip(name));
                self.export_status = Some(exported_status(&format!("{name}.zip"), zip));
            }
        }
        true
    }

    /// A link or a hand-edited hash brought another set-up.
    fn changed(&mut self, ctx: &Context<Self>, old: &Self::Properties) -> bool {
        // A link's model brings its own settings (the page emits them): opened, the rest of
        // this change is the link's too.
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
        let run = self.settings.run_settings();
        let accuracy = self
            .accuracy
            .map_or("–".to_string(), |a| format!("{:.1}%", 100.0 * a));
        let on_bits = link.callback(|event: InputEvent| {
            let input: HtmlInputElement = event.target_unchecked_into();
            Msg::Bits(input.value())
        });
        html! {
            <div class="sequences-page" data-testid="sequences-page">
                <SavedWorkNotice id="seq" notice={self.kept.notice()}
                    on_fresh={link.callback(|()| Msg::Reset)}
                    on_open={link.callback(|()| Msg::OpenKeptWork)}
                    on_dismiss={link.callback(|()| Msg::DismissWorkNotice)} />
                <div class={classes!("message", self.message.is_none().then_some("hidden"))} data-testid="seq-message" role="status">
                    {self.message.clone().unwrap_or_default()}
                    if self.message.is_some() {
                        <button class="dismiss" aria-label="dismiss" onclick={link.callback(|_| Msg::DismissMessage)}>{"×"}</button>
                    }
                </div>
                <main class="sequences-columns">
                    <h2 class="visually-hidden">{"Sequences: recurrent networks trained on sequences"}</h2>
                    <div class="sequences-setup-column">
                        <SetupCard settings={self.settings.clone()} locked={self.state != RunState::Idle}
                            on_change={link.callback(Msg::Settings)} />
                        <TrainingCard settings={run} state={self.state} can_train={self.worker_ready}
                            progress={self.progress} examples_per_second={self.examples_per_second} gpu={self.gpu.clone()}
                            on_settings={link.callback(Msg::Training)} on_train={link.callback(|_| Msg::Train)}
                            on_pause={link.callback(|_| Msg::Pause)} on_reset={link.callback(|_| Msg::Reset)}
                            train_id="train" augmentation={None::<AttrValue>} examples="sequences" />
                        <ModelFileCard id="seq" locked={!matches!(self.state, RunState::Idle | RunState::Finished)}
                            status={self.model_status.clone()} on_download={link.callback(|()| Msg::DownloadModel)}
                            on_link={link.callback(|()| Msg::LinkModel)} on_open={link.callback(Msg::ModelRead)} />
                        <PyTorchExportCard id="seq" script={self.export_script.clone()}
                            status={self.export_status.clone()}
                            on_show={link.callback(|()| Msg::ShowExport)}
                            on_hide={link.callback(|()| Msg::HideExport)}
                            on_download={link.callback(|()| Msg::DownloadExport)} />
                        <SavedWorkCard id="seq" status={self.kept.status().clone()}
                            on_fresh={link.callback(|()| Msg::Reset)} />
                    </div>
                    <div class="sequences-results">
                        <section class="card" aria-labelledby="seq-results-title">
                            <h3 id="seq-results-title">{match self.settings.task.is_classification() {
                                    true => "Test accuracy ",
                                    false => "Test answers within ±0.1 ",
                                }}
                                <span class="big-number" data-testid="seq-accuracy" aria-live="polite">{accuracy}</span></h3>
                            if let Some(rmse) = self.rmse {
                                <p class="hint" data-testid="seq-rmse">{format!(
                                    "Root mean squared error on the test sequences: {rmse:.3} (the inputs' noise alone has a standard deviation of {SINE_NOISE})."
                                )}</p>
                            }
                            <Curves train_loss={self.train_loss.clone()} tests={self.tests.clone()} epochs={self.settings.epochs as f32}
                                accuracy_title={match self.settings.task.is_classification() {
                                    true => "test accuracy",
                                    false => "test answers within ±0.1",
                                }} />
                        </section>
                        <section class="card" aria-labelledby="gradients-title">
                            <h3 id="gradients-title">{"Gradients through time"}</h3>
                            <GradientChart first={self.gradients.0.clone()} latest={self.gradients.1.clone()}
                                truncation={self.settings.truncation} steps={self.settings.length} />
                            {self.clipping_note()}
                            <p class="hint">{"‖∂L/∂h_t‖ of the top layer on 64 test sequences at each step, log scale: grey before training, blue at the latest test. A plain RNN's shrinks towards the first steps (the vanishing gradient); an LSTM's or a GRU's reaches back."}</p>
                        </section>
                        if self.settings.task.is_classification() {
                        <section class="card" aria-labelledby="lengths-title">
                            <h3 id="lengths-title">{"Longer sequences"}</h3>
                            <LengthChart measured={self.lengths.clone()} length={self.settings.length} shortest={self.settings.shortest} />
                            <p class="hint">{"The trained network, same weights, on test sequences up to four times as long as it trained on. Blue: share answered right. Grey dashed: share that has an answer among its classes at all (a counter trained on 8 steps has no class for 9 ones)."}</p>
                        </section>
                        }
                        <Race settings={self.settings.clone()} />
                        <section class="card unrolled-card" aria-labelledby="unrolled-title">
                            <h3 id="unrolled-title">{"Unrolled in time"}</h3>
                            <label class="row">{match self.settings.shortest {
                                Some(_) => format!("a sequence (1 to {} steps)", self.settings.length),
                                None => "a sequence".to_string(),
                            }}
                                <input type="text" value={self.bits.clone()} oninput={on_bits} data-testid="seq-bits"
                                    spellcheck="false" autocomplete="off" inputmode="numeric" />
                            </label>
                            {match &self.unrolled {
                                Ok(unrolled) => html! {
                                    <UnrolledView unrolled={unrolled.clone()} class_names={self.class_names()}
                                        regression={!self.settings.task.is_classification()} />
                                },
                                Err(reason) => html! { <p class="hint" role="status" data-testid="seq-bits-error">{reason.clone()}</p> },
                            }}
                            <p class="hint">{"Each column is one time step; each strip a vector, one cell per value, orange below zero and blue above (hover a strip, or read it with a screen reader, for its numbers). The state h carries what the network has seen so far to the next step."}</p>
                        </section>
                        <CounterLesson />
                    </div>
                </main>
            </div>
        }
    }
}

/// The untrained network of `settings` (the defaults' if they cannot build one).
fn initial_model(settings: &SequenceSettings) -> Sequential {
    settings
        .model()
        .init()
        .or_else(|_| SequenceSettings::default().model().init())
        .expect("the default sequence network builds")
}

impl SequencesPage {
    fn adopt_settings(&mut self, settings: SequenceSettings) {
        let network_changed = settings.model() != self.settings.model();
        let length_changed = settings.length != self.settings.length
            || (settings.task == SequenceTask::Sine) != (self.settings.task == SequenceTask::Sine);
        self.settings = settings;
        if network_changed && self.state == RunState::Idle {
            self.model = initial_model(&self.settings);
        }
        if length_changed {
            self.bits = example_bits(self.settings.task, self.settings.length);
        }
        self.refresh_unrolled();
    }

    /// What each class means, for the prediction: "3 ones", "odd", "first bit 1".
    fn class_names(&self) -> Vec<String> {
        let classes = self.settings.task.outputs(self.settings.length);
        (0..classes)
            .map(|class| match self.settings.task {
                SequenceTask::BitCount | SequenceTask::RunningCount => format!("{class} ones"),
                SequenceTask::Parity => ["even", "odd"][class.min(1)].to_string(),
                SequenceTask::FirstBit => format!("first bit {class}"),
                SequenceTask::Sine => class.to_string(),
            })
            .collect()
    }

    fn refresh_unrolled(&mut self) {
        let lengths = readable_lengths(&self.model);
        let (values, transform) = match self.settings.task {
            SequenceTask::Sine => (parse_numbers(&self.bits, lengths), OutputTransform::None),
            _ => (parse_bits(&self.bits, lengths), OutputTransform::Softmax),
        };
        self.unrolled = values
            .and_then(|values| unroll(&self.model, &values, transform).map_err(|e| e.to_string()));
    }

    /// Under clipping, how large the last step's gradients were and what clipping did.
    fn clipping_note(&self) -> Html {
        let (Some(clip), Some(norm)) = (
            self.settings.clip_norm,
            self.progress.and_then(|progress| progress.gradient_norm),
        ) else {
            return Html::default();
        };
        let effect = if norm > clip {
            format!(
                "clipping scaled them by {:.3} to a norm of {clip}",
                clip / norm
            )
        } else {
            format!("under {clip}, clipping left them as they were")
        };
        html! {
            <p class="hint" data-testid="seq-gradient-norm">{format!(
                "The last step's gradients had a norm of {norm:.3}: {effect}."
            )}</p>
        }
    }

    /// Saves the network and the set-up as a model file; says what it saved.
    fn download_model(&self) -> String {
        let name = format!(
            "sequences-{}-{}{}.safetensors",
            self.settings.task.key(),
            self.settings.cell,
            self.settings.hidden
        );
        saved_status(
            &name,
            page_file(&self.model, &self.settings),
            &format!("{} parameters and the set-up", self.model.parameter_count()),
        )
    }

    /// Opens the model the link carries, if it carries one not opened yet.
    fn open_link(&mut self, ctx: &Context<Self>) {
        let field = ctx.props().model_link.clone();
        if let Some(field) = field.filter(|field| Some(field) != self.opened_link.as_ref()) {
            self.opened_link = Some(field.clone());
            let opened = decode_model(&field).and_then(|bytes| self.open_model(ctx, &bytes));
            self.model_status = Some(link_opened_status(opened));
        }
    }

    /// Takes the network and set-up of a model file saved from this page; what it opened, or
    /// why not (the page's network is then kept).
    fn open_model(&mut self, ctx: &Context<Self>, bytes: &[u8]) -> Result<String, String> {
        if !matches!(self.state, RunState::Idle | RunState::Finished) {
            return Err("a run is in progress: reset it first".to_string());
        }
        let (network, settings) = open_sequences_file(bytes)?;
        ctx.props().on_settings.emit(settings.clone());
        self.adopt_settings(settings);
        self.clear_history();
        self.state = RunState::Idle;
        self.model = network;
        self.from_file = true;
        self.refresh_unrolled();
        Ok(format!(
            "{} parameters; Train goes on from its weights.",
            self.model.parameter_count()
        ))
    }

    /// Once the worker is ready, offers it the run kept from an earlier visit (see
    /// [`KeptRun::offer`]).
    fn offer_kept(&mut self) {
        if !(self.worker_ready && self.state == RunState::Idle) {
            return;
        }
        if let Some(bytes) = self.kept.offer(&self.settings) {
            self.worker.send_saved_run(bytes);
        }
    }

    /// The page's part of a saved run.
    fn curves(&self) -> RunCurves<SequenceSettings> {
        RunCurves {
            setup: self.settings.clone(),
            train_loss: self.train_loss.to_vec(),
            tests: self.tests.to_vec(),
            progress: self.progress,
            first_gradients: self.gradients.0.clone(),
            saved_at: 0.0,
        }
    }

    /// The worker took up a saved run: its curves and state come back from the page's part
    /// (the test that follows brings the weights, the accuracy and the latest gradients).
    fn resumed(&mut self, page: &str) {
        self.clear_history();
        if let Some(curves) = self.kept.resumed(page) {
            self.train_loss = Shared::new(curves.train_loss);
            self.tests = Shared::new(curves.tests);
            self.progress = curves.progress;
            self.gradients.0 = curves.first_gradients;
        }
        self.from_file = false;
        self.state = match self.progress.is_some_and(|progress| progress.finished) {
            true => RunState::Finished,
            false => RunState::Paused,
        };
    }

    fn clear_history(&mut self) {
        self.train_loss = Shared::new(Vec::new());
        self.tests = Shared::new(Vec::new());
        self.accuracy = None;
        self.gradients = (Vec::new(), Vec::new());
        self.lengths = Vec::new();
        self.rmse = None;
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
            // The worker never came up: the same loop runs on the page instead.
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
                // The run's network is the set-up's, fresh (or the opened file's): the tests
                // bring its weights.
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
                self.lengths = report.length_accuracy;
                self.rmse = report.root_mean_squared_error;
                if let Some(top) = report.state_gradients.last() {
                    if self.gradients.0.is_empty() {
                        self.gradients.0 = top.clone();
                    }
                    self.gradients.1 = top.clone();
                }
                self.refresh_unrolled();
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
