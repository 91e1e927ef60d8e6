//! The network diagram's edges: painted on one canvas from the snapshot's weights whenever one
//! of them looks different (coloured by sign, negative ones dashed, as thick as the weight is
//! large), under invisible SVG paths, one per weight, that take the pointer and change only
//! with the layout.

use super::app::Selection;
use super::heatmap::context_2d;
use super::network_pointer::target_attribute;
use super::shared::Shared;
use crate::playground::edge_style::EdgeStyle;
use crate::playground::{Snapshot, colors};
use gloo::timers::callback::Timeout;
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::JsValue;
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement};
use yew::prelude::*;

/// Where one weight's edge runs: from the right of neuron `from` of layer `layer` to the left
/// of neuron `to` of the next layer, as an S-shaped curve.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EdgePath {
    pub layer: usize,
    pub from: usize,
    pub to: usize,
    pub start: (f64, f64),
    pub end: (f64, f64),
}

impl EdgePath {
    pub fn selection(&self) -> Selection {
        Selection::Weight {
            layer: self.layer,
            from: self.from,
            to: self.to,
        }
    }

    /// The curve's middle, where the hover card points.
    pub fn middle(&self) -> (f64, f64) {
        (
            (self.start.0 + self.end.0) / 2.0,
            (self.start.1 + self.end.1) / 2.0,
        )
    }

    /// The curve as SVG path data.
    fn svg(&self) -> String {
        let ((x1, y1), (x2, y2)) = (self.start, self.end);
        let middle = (x1 + x2) / 2.0;
        format!("M{x1:.1},{y1:.1} C{middle:.1},{y1:.1} {middle:.1},{y2:.1} {x2:.1},{y2:.1}")
    }

    fn trace(&self, context: &CanvasRenderingContext2d) {
        let ((x1, y1), (x2, y2)) = (self.start, self.end);
        let middle = (x1 + x2) / 2.0;
        context.move_to(x1, y1);
        context.bezier_curve_to(middle, y1, middle, y2, x2, y2);
    }
}

#[derive(Properties, PartialEq)]
pub struct EdgeCanvasProps {
    pub paths: Shared<Vec<EdgePath>>,
    pub snapshot: Shared<Snapshot>,
    pub selection: Option<Selection>,
    pub width: f64,
    pub height: f64,
}

/// What the edge canvas shows: the layout, each edge's style (none for an edge the snapshot
/// does not have), the selection and the pixel ratio.
#[derive(PartialEq)]
struct Painted {
    paths: Shared<Vec<EdgePath>>,
    styles: Vec<Option<EdgeStyle>>,
    selection: Option<Selection>,
    scale_bits: u64,
}

/// Edges beyond which a network's edges are painted at most every [`LARGE_REPAINT_MS`] while
/// only the weights change: painting a thousand edges costs the browser more than a frame.
const LARGE_NETWORK_EDGES: usize = 400;
const LARGE_REPAINT_MS: f64 = 100.0;

/// What the canvas shows, when it was painted, and what waits for its turn.
#[derive(Default)]
struct Painter {
    painted: Option<Painted>,
    painted_at_ms: f64,
    waiting: Option<Painted>,
    scheduled: bool,
}

impl Painter {
    /// Paints `showing` unless the canvas shows it already; a large network's new weights
    /// wait for their turn (the latest is painted then), a new layout or selection does not.
    fn show(state: &Rc<RefCell<Painter>>, canvas: NodeRef, showing: Painted, scale: f64) {
        let mut painter = state.borrow_mut();
        if painter.painted.as_ref() == Some(&showing) {
            painter.waiting = None;
            return;
        }
        let now = now_ms();
        let same_view = painter.painted.as_ref().is_some_and(|painted| {
            (&painted.paths, painted.selection, painted.scale_bits)
                == (&showing.paths, showing.selection, showing.scale_bits)
        });
        let wait = match showing.paths.len() > LARGE_NETWORK_EDGES && same_view {
            true => LARGE_REPAINT_MS - (now - painter.painted_at_ms),
            false => 0.0,
        };
        if wait <= 0.0 {
            painter.waiting = None;
            painter.paint(&canvas, showing, scale);
            return;
        }
        painter.waiting = Some(showing);
        if !painter.scheduled {
            painter.scheduled = true;
            let state = Rc::downgrade(state);
            Timeout::new(wait.ceil() as u32, move || {
                let Some(state) = state.upgrade() else {
                    return;
                };
                let mut painter = state.borrow_mut();
                painter.scheduled = false;
                if let Some(showing) = painter.waiting.take() {
                    painter.paint(&canvas, showing, scale);
                }
            })
            .forget();
        }
    }

    fn paint(&mut self, canvas: &NodeRef, showing: Painted, scale: f64) {
        if let Some(canvas) = canvas.cast::<HtmlCanvasElement>() {
            paint(&canvas, &showing, scale);
            self.painted = Some(showing);
            self.painted_at_ms = now_ms();
        }
    }
}

