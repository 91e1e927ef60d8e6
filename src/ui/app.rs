//! The app: owns the training session, turns named messages into changes of it, runs the
//! training loop (on the CPU up to one epoch per animation frame, within a time budget; on the
//! GPU through [`GpuLink`]), and keeps the URL in step with the settings.

use std::cell::RefCell;

use super::autosave::{self, Autosave};
use super::backprop_view::BackpropView;
use super::controls::Controls;
use super::data_panel::DataPanel;
use super::explorers::{ActivationExplorer, LossExplorer, OptimizerRace};
use super::file_card::FileCard;
use super::frame_timer;
use super::gpu_link::{GpuLink, GpuMsg};
use super::images::ImagesPage;
use super::lessons::{Convolution, OneWeight, WordClassifier};
use super::lessons_view::{LessonList, LessonPanel, goal_reached};
use super::model_file_card::{ModelFileCard, ReadFile, opened_status, saved_status};
use super::network_view::NetworkView;
use super::output_panel::OutputPanel;
use super::pytorch_export_card::{PyTorchExportCard, exported_status};
use super::save_file::save_bytes;
use super::saved_work_view::{SavedWorkCard, SavedWorkNotice, WorkNotice};
use super::seq2seq::Seq2SeqPage;
use super::sequences::SequencesPage;
use super::shared::Shared;
use super::through_time_view::ThroughTimeView;
use crate::data::Point;
use crate::data::points_csv::{read_points_csv, write_points_csv};
use crate::engine::{EngineError, Model};
use crate::playground::backend::Backend;
use crate::playground::backprop::Trace;
use crate::playground::frame_budget::{FrameBudget, FrameTask};
use crate::playground::images::training::RunSettings;
use crate::playground::model_files::{open_playground_file, page_file};
use crate::playground::pytorch_export::playground_export;
use crate::playground::sequences::SequenceSettings;
use crate::playground::sequences::seq2seq_settings::Seq2SeqSettings;
use crate::playground::session::neuron_name;
use crate::playground::url_state::rejected_fields_message;
use crate::playground::{Page, PlaygroundConfig, Session, Snapshot, from_hash, to_hash};
use gloo::events::EventListener;
use gloo::render::{AnimationFrame, request_animation_frame};
use yew::prelude::*;

/// The most examples the stepper's mini-batch view lists.
const MAX_BATCH_SHOWN: usize = 8;

/// A weight or bias the learner picked in the diagram.
#[derive(Clone, Copy, PartialEq, Debug)]
pub enum Selection {
    Weight {
        layer: usize,
        from: usize,
        to: usize,
    },
    Bias {
        layer: usize,
        neuron: usize,
    },
}

/// Everything a view can ask of the app.
pub enum Msg {
    TogglePlay,
    Step,
    Reset,
    Regenerate,
    Configure(Box<PlaygroundConfig>),
    /// Points generated afresh for this set-up, in place of those opened from a file.
    GenerateData(Box<PlaygroundConfig>),
    Select(Option<Selection>),
    SetParameter(Selection, f32),
    AddPoint {
        x: f32,
        y: f32,
        class_one: bool,
    },
    /// The pointer is over neuron `(layer, neuron)` (inputs are layer 0), or over none.
    Hover(Option<(usize, usize)>),
    Frame,
    DismissMessage,
    /// The URL's hash was changed by hand or by following a link to this page.
    HashChanged,
    /// Trace one training iteration on training example `n` in the backprop stepper.
    TraceExample(usize),
    /// Apply the traced iteration's update to the network (the mini-batch's mean in batch view).
    ApplyTracedUpdate,
    /// Show the stepper's mini-batch: per-example gradients and their mean.
    ShowBatch(bool),
    /// Train on this engine from now on, from the network as it is.
    ChooseBackend(Backend),
    /// A GPU task finished.
    Gpu(GpuMsg),
    /// The Images page's settings changed (they go into the URL).
    ImagesSettings(RunSettings),
    SequenceSettings(SequenceSettings),
    Seq2SeqSettings(Seq2SeqSettings),
    DownloadModel,
    ModelRead(ReadFile),
    /// Export to PyTorch: the panel with the script, and the download.
    ShowExport,
    HideExport,
    DownloadExport,
    /// The points as CSV, both ways.
    DownloadPoints,
    PointsRead(ReadFile),
    /// Autosave: the timer's tick (a save starts if the work changed), a save's end, the work
    /// kept from an earlier visit as read at start-up, and the notice's buttons.
    AutosaveTick,
    AutosaveDone(Result<f64, String>),
    WorkRead(Result<Option<Vec<u8>>, String>),
    StartFresh,
    OpenKeptWork,
    DismissWorkNotice,
}

