//! The app's link to the GPU: finding it at start-up (with its self-test), the backend badge and
//! switch in the title bar, and training on the GPU. Nothing here blocks: a frame submits a few
//! epochs, and a task awaits their losses and weights and hands them back to the app as a
//! [`GpuMsg`]; the session then takes the weights, so the CPU can go on from them at any time.

use std::cell::RefCell;
use std::rc::{Rc, Weak};
use std::sync::{Arc, Mutex};

use crate::engine::trainer::TrainerState;
use crate::engine::{Model, Tensor};
use crate::gpu::{GpuContext, GpuEpochTrainer, GpuTrainingError};
use crate::playground::Session;
use crate::playground::backend::{Backend, GpuDevice, find_gpu};
use wasm_bindgen::prelude::wasm_bindgen;
use web_sys::HtmlSelectElement;
use yew::platform::spawn_local;
use yew::prelude::*;

thread_local! {
    /// The device that passed the self-test, for [`debug_lose_gpu_device`].
    static DEVICE_IN_USE: RefCell<Weak<GpuContext>> = const { RefCell::new(Weak::new()) };
}

/// Destroys the GPU device, as a driver reset or an unplugged GPU would; the browser test of the
/// fallback calls it (`window.wasmBindings.debug_lose_gpu_device()`). Returns whether there was
/// a device to lose.
#[wasm_bindgen]
pub fn debug_lose_gpu_device() -> bool {
    DEVICE_IN_USE.with(|device| match device.borrow().upgrade() {
        Some(context) => {
            context.device.destroy();
            true
        }
        None => false,
    })
}

/// Epochs submitted between two readbacks of the losses and the weights.
const EPOCHS_PER_SYNC: usize = 4;

/// What the GPU tasks report back to the app.
pub enum GpuMsg {
    /// The start-up search and self-test ended.
    Found(Result<GpuDevice, String>),
    /// A trainer was built from the session's model (for the run of `generation`).
    Started {
        generation: u64,
        result: Result<Box<GpuEpochTrainer<Model>>, String>,
    },
    /// Epochs were trained: the weights after them and the epochs' mean losses.
    Synced {
        generation: u64,
        trainer: Box<GpuEpochTrainer<Model>>,
        result: Result<TrainedEpochs, String>,
    },
}

/// Epochs trained on the GPU, read back: the weights after them and each epoch's mean loss.
pub struct TrainedEpochs {
    pub model: Box<Model>,
    pub losses: Vec<f32>,
    /// Every layer's output on the decision-boundary grid, computed on the GPU.
    pub grid: Vec<Tensor>,
    /// The optimiser's state, generator and row order after them, for the CPU to go on with.
    pub state: TrainerState,
}

/// Whether there is a GPU to train on.
pub enum GpuStatus {
    Searching,
    Unavailable(String),
    Ready(GpuDevice),
}

/// The GPU trainer, at home or out with a task.
enum GpuRun {
    /// None yet: the next frame builds one from the session's model.
    Idle,
    Starting,
    Training(Box<GpuEpochTrainer<Model>>),
    /// Out with the task reading back its epochs.
    Syncing,
}

pub struct GpuLink {
    status: GpuStatus,
    choice: Backend,
    run: GpuRun,
    /// Bumped whenever the session's model changes by other means than the GPU: answers of
    /// older tasks are then dropped, and the next frame starts from the session's model.
    generation: u64,
    /// What the device reported outside any error scope (a validation error, its loss).
    failure: Arc<Mutex<Option<String>>>,
    send: Callback<GpuMsg>,
}

impl GpuLink {
    /// Starts the search for a GPU; its answer comes as [`GpuMsg::Found`].
    pub fn new(send: Callback<GpuMsg>) -> GpuLink {
        if has_navigator_gpu() {
            let found = send.clone();
            spawn_local(async move { found.emit(GpuMsg::Found(find_gpu().await)) });
        }
        GpuLink {
            status: if has_navigator_gpu() {
                GpuStatus::Searching
            } else {
                GpuStatus::Unavailable(
                    "this browser has no WebGPU (navigator.gpu is missing)".into(),
                )
            },
            choice: Backend::Cpu,
            run: GpuRun::Idle,
            generation: 0,
            failure: Arc::default(),
            send,
        }
    }

