//! How a playing page spends each animation frame: training for a time budget, and drawing
//! every frame while drawing is cheap, or spread over three frames (a snapshot, its drawing, a
//! frame of training only) when it is not, so that no frame outgrows a 60 Hz display's.

/// What a frame may spend on training and drawing together, in milliseconds: the rest of a
/// 60 Hz display's 16.7 ms is the browser's (style, layout, painting, compositing).
pub const FRAME_WORK_MS: f64 = 10.0;
/// The least a frame trains, in milliseconds, however long its drawing (at least one
/// mini-batch is trained in any case).
pub const LEAST_TRAINING_MS: f64 = 1.0;

/// What one frame does besides training.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameTask {
    /// Takes a snapshot of the network and draws it (drawing is cheap).
    Draw,
    /// Takes a snapshot, drawn in the next frame.
    Snapshot,
    /// Draws the snapshot the last frame took.
    Render,
    /// Nothing: the frame trains for all of its time.
    TrainOnly,
}

/// A frame's plan: its task, and how long it may train first.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FramePlan {
    pub task: FrameTask,
    pub training_ms: f64,
}

/// Plans the frames of a playing page from what its snapshots and drawings took lately.
#[derive(Clone, Debug, Default)]
pub struct FrameBudget {
    snapshot_ms: f64,
    render_ms: f64,
    last: Option<FrameTask>,
}

impl FrameBudget {
    /// The next frame's plan. Drawing is cheap while a snapshot and its drawing take at most
    /// half of [`FRAME_WORK_MS`]; otherwise frames cycle through a snapshot, its drawing and a
    /// frame of training only. A snapshot taken is always drawn in the next frame.
    pub fn plan(&mut self) -> FramePlan {
        let cheap = self.snapshot_ms + self.render_ms <= FRAME_WORK_MS / 2.0;
        let task = match self.last {
            Some(FrameTask::Snapshot) => FrameTask::Render,
            _ if cheap => FrameTask::Draw,
            Some(FrameTask::Render) => FrameTask::TrainOnly,
            _ => FrameTask::Snapshot,
        };
        // A large network's drawing frame leaves the rest of its time to the browser, whose
        // painting of that many views takes longer than the views' own work.
        let drawing_ms = match task {
            FrameTask::Draw => self.snapshot_ms + self.render_ms,
            FrameTask::Snapshot => self.snapshot_ms,
            FrameTask::Render => FRAME_WORK_MS,
            FrameTask::TrainOnly => 0.0,
        };
        self.last = Some(task);
        FramePlan {
            task,
            training_ms: (FRAME_WORK_MS - drawing_ms).clamp(LEAST_TRAINING_MS, FRAME_WORK_MS),
        }
    }

    /// How long the last snapshot took.
    pub fn snapshot_took(&mut self, milliseconds: f64) {
        self.snapshot_ms = milliseconds.max(0.0);
    }

    /// How long the last drawing took, from its snapshot to the end of the views' painting.
    pub fn render_took(&mut self, milliseconds: f64) {
        self.render_ms = milliseconds.max(0.0);
    }

    /// Starts afresh (playing stopped): the next frame draws.
    pub fn restart(&mut self) {
        self.last = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tasks(budget: &mut FrameBudget, count: usize) -> Vec<FrameTask> {
        (0..count).map(|_| budget.plan().task).collect()
    }

    /// A small network draws every frame and trains for what its drawing leaves.
    #[test]
    fn cheap_drawing_happens_every_frame() {
        let mut budget = FrameBudget::default();
        budget.snapshot_took(1.5);
        budget.render_took(2.5);
        assert_eq!(tasks(&mut budget, 3), [FrameTask::Draw; 3]);
        assert_eq!(budget.plan().training_ms, FRAME_WORK_MS - 4.0);
    }

    /// A large network's drawing is spread over frames that each stay within the budget:
    /// a snapshot, its drawing, a frame of training, and again.
    #[test]
    fn costly_drawing_is_spread_over_three_frames() {
        use FrameTask::*;
        let mut budget = FrameBudget::default();
        budget.snapshot_took(7.0);
        budget.render_took(6.0);
        assert_eq!(
            tasks(&mut budget, 6),
            [Snapshot, Render, TrainOnly, Snapshot, Render, TrainOnly]
        );
        let plans: Vec<f64> = (0..3).map(|_| budget.plan().training_ms).collect();
        // The drawing frame leaves the rest of its time to the browser's painting.
        assert_eq!(
            plans,
            [FRAME_WORK_MS - 7.0, LEAST_TRAINING_MS, FRAME_WORK_MS]
        );
        // Drawing slower than the whole budget still trains a little every frame.
        budget.snapshot_took(30.0);
        budget.restart();
        assert_eq!(budget.plan().training_ms, LEAST_TRAINING_MS);
    }

    /// A snapshot is drawn in the frame after it even if drawing became cheap meanwhile, and
    /// drawing becoming costly mid-run starts the cycle with a snapshot.
    #[test]
    fn a_snapshot_taken_is_always_drawn_next() {
        use FrameTask::*;
        let mut budget = FrameBudget::default();
        assert_eq!(budget.plan().task, Draw);
        budget.render_took(20.0);
        assert_eq!(budget.plan().task, Snapshot);
        budget.render_took(1.0);
        assert_eq!(tasks(&mut budget, 2), [Render, Draw]);
    }
}