pub struct App {
    session: Session,
    snapshot: Shared<Snapshot>,
    playing: bool,
    message: Option<String>,
    selection: Option<Selection>,
    hovered: Option<(usize, usize)>,
    frame: Option<AnimationFrame>,
    /// Plans each training frame's work from what drawing took lately.
    frame_budget: FrameBudget,
    /// A snapshot taken in the last frame, to be drawn in this one (a large network's).
    pending_snapshot: Option<Shared<Snapshot>>,
    /// When the drawing of this frame began, while it is under way.
    drawing_since: Option<f64>,
    /// The backprop stepper's iteration, kept in step with the network while its page is open.
    trace: Option<Shared<Trace>>,
    trace_example: usize,
    /// The stepper's mini-batch (the traced example first), when its batch view is on.
    batch: Option<Shared<Vec<Trace>>>,
    _hash_listener: EventListener,
    /// The grid's layer outputs that came from the GPU with the last synced weights: the next
    /// snapshot is drawn from them instead of running the grid on the CPU.
    gpu_grid: Option<Vec<crate::engine::Tensor>>,
    /// Whether the Images page was opened (it stays mounted from then on).
    images_opened: std::cell::Cell<bool>,
    /// Whether the Sequences page was opened once (it then stays, hidden when not shown).
    sequences_opened: std::cell::Cell<bool>,
    /// Whether the Seq2seq page was opened once (it then stays, hidden when not shown).
    seq2seq_opened: std::cell::Cell<bool>,
    gpu: GpuLink,
    /// Every view's way back to `update`, made once: a callback made in `view` would be a new
    /// one each frame, and every component taking it would render again though nothing changed.
    send: Callback<Msg>,
    /// The data points last handed to the output panel, kept while they stay the same so that
    /// its points are not drawn again every frame.
    shown_points: RefCell<Option<ShownPoints>>,
    /// What the last download or opening of a model file did, or why it failed.
    model_status: Option<String>,
    /// The exported script, while its panel is open, or why there is none.
    export_script: Option<Result<AttrValue, AttrValue>>,
    export_status: Option<String>,
    points_status: Option<String>,
    /// The work kept in this browser: saved as it changes, read back at start-up.
    autosave: Autosave,
    work_notice: Option<WorkNotice>,
    /// Kept work that waits while a link to another set-up is open.
    waiting_work: Option<Vec<u8>>,
}

/// The training and test points as the output panel gets them.
#[derive(Clone)]
struct ShownPoints {
    train: Shared<Vec<Point>>,
    test: Shared<Vec<Point>>,
}

impl Component for App {
    type Message = Msg;
    type Properties = ();

    fn create(ctx: &Context<Self>) -> Self {
        let hash = gloo::utils::window().location().hash().unwrap_or_default();
        let (config, rejected) = from_hash(&hash);
        let mut message = rejected_fields_message(&rejected);
        let mut session = Session::new(config).unwrap_or_else(|error| {
            message = Some(format!(
                "The link's network could not be built ({error}); using defaults."
            ));
            Session::new(PlaygroundConfig::default()).expect("the default playground always builds")
        });
        let snapshot = session
            .snapshot()
            .expect("a freshly built session can be drawn");
        let mut app = App {
            session,
            snapshot: Shared::new(snapshot),
            playing: false,
            message,
            selection: None,
            hovered: None,
            frame: None,
            frame_budget: FrameBudget::default(),
            pending_snapshot: None,
            drawing_since: None,
            trace: None,
            trace_example: 0,
            batch: None,
            gpu_grid: None,
            images_opened: std::cell::Cell::new(false),
            sequences_opened: std::cell::Cell::new(false),
            seq2seq_opened: std::cell::Cell::new(false),
            gpu: GpuLink::new(ctx.link().callback(Msg::Gpu)),
            send: ctx.link().callback(|msg: Msg| msg),
            shown_points: RefCell::new(None),
            model_status: None,
            export_script: None,
            export_status: None,
            points_status: None,
            autosave: Autosave::new(
                autosave::SAVE_EVERY_MS,
                ctx.link().callback(|()| Msg::AutosaveTick),
            ),
            work_notice: None,
            waiting_work: None,
            _hash_listener: {
                let link = ctx.link().clone();
                EventListener::new(&gloo::utils::window(), "hashchange", move |_| {
                    link.send_message(Msg::HashChanged)
                })
            },
        };
        // The snapshot above is the session's: only the stepper's trace is still to take.
        app.refresh_trace();
        app.write_url();
        let read = ctx.link().callback(Msg::WorkRead);
        yew::platform::spawn_local(async move {
            read.emit(autosave::load(AUTOSAVE_KEY).await);
        });
        app
    }