    /// Whether the GPU trains the network.
    pub fn in_use(&self) -> bool {
        self.choice == Backend::Gpu && matches!(self.status, GpuStatus::Ready(_))
    }

    /// Whether a task is out: its answer, not an animation frame, moves training on.
    pub fn waiting(&self) -> bool {
        self.in_use() && matches!(self.run, GpuRun::Starting | GpuRun::Syncing)
    }

    pub fn choose(&mut self, backend: Backend) {
        self.choice = backend;
        self.forget_run();
    }

    /// The session's model changed here: the GPU's copy is stale.
    pub fn forget_run(&mut self) {
        self.run = GpuRun::Idle;
        self.generation += 1;
    }

    /// Handles a task's answer. `Some` carries trained epochs for the session to take (or why
    /// the GPU failed); `None` when there is nothing for the session.
    pub fn receive(&mut self, msg: GpuMsg) -> Option<Result<TrainedEpochs, String>> {
        match msg {
            GpuMsg::Found(Ok(device)) => {
                let failure = Arc::clone(&self.failure);
                device
                    .context
                    .device
                    .on_uncaptured_error(Arc::new(move |error: wgpu::Error| {
                        record(&failure, error.to_string())
                    }));
                let lost = Arc::clone(&self.failure);
                device
                    .context
                    .device
                    .set_device_lost_callback(move |_, message| {
                        record(&lost, format!("the GPU device was lost ({message})"))
                    });
                DEVICE_IN_USE.with(|slot| *slot.borrow_mut() = Rc::downgrade(&device.context));
                self.status = GpuStatus::Ready(device);
                None
            }
            GpuMsg::Found(Err(reason)) => {
                self.status = GpuStatus::Unavailable(reason);
                None
            }
            GpuMsg::Started { generation, .. } | GpuMsg::Synced { generation, .. }
                if generation != self.generation =>
            {
                None
            }
            GpuMsg::Started { result, .. } => match result {
                Ok(trainer) => {
                    self.run = GpuRun::Training(trainer);
                    None
                }
                Err(reason) => Some(Err(reason)),
            },
            GpuMsg::Synced {
                trainer, result, ..
            } => {
                self.run = GpuRun::Training(trainer);
                match self.failure.lock().map(|mut failure| failure.take()) {
                    Ok(Some(reason)) => Some(Err(reason)),
                    _ => Some(result),
                }
            }
        }
    }

    /// One animation frame of training on the GPU: builds the trainer from the session's model
    /// if there is none, or submits a few epochs and sends a task to read them back.
    pub fn frame(&mut self, session: &Session) -> Result<(), String> {
        let GpuStatus::Ready(device) = &self.status else {
            return Ok(());
        };
        let generation = self.generation;
        let send = self.send.clone();
        match std::mem::replace(&mut self.run, GpuRun::Syncing) {
            GpuRun::Idle => {
                self.run = GpuRun::Starting;
                let (context, kernels) = (device.context.clone(), device.kernels.clone());
                let model = session.model().clone();
                let config = session.config().train_config();
                let (inputs, targets) = session.training_data();
                let (inputs, targets) = (inputs.clone(), targets.clone());
                // The GPU goes on with the CPU's optimiser, generator and row order.
                let state = session.trainer_state();
                spawn_local(async move {
                    let start = async {
                        let mut trainer = GpuEpochTrainer::new(context, kernels, &model, config)?;
                        trainer.set_data(&inputs, &targets)?;
                        trainer.resume(state)?;
                        Ok::<_, GpuTrainingError>(Box::new(trainer))
                    };
                    let result = start.await.map_err(|error| error.to_string());
                    send.emit(GpuMsg::Started { generation, result });
                });
            }
            GpuRun::Training(mut trainer) => {
                trainer
                    .train_epochs(EPOCHS_PER_SYNC)
                    .map_err(|error| error.to_string())?;
                let grid_inputs = session.grid_inputs().clone();
                spawn_local(async move {
                    let read = async {
                        let losses = trainer.read_losses().await?;
                        let model = trainer.read_model().await?;
                        let grid = trainer.layer_outputs(&grid_inputs).await?;
                        let state = trainer.read_state().await?;
                        Ok::<_, GpuTrainingError>(TrainedEpochs {
                            model: Box::new(model),
                            losses,
                            grid,
                            state,
                        })
                    };
                    let result = read.await.map_err(|error| error.to_string());
                    send.emit(GpuMsg::Synced {
                        generation,
                        trainer,
                        result,
                    });
                });
            }
            waiting @ (GpuRun::Starting | GpuRun::Syncing) => self.run = waiting,
        }
        Ok(())
    }