fn now_ms() -> f64 {
    gloo::utils::window()
        .performance()
        .map_or(0.0, |performance| performance.now())
}

/// The edges, painted again when a new snapshot, layout or selection changes how any of
/// them looks (training moves most weights by less than a colour step or a quarter pixel);
/// a large network's at most ten times a second while it trains.
#[component]
pub fn EdgeCanvas(props: &EdgeCanvasProps) -> Html {
    let canvas = use_node_ref();
    let painter = use_mut_ref(Painter::default);
    let scale = gloo::utils::window().device_pixel_ratio().max(1.0);
    {
        let canvas = canvas.clone();
        let deps = (
            props.paths.clone(),
            props.snapshot.clone(),
            props.selection,
            scale.to_bits(),
        );
        use_effect_with(deps, move |(paths, snapshot, selection, _)| {
            let showing = Painted {
                paths: paths.clone(),
                styles: styles(paths, snapshot),
                selection: *selection,
                scale_bits: scale.to_bits(),
            };
            Painter::show(&painter, canvas, showing, scale);
        });
    }
    let (width, height) = (props.width, props.height);
    html! {
        <canvas ref={canvas} class="edges" aria-hidden="true" data-testid="edge-canvas"
            width={((width * scale).ceil() as u32).to_string()}
            height={((height * scale).ceil() as u32).to_string()}
            style={format!("width:{width}px;height:{height}px")} />
    }
}

/// Each path's style from the snapshot's weights.
fn styles(paths: &[EdgePath], snapshot: &Snapshot) -> Vec<Option<EdgeStyle>> {
    let sizes = &snapshot.layer_sizes;
    let widest = sizes.iter().copied().max().unwrap_or(1);
    let style = |path: &EdgePath| {
        let fits = path.layer + 1 < sizes.len()
            && path.from < sizes[path.layer]
            && path.to < sizes[path.layer + 1];
        fits.then(|| EdgeStyle::of(snapshot.weight(path.layer, path.from, path.to), widest))
    };
    paths.iter().map(style).collect()
}

/// Sets the context up to stroke edges of `style`.
fn apply(style: EdgeStyle, context: &CanvasRenderingContext2d) {
    context.set_stroke_style_str(&colors::css(style.colour()));
    context.set_line_width(style.width_px());
    let pattern: &[f64] = if style.negative { &[5.0, 3.0] } else { &[] };
    let array: js_sys::Array = pattern.iter().copied().map(JsValue::from_f64).collect();
    let _ = context.set_line_dash(&array);
}

/// Every edge in its group's stroke, then the selected edge on top with a shadow.
fn paint(canvas: &HtmlCanvasElement, showing: &Painted, scale: f64) {
    let Some(context) = context_2d(canvas) else {
        return;
    };
    let _ = context.set_transform(1.0, 0.0, 0.0, 1.0, 0.0, 0.0);
    context.clear_rect(0.0, 0.0, canvas.width().into(), canvas.height().into());
    let _ = context.set_transform(scale, 0.0, 0.0, scale, 0.0, 0.0);
    let selected = |path: &EdgePath| showing.selection == Some(path.selection());
    let mut styled: Vec<(EdgeStyle, &EdgePath)> = showing
        .paths
        .iter()
        .zip(&showing.styles)
        .filter_map(|(path, style)| Some(((*style)?, path)))
        .collect();
    styled.sort_by_key(|(style, _)| *style);
    for group in styled.chunk_by(|a, b| a.0 == b.0) {
        apply(group[0].0, &context);
        context.begin_path();
        for (_, path) in group.iter().filter(|(_, path)| !selected(path)) {
            path.trace(&context);
        }
        context.stroke();
    }
    if let Some((style, path)) = styled.iter().find(|(_, path)| selected(path)) {
        apply(*style, &context);
        context.set_shadow_color("rgba(0, 0, 0, 0.9)");
        context.set_shadow_blur(2.0 * scale);
        context.begin_path();
        path.trace(&context);
        context.stroke();
        context.set_shadow_blur(0.0);
    }
}

#[derive(Properties, PartialEq)]
pub struct EdgeTargetsProps {
    pub paths: Shared<Vec<EdgePath>>,
    pub width: f64,
    pub height: f64,
}

/// Invisible strokes along the edges that the pointer picks and drags; they carry each
/// weight's `data-target` and test id and are drawn again only when the layout changes.
#[component]
pub fn EdgeTargets(props: &EdgeTargetsProps) -> Html {
    let targets = props.paths.iter().map(|path| {
        let (layer, from, to) = (path.layer, path.from, path.to);
        html! {
            <path key={format!("{layer}-{from}-{to}")} class="edge-hit" d={path.svg()}
                data-target={target_attribute(path.selection())}
                data-testid={format!("edge-{layer}-{from}-{to}")} />
        }
    });
    html! {
        <svg class="edges" width={props.width.to_string()} height={props.height.to_string()}>
            { for targets }
        </svg>
    }
}