    fn update(&mut self, ctx: &Context<Self>, msg: Msg) -> bool {
        match msg {
            Msg::TogglePlay => {
                self.playing = !self.playing;
                if self.playing {
                    self.message = None;
                } else {
                    self.frame = None;
                }
            }
            Msg::Frame => {
                self.frame = None;
                if !self.playing {
                    return false;
                }
                if self.gpu.in_use() {
                    // Only submits work (or waits for it): the answer brings the new weights.
                    if let Err(reason) = self.gpu.frame(&self.session) {
                        self.fall_back_to_cpu(&reason);
                    }
                    self.keep_playing(ctx);
                    return false;
                }
                return self.cpu_frame(ctx);
            }
            Msg::Step => {
                self.playing = false;
                self.frame = None;
                self.gpu.forget_run();
                self.train_one_epoch();
            }
            Msg::Reset => {
                self.playing = false;
                self.frame = None;
                self.gpu.forget_run();
                let result = self.session.reset();
                self.report(result);
            }
            Msg::Regenerate => {
                let mut config = self.session.config().clone();
                config.data_seed = config.data_seed.wrapping_add(1);
                self.configure(config);
            }
            Msg::Configure(config) => self.configure(*config),
            Msg::GenerateData(config) => match Session::new(*config) {
                Ok(session) => {
                    self.take_session(session);
                    self.points_status = None;
                }
                Err(error) => self.message = Some(error.to_string()),
            },
            Msg::Select(selection) => self.selection = selection,
            Msg::SetParameter(selection, value) => {
                self.selection = Some(selection);
                self.gpu.forget_run();
                let result = match selection {
                    Selection::Weight { layer, from, to } => {
                        self.session.set_weight(layer, from, to, value)
                    }
                    Selection::Bias { layer, neuron } => {
                        self.session.set_bias(layer, neuron, value)
                    }
                };
                self.report(result);
            }
            Msg::AddPoint { x, y, class_one } => {
                let label = if class_one { 1.0 } else { 0.0 };
                self.gpu.forget_run();
                let result = self.session.add_point(x, y, label);
                self.report(result);
            }
            Msg::DismissMessage => self.message = None,
            Msg::DownloadModel => self.model_status = Some(self.download_model()),
            Msg::ShowExport => {
                self.export_script = Some(
                    playground_export(&self.session)
                        .map(|export| AttrValue::from(export.script))
                        .map_err(AttrValue::from),
                );
            }
            Msg::HideExport => self.export_script = None,
            Msg::DownloadPoints => self.points_status = Some(self.download_points()),
            Msg::PointsRead((name, bytes)) => {
                self.points_status = Some(
                    match bytes.and_then(|bytes| self.open_points(&name, &bytes)) {
                        Ok(what) => format!("Opened {name}: {what}"),
                        Err(reason) => {
                            format!("{name} was not opened: {reason}. The points are kept.")
                        }
                    },
                );
                self.refresh();
            }
            Msg::DownloadExport => {
                let zip = playground_export(&self.session)
                    .and_then(|export| export.zip("playground-pytorch"));
                self.export_status = Some(exported_status("playground-pytorch.zip", zip));
            }
            Msg::ModelRead((name, bytes)) => {
                let opened = bytes.and_then(|bytes| self.open_model(&bytes));
                self.model_status = Some(opened_status(&name, opened));
                self.refresh();
            }
            Msg::HashChanged => {
                let hash = gloo::utils::window().location().hash().unwrap_or_default();
                if hash.trim_start_matches('#') != to_hash(self.session.config()) {
                    let (config, rejected) = from_hash(&hash);
                    self.message = rejected_fields_message(&rejected);
                    self.playing = false;
                    self.frame = None;
                    self.configure(config);
                }
            }
            Msg::TraceExample(example) => self.trace_example = example,
            Msg::ApplyTracedUpdate => {
                self.gpu.forget_run();
                let result = match (&self.batch, &self.trace) {
                    (Some(batch), _) => self.session.apply_batch_update(&batch.clone()),
                    (None, Some(trace)) => self.session.apply_update(&trace.clone()),
                    (None, None) => Ok(()),
                };
                self.report(result);
            }
            Msg::ShowBatch(on) => {
                self.batch = on.then(|| Shared::new(Vec::new()));
            }
            Msg::ChooseBackend(backend) => self.gpu.choose(backend),
            Msg::ImagesSettings(settings) => {
                self.session.set_images_settings(settings);
                self.write_url();
                return false;
            }
            Msg::SequenceSettings(settings) => {
                self.session.set_sequence_settings(settings);
                self.write_url();
                return false;
            }
            Msg::Seq2SeqSettings(settings) => {
                self.session.set_seq2seq_settings(settings);
                self.write_url();
                return false;
            }
            Msg::Gpu(msg) => match self.gpu.receive(msg) {
                None => {}
                Some(Ok(trained)) => {
                    self.gpu_grid = Some(trained.grid);
                    let adopted = self
                        .session
                        .adopt_trained(&trained.model, &trained.losses)
                        .and_then(|()| self.session.adopt_trainer_state(trained.state));
                    if let Err(error) = adopted {
                        self.gpu_grid = None;
                        self.gpu.forget_run();
                        self.playing = false;
                        self.frame = None;
                        self.message = Some(format!("Training paused: {error}"));
                    }
                }
                Some(Err(reason)) => self.fall_back_to_cpu(&reason),
            },
            Msg::AutosaveTick => {
                if self.autosave.due() {
                    self.start_saving(ctx);
                }
                return false;
            }
            Msg::AutosaveDone(result) => {
                if let Err(reason) = &result {
                    self.work_notice = Some(WorkNotice::NotKept(reason.clone()));
                }
                self.autosave.finished(result);
                return true;
            }
            Msg::WorkRead(read) => {
                let store = read.map(|kept| {
                    if let Some(bytes) = kept {
                        self.take_kept_work(bytes);
                    }
                });
                if let Err(reason) = &store {
                    self.work_notice = Some(WorkNotice::NotKept(reason.clone()));
                }
                self.autosave.read(store);
                // Nothing the learner changed: the kept work stays as it is until they do.
                self.refresh();
                self.write_url();
                return true;
            }
            Msg::OpenKeptWork => {
                if let Some(bytes) = self.waiting_work.take() {
                    self.work_notice = None;
                    self.take_kept_work_as_it_was(&bytes);
                }
            }
            Msg::StartFresh => {
                let config = PlaygroundConfig {
                    page: self.session.config().page,
                    ..PlaygroundConfig::default()
                };
                self.take_session(
                    Session::new(config).expect("the default playground always builds"),
                );
                self.work_notice = None;
                self.waiting_work = None;
                self.message = None;
            }
            Msg::DismissWorkNotice => {
                self.work_notice = None;
                return true;
            }
            Msg::Hover(hovered) => {
                // Only a view changes: no new snapshot is needed.
                let changed = self.hovered != hovered;
                self.hovered = hovered;
                return changed;
            }
        }
        self.refresh();
        self.keep_playing(ctx);
        if !self.playing {
            self.write_url();
        }
        self.autosave.changed();
        true
    }