    /// The GPU failed mid-run: the CPU takes over, and the badge says why.
    pub fn fail(&mut self, reason: &str) {
        self.status = GpuStatus::Unavailable(format!("the GPU failed during training: {reason}"));
        self.choose(Backend::Cpu);
    }

    /// The title bar's badge (the engine in use, why in its tooltip) and, once the GPU has
    /// passed its self-test, the menu to switch.
    pub fn badge(&self, choose: Callback<Backend>) -> Html {
        let (label, why) = match (&self.status, self.in_use()) {
            (GpuStatus::Ready(device), true) => (
                device.description.clone(),
                format!(
                    "{} trains the network: it passed its self-test against the CPU{}.",
                    device.description,
                    device.software_note()
                ),
            ),
            (GpuStatus::Ready(device), false) => (
                "CPU".to_string(),
                format!(
                    "The CPU trains the network (the default for these small networks). {} \
                     passed its self-test{}: pick it in the menu to train there.",
                    device.description,
                    device.software_note()
                ),
            ),
            (GpuStatus::Searching, _) => (
                "CPU".to_string(),
                "The CPU trains the network while the GPU is being checked.".to_string(),
            ),
            (GpuStatus::Unavailable(reason), _) => (
                "CPU".to_string(),
                format!("The CPU trains the network: {reason}."),
            ),
        };
        let why = match self.in_use() {
            true => why,
            // Which of the page's two WebAssembly builds runs: relaxed SIMD or SIMD128 only.
            false => format!(
                "{why} Its matrix products run the {} kernel.",
                crate::engine::gemm::kernel_name()
            ),
        };
        let switch = match &self.status {
            GpuStatus::Ready(device) => {
                let onchange = choose.reform(|event: Event| {
                    let select: HtmlSelectElement = event.target_unchecked_into();
                    Backend::from_key(&select.value()).unwrap_or_default()
                });
                let option = |backend: Backend, text: String| {
                    html! {
                        <option value={backend.key()} selected={self.choice == backend}>{text}</option>
                    }
                };
                html! {
                    <select class="backend-switch" data-testid="backend-switch"
                        title="The engine that trains the network" {onchange}>
                        {option(Backend::Cpu, "CPU".to_string())}
                        {option(Backend::Gpu, device.description.clone())}
                    </select>
                }
            }
            _ => html! {},
        };
        html! {
            <span class="backend-box">
                <span class={classes!("backend", self.in_use().then_some("gpu"))} data-testid="backend" title={why}>{label}</span>
                {switch}
            </span>
        }
    }
}

fn record(failure: &Mutex<Option<String>>, reason: String) {
    if let Ok(mut failure) = failure.lock() {
        failure.get_or_insert(reason);
    }
}

/// Chrome exposes `navigator.gpu` even without an adapter; without it there is no WebGPU at all.
fn has_navigator_gpu() -> bool {
    let navigator = gloo::utils::window().navigator();
    js_sys::Reflect::get(&navigator, &"gpu".into()).is_ok_and(|gpu| !gpu.is_undefined())
}