    fn view(&self, ctx: &Context<Self>) -> Html {
        let send = self.send.clone();
        let config = self.session.config().clone();
        let snapshot = self.snapshot.clone();
        let page = config.page;
        let navigation = Page::ALL.into_iter().map(|target| {
            let mut config = config.clone();
            config.page = target;
            html! {
                <button class={classes!("nav", (target == page).then_some("current"))}
                    data-testid={format!("nav-{}", target.key())}
                    aria-current={(target == page).then_some("page")}
                    onclick={send.reform(move |_| Msg::Configure(Box::new(config.clone())))}>{target.title()}</button>
            }
        }).collect::<Html>();
        // The playground and the stepper place the banner among their controls; elsewhere it
        // goes under the title bar (e.g. a link's unreadable Images settings).
        let banner = (!matches!(page, Page::Playground | Page::Backprop))
            .then(|| self.message_banner(&send));
        let content = match page {
            Page::Playground => {
                let points = self.shown_points();
                html! {
                    <>
                        <Controls config={config.clone()} playing={self.playing} epoch={snapshot.epoch} send={send.clone()} />
                        {self.message_banner(&send)}
                        <LessonPanel config={config.clone()} reached={goal_reached(&config, &snapshot)} send={send.clone()} />
                        <main class="columns">
                            <DataPanel config={config.clone()} send={send.clone()}
                                data_file={self.session.data_file().map(|name| {
                                    let count = self.session.train_points().len() + self.session.test_points().len();
                                    (AttrValue::from(name.to_string()), count)
                                })} />
                            <NetworkView config={config.clone()} snapshot={snapshot.clone()} selection={self.selection} send={send.clone()} />
                            <OutputPanel config={config} snapshot={snapshot} hovered={self.hovered}
                                train_points={points.train} test_points={points.test} send={send} />
                        </main>
                        <div class="playground-files">
                            <FileCard id="playground-points" title="Your own data" download_label="Download points (CSV)"
                                open_label="Open points…" accept=".csv,text/csv" locked={false}
                                hint="The points as CSV: split, x1, x2, label (one row per point). Open a CSV of your own 2-D points (x1 and x2 between -6 and 6; labels 0 and 1 for classes, any numbers for a regression; the split column is optional) by picking or dropping it here."
                                status={self.points_status.clone()}
                                on_download={ctx.link().callback(|()| Msg::DownloadPoints)}
                                on_open={ctx.link().callback(Msg::PointsRead)} />
                            <ModelFileCard id="playground" locked={false} status={self.model_status.clone()}
                                on_download={ctx.link().callback(|()| Msg::DownloadModel)}
                                on_open={ctx.link().callback(Msg::ModelRead)} />
                            <PyTorchExportCard id="playground" script={self.export_script.clone()}
                                status={self.export_status.clone()}
                                on_show={ctx.link().callback(|()| Msg::ShowExport)}
                                on_hide={ctx.link().callback(|()| Msg::HideExport)}
                                on_download={ctx.link().callback(|()| Msg::DownloadExport)} />
                            <SavedWorkCard id="playground" status={self.autosave.status().clone()}
                                on_fresh={ctx.link().callback(|()| Msg::StartFresh)} />
                        </div>
                    </>
                }
            }
            Page::Backprop => html! {
                <main>
                    <h2 class="visually-hidden">{Page::Backprop.title()}</h2>
                    {self.message_banner(&send)}
                    <LessonPanel config={config.clone()} reached={goal_reached(&config, &snapshot)} send={send.clone()} />
                    if let Some(trace) = self.trace.clone() {
                        <BackpropView {trace} batch={self.batch.clone()} example={self.trace_example}
                            example_count={self.session.train_points().len()}
                            custom_example={self.session.config().example.is_some()}
                            names={self.neuron_names()} send={send.clone()} />
                    }
                    <ThroughTimeView />
                </main>
            },
            // Each page's own content is its main landmark.
            Page::Lessons => html! { <main><LessonList /></main> },
            Page::Activations => html! { <main><ActivationExplorer /></main> },
            Page::Losses => html! { <main><LossExplorer /></main> },
            Page::Optimizers => html! { <main><OptimizerRace /></main> },
            Page::Words => html! { <main><WordClassifier /></main> },
            Page::OneWeight => html! { <main><OneWeight /></main> },
            Page::Convolution => html! { <main><Convolution /></main> },
            // Drawn below, kept alive while hidden.
            Page::Images | Page::Sequences | Page::Seq2Seq => html! {},
        };
        // The Images page keeps its worker and its run while the learner looks elsewhere.
        if page == Page::Images {
            self.images_opened.set(true);
        }
        let images = self.images_opened.get().then(|| {
            html! {
                <div class={classes!("images-host", (page != Page::Images).then_some("hidden"))}>
                    <ImagesPage settings={self.session.config().images.clone()}
                        model_link={self.model_link(Page::Images)}
                        on_settings={ctx.link().callback(Msg::ImagesSettings)} />
                </div>
            }
        });
        // So does the Sequences page.
        if page == Page::Sequences {
            self.sequences_opened.set(true);
        }
        let sequences = self.sequences_opened.get().then(|| {
            html! {
                <div class={classes!("sequences-host", (page != Page::Sequences).then_some("hidden"))}>
                    <SequencesPage settings={self.session.config().sequences.clone()}
                        model_link={self.model_link(Page::Sequences)}
                        on_settings={ctx.link().callback(Msg::SequenceSettings)} />
                </div>
            }
        });
        // And the Seq2seq page.
        if page == Page::Seq2Seq {
            self.seq2seq_opened.set(true);
        }
        let seq2seq = self.seq2seq_opened.get().then(|| {
            html! {
                <div class={classes!("sequences-host", "seq2seq-host", (page != Page::Seq2Seq).then_some("hidden"))}>
                    <Seq2SeqPage settings={self.session.config().seq2seq.clone()}
                        model_link={self.model_link(Page::Seq2Seq)}
                        on_settings={ctx.link().callback(Msg::Seq2SeqSettings)} />
                </div>
            }
        });
        html! {
            <div class="app">
                <header class="title-bar">
                    <h1>{"Neural Playground"}</h1>
                    <nav class="pages" aria-label="Pages">{navigation}</nav>
                    {self.gpu.badge(ctx.link().callback(Msg::ChooseBackend))}
                </header>
                // The playground's own work: said where the playground is shown (the Images
                // and Sequences pages say what they keep of theirs).
                <SavedWorkNotice id="playground"
                    notice={self.work_notice.clone().filter(|_| matches!(page, Page::Playground | Page::Backprop))}
                    on_fresh={ctx.link().callback(|()| Msg::StartFresh)}
                    on_open={ctx.link().callback(|()| Msg::OpenKeptWork)}
                    on_dismiss={ctx.link().callback(|()| Msg::DismissWorkNotice)} />
                {banner.unwrap_or_default()}
                {content}
                {images.unwrap_or_default()}
                {sequences.unwrap_or_default()}
                {seq2seq.unwrap_or_default()}
            </div>
        }
    }

    fn rendered(&mut self, _ctx: &Context<Self>, _first_render: bool) {
        if let Some(since) = self.drawing_since.take() {
            self.frame_budget.render_took(frame_timer::now_ms() - since);
        }
        frame_timer::finish();
    }
}

impl App {
    /// The session's points as last shown, or new ones where they changed (a comparison of a
    /// few hundred points, where drawing them again takes thousands of canvas calls).
    fn shown_points(&self) -> ShownPoints {
        let (train, test) = (self.session.train_points(), self.session.test_points());
        let mut shown = self.shown_points.borrow_mut();
        match &*shown {
            Some(points) if points.train[..] == *train && points.test[..] == *test => {
                points.clone()
            }
            _ => shown
                .insert(ShownPoints {
                    train: Shared::new(train.to_vec()),
                    test: Shared::new(test.to_vec()),
                })
                .clone(),
        }
    }

    fn message_banner(&self, send: &Callback<Msg>) -> Html {
        html! {
            <div class={classes!("message", self.message.is_none().then_some("hidden"))} data-testid="message" role="status">
                {self.message.clone().unwrap_or_default()}
                if self.message.is_some() {
                    <button class="dismiss" onclick={send.reform(|_| Msg::DismissMessage)}>{"×"}</button>
                }
            </div>
        }
    }

    /// While playing, asks for the next frame unless one is asked for already or a GPU task's
    /// answer will move training on.
    fn keep_playing(&mut self, ctx: &Context<Self>) {
        if self.playing && self.frame.is_none() && !self.gpu.waiting() {
            self.schedule_frame(ctx);
        }
    }

    /// The GPU failed mid-run: the session holds the weights of the last readback, and the CPU
    /// goes on from them.
    fn fall_back_to_cpu(&mut self, reason: &str) {
        self.gpu.fail(reason);
        self.message = Some(format!(
            "The GPU stopped ({reason}); training goes on on the CPU from the weights of epoch {}.",
            self.session.epoch()
        ));
    }

    fn schedule_frame(&mut self, ctx: &Context<Self>) {
        let link = ctx.link().clone();
        self.frame = Some(request_animation_frame(move |_| {
            link.send_message(Msg::Frame)
        }));
    }

    fn train_one_epoch(&mut self) {
        let result = self.session.train_epoch();
        self.pause_on_error(result);
    }

    /// A training frame on the CPU, as its [`FrameBudget`] plans it: the epoch under way
    /// goes on while the frame has time (at least one mini-batch) and never past its end, so
    /// that a frame trains one epoch when epochs are quick, as before, and a slice of one when
    /// they are not; then the frame draws, or takes a snapshot to draw in the next frame, or
    /// does nothing more. Returns whether the views render.
    fn cpu_frame(&mut self, ctx: &Context<Self>) -> bool {
        frame_timer::start();
        let plan = self.frame_budget.plan();
        let deadline = frame_timer::now_ms() + plan.training_ms;
        let result = self
            .session
            .train_epoch_part(&mut || frame_timer::now_ms() < deadline);
        let failed = result.is_err();
        self.pause_on_error(result.map(|_| ()));
        let task = match failed {
            true => {
                self.write_url();
                FrameTask::Draw
            }
            false => plan.task,
        };
        self.keep_playing(ctx);
        self.autosave.changed();
        match task {
            FrameTask::TrainOnly => {
                frame_timer::finish();
                false
            }
            FrameTask::Snapshot => {
                let start = frame_timer::now_ms();
                self.pending_snapshot = self.new_snapshot();
                self.frame_budget
                    .snapshot_took(frame_timer::now_ms() - start);
                frame_timer::finish();
                false
            }
            FrameTask::Render => {
                self.drawing_since = Some(frame_timer::now_ms());
                match self.pending_snapshot.take() {
                    Some(snapshot) => {
                        self.snapshot = snapshot;
                        self.refresh_trace();
                    }
                    None => self.refresh(),
                }
                true
            }
            FrameTask::Draw => {
                let start = frame_timer::now_ms();
                self.refresh();
                let taken = frame_timer::now_ms();
                self.frame_budget.snapshot_took(taken - start);
                self.drawing_since = Some(taken);
                true
            }
        }
    }

    fn pause_on_error(&mut self, result: Result<(), EngineError>) {
        if let Err(error) = result {
            self.playing = false;
            self.frame = None;
            self.message = Some(format!("Training paused: {error}"));
        }
    }

    /// Saves the network and the playground's set-up as a model file; says what it saved.
    fn download_model(&self) -> String {
        let network = self.session.model().network();
        saved_status(
            "playground-model.safetensors",
            page_file(network, self.session.config()),
            &format!(
                "{} weights and biases, and the set-up",
                network.parameter_count()
            ),
        )
    }

    /// Saves the points as CSV; says what it saved.
    fn download_points(&self) -> String {
        let (train, test) = (self.session.train_points(), self.session.test_points());
        let csv = write_points_csv(train, test);
        let name = "playground-points.csv";
        match save_bytes(name, csv.as_bytes(), "text/csv") {
            Ok(()) => format!(
                "Saved {name}: {} training and {} test points.",
                train.len(),
                test.len()
            ),
            Err(reason) => format!("The points could not be saved: {reason}."),
        }
    }

    /// Takes the points of a CSV file as the data set (training pauses, the network starts
    /// afresh); what it opened, or why not (the points are then kept).
    fn open_points(&mut self, name: &str, bytes: &[u8]) -> Result<String, String> {
        let file = read_points_csv(bytes)?;
        let kind = match file.regression {
            true => "a regression",
            false => "two classes",
        };
        self.playing = false;
        self.frame = None;
        self.gpu.forget_run();
        self.session
            .adopt_points(name, file)
            .map_err(|error| error.to_string())?;
        self.write_url();
        Ok(format!(
            "{} training and {} test points, {kind}; the network starts afresh on them. A link \
             does not carry them: download them to keep them.",
            self.session.train_points().len(),
            self.session.test_points().len()
        ))
    }

    /// Takes the set-up and the weights of a playground model file (training pauses); what
    /// it opened, or why not (the network is then kept).
    fn open_model(&mut self, bytes: &[u8]) -> Result<String, String> {
        let (network, config) = open_playground_file(bytes)?;
        let mut model = Model::new(&config.model_config()).map_err(|e| e.to_string())?;
        *model.network_mut().params_mut() = network.params().clone();
        self.playing = false;
        self.frame = None;
        self.configure(config);
        self.session
            .adopt_trained(&model, &[])
            .map_err(|e| e.to_string())?;
        self.write_url();
        Ok(format!(
            "{} weights and biases; play trains on from them.",
            network.parameter_count()
        ))
    }

    /// Saves the work as it is now; the page goes on while the browser stores it.
    fn start_saving(&mut self, ctx: &Context<Self>) {
        let saved_at = autosave::now();
        match self.session.save_work(saved_at) {
            Ok(bytes) => {
                let done = ctx.link().callback(Msg::AutosaveDone);
                yew::platform::spawn_local(async move {
                    done.emit(
                        autosave::save(AUTOSAVE_KEY, &bytes)
                            .await
                            .map(|()| saved_at),
                    );
                });
            }
            Err(reason) => {
                self.work_notice = Some(WorkNotice::NotKept(reason.clone()));
                self.autosave.failed(reason);
            }
        }
    }

    /// The work kept from an earlier visit, read at start-up: taken up when the page opened on
    /// the same set-up (or on none), kept waiting when a link opened another one.
    fn take_kept_work(&mut self, bytes: Vec<u8>) {
        let opened = Session::open_work(&bytes);
        let opened = match opened {
            Ok(opened) => opened,
            Err(reason) => {
                self.work_notice = Some(WorkNotice::Unreadable(reason));
                return;
            }
        };
        let hash = gloo::utils::window().location().hash().unwrap_or_default();
        if same_setup(&hash, opened.session.config()) {
            self.take_opened_work(opened);
        } else {
            self.work_notice = Some(WorkNotice::Waiting {
                saved_at: opened.saved_at,
            });
            self.waiting_work = Some(bytes);
        }
    }

    fn take_kept_work_as_it_was(&mut self, bytes: &[u8]) {
        match Session::open_work(bytes) {
            Ok(opened) => self.take_opened_work(opened),
            Err(reason) => self.work_notice = Some(WorkNotice::Unreadable(reason)),
        }
    }

    fn take_opened_work(&mut self, opened: crate::playground::session::OpenedWork) {
        self.work_notice = Some(WorkNotice::Restored {
            saved_at: opened.saved_at,
            epoch: opened.session.epoch(),
        });
        self.take_session(opened.session);
    }

    /// Shows and trains `session` from now on, stopped.
    fn take_session(&mut self, session: Session) {
        self.playing = false;
        self.frame = None;
        self.gpu.forget_run();
        self.gpu_grid = None;
        self.selection = None;
        self.session = session;
    }

    fn configure(&mut self, config: PlaygroundConfig) {
        self.gpu.forget_run();
        let result = self.session.apply(config);
        self.report(result);
        self.write_url();
    }

    fn report(&mut self, result: Result<(), EngineError>) {
        if let Err(error) = result {
            self.message = Some(error.to_string());
        }
        if let Some(notice) = self.session.take_notice() {
            self.message = Some(notice);
        }
    }

    /// Takes a new snapshot for the views, and a new trace when the stepper is open.
    fn refresh(&mut self) {
        self.pending_snapshot = None;
        if let Some(snapshot) = self.new_snapshot() {
            self.snapshot = snapshot;
        }
        self.refresh_trace();
    }

    /// A snapshot of the session for the views (none, and a message, if it cannot be taken).
    fn new_snapshot(&mut self) -> Option<Shared<Snapshot>> {
        let snapshot = match self.gpu_grid.take() {
            Some(grid) => self.session.snapshot_with_grid(&grid),
            None => self.session.snapshot(),
        };
        match snapshot {
            Ok(snapshot) => Some(Shared::new(snapshot)),
            Err(error) => {
                self.message = Some(error.to_string());
                None
            }
        }
    }

    /// A new trace (and mini-batch) for the stepper, when it is open.
    fn refresh_trace(&mut self) {
        self.trace = None;
        if self.session.config().page == Page::Backprop {
            match self.session.backprop_trace(self.trace_example) {
                Ok(trace) => self.trace = Some(Shared::new(trace)),
                Err(error) => self.message = Some(error.to_string()),
            }
            if self.batch.is_some() && self.session.config().example.is_none() {
                let count = self.session.config().batch_size.clamp(2, MAX_BATCH_SHOWN);
                match self.session.backprop_batch(self.trace_example, count) {
                    Ok(traces) => self.batch = Some(Shared::new(traces)),
                    Err(error) => self.message = Some(error.to_string()),
                }
            }
        }
    }

    fn neuron_names(&self) -> Shared<Vec<Vec<String>>> {
        let config = self.session.config();
        let sizes = &self.snapshot.layer_sizes;
        let layer_names = |layer: usize| {
            (0..sizes[layer])
                .map(|n| neuron_name(config, sizes, layer, n))
                .collect()
        };
        Shared::new((0..sizes.len()).map(layer_names).collect())
    }

    /// Writes the settings into the URL, with every weight while training is paused, so that a
    /// reload or a shared link brings back the network as it is.
    /// The model the link carries for `page`, if the link was to that page.
    fn model_link(&self, page: Page) -> Option<AttrValue> {
        let config = self.session.config();
        (config.page == page)
            .then(|| config.model_link.clone().map(AttrValue::from))
            .flatten()
    }

    fn write_url(&self) {
        let mut config = self.session.config().clone();
        if !self.playing {
            config.parameters = Some(self.session.parameters());
        }
        let url = format!("#{}", to_hash(&config));
        if let Ok(history) = gloo::utils::window().history() {
            let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&url));
        }
    }
}

/// The page's key in the browser's store of kept work.
const AUTOSAVE_KEY: &str = "playground";

/// Whether the page's link `hash` opens the set-up `kept` (the weights a paused page writes
/// into its link aside): kept work is then taken up. An empty link opens anything.
fn same_setup(hash: &str, kept: &PlaygroundConfig) -> bool {
    if hash.trim_start_matches('#').is_empty() {
        return true;
    }
    let (mut linked, _) = from_hash(hash);
    linked.parameters = None;
    linked.normalise();
    let mut kept = kept.clone();
    kept.parameters = None;
    linked == kept
}
