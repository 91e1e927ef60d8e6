//! The network diagram's pointer: pressing a weight's edge or a neuron picks it, dragging up
//! or down changes its value live, hovering shows its value and tells the output panel which
//! neuron is under the pointer. The handlers sit on the diagram itself and find what is under
//! the pointer by its element's `data-target` (a weight or bias) and `data-neuron`, so that the
//! edges and neurons, thousands in a large network, carry no handlers of their own.

use super::app::{Msg, Selection};
use super::shared::Shared;
use crate::playground::Snapshot;
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use web_sys::Element;
use yew::prelude::*;

/// Change of a weight per pixel dragged.
const DRAG_RATE: f32 = 0.02;

/// An edge or neuron being dragged: what, where the pointer started, the value then.
pub struct Drag {
    target: Selection,
    start_y: f64,
    start_value: f32,
}

/// The `data-target` of a weight's or a bias's element, which the diagram's pointer handlers
/// read back with [`parse_target`].
pub fn target_attribute(target: Selection) -> String {
    match target {
        Selection::Weight { layer, from, to } => format!("w {layer} {from} {to}"),
        Selection::Bias { layer, neuron } => format!("b {layer} {neuron}"),
    }
}

/// The weight or bias a `data-target` names.
pub fn parse_target(attribute: &str) -> Option<Selection> {
    let mut parts = attribute.split(' ');
    let kind = parts.next()?;
    let numbers: Vec<usize> = parts.map(|part| part.parse().ok()).collect::<Option<_>>()?;
    match (kind, numbers.as_slice()) {
        ("w", &[layer, from, to]) => Some(Selection::Weight { layer, from, to }),
        ("b", &[layer, neuron]) => Some(Selection::Bias { layer, neuron }),
        _ => None,
    }
}

/// The value of a weight or bias in the snapshot (0 for one it does not have).
pub fn snapshot_value(snapshot: &Snapshot, target: Selection) -> f32 {
    let value = match target {
        Selection::Weight { layer, from, to } => {
            let outputs = snapshot.layer_sizes.get(layer + 1).copied().unwrap_or(0);
            (to < outputs)
                .then(|| snapshot.weights.get(layer)?.get(from * outputs + to))
                .flatten()
        }
        Selection::Bias { layer, neuron } => snapshot.biases.get(layer).and_then(|b| b.get(neuron)),
    };
    value.copied().unwrap_or(0.0)
}

/// What the pointer is over: a weight or bias, and a neuron (layer, index).
type Hovered = (Option<Selection>, Option<(usize, usize)>);

/// The diagram's pointer handlers, for its element.
pub struct PointerHandlers {
    pub drag: Rc<RefCell<Option<Drag>>>,
    /// The weight or bias the hover card shows.
    pub hovered: UseStateHandle<Option<Selection>>,
    /// The neuron the output panel was last told is hovered.
    pub hovered_neuron: Rc<RefCell<Option<(usize, usize)>>>,
    pub snapshot: Shared<Snapshot>,
    pub send: Callback<Msg>,
}

impl PointerHandlers {
    /// Picks the weight or bias pressed and starts dragging it.
    pub fn start_drag(&self) -> Callback<PointerEvent> {
        let (drag, snapshot, send) = (self.drag.clone(), self.snapshot.clone(), self.send.clone());
        Callback::from(move |event: PointerEvent| {
            let Some((element, target)) = target_at(&event) else {
                return;
            };
            event.prevent_default();
            let _ = element.set_pointer_capture(event.pointer_id());
            *drag.borrow_mut() = Some(Drag {
                target,
                start_y: event.client_y() as f64,
                start_value: snapshot_value(&snapshot, target),
            });
            send.emit(Msg::Select(Some(target)));
        })
    }

    /// Changes the dragged weight or bias by the pointer's height above where it started.
    pub fn move_drag(&self) -> Callback<PointerEvent> {
        let (drag, send) = (self.drag.clone(), self.send.clone());
        Callback::from(move |event: PointerEvent| {
            if let Some(active) = drag.borrow().as_ref() {
                let moved = (active.start_y - event.client_y() as f64) as f32;
                if moved != 0.0 {
                    let value = active.start_value + moved * DRAG_RATE;
                    send.emit(Msg::SetParameter(active.target, value));
                }
            }
        })
    }

    pub fn end_drag(&self) -> Callback<PointerEvent> {
        let drag = self.drag.clone();
        Callback::from(move |_: PointerEvent| *drag.borrow_mut() = None)
    }

    /// Shows the hover card of the weight or bias under the pointer, and tells the output
    /// panel which neuron is under it.
    pub fn over(&self) -> Callback<PointerEvent> {
        self.hover(|event| {
            let target = target_at(event).map(|(_, target)| target);
            let neuron = attribute_at(event, "data-neuron").and_then(|(_, v)| parse_neuron(&v));
            (target, neuron)
        })
    }

    /// Hides the hover card and tells the output panel that no neuron is hovered.
    pub fn leave(&self) -> Callback<PointerEvent> {
        self.hover(|_| (None, None))
    }

    /// A handler that shows the weight or bias `under` the pointer finds, and tells the
    /// output panel of its neuron when that changes.
    fn hover(&self, under: fn(&PointerEvent) -> Hovered) -> Callback<PointerEvent> {
        let (hovered, hovered_neuron, send) = (
            self.hovered.clone(),
            self.hovered_neuron.clone(),
            self.send.clone(),
        );
        Callback::from(move |event: PointerEvent| {
            let (target, neuron) = under(&event);
            hovered.set(target);
            if hovered_neuron.replace(neuron) != neuron {
                send.emit(Msg::Hover(neuron));
            }
        })
    }
}

/// The closest element at or above the event's target that has `attribute`, and its value.
fn attribute_at(event: &Event, attribute: &str) -> Option<(Element, String)> {
    let target: Element = event.target()?.dyn_into().ok()?;
    let element = target.closest(&format!("[{attribute}]")).ok()??;
    let value = element.get_attribute(attribute)?;
    Some((element, value))
}

/// The weight or bias whose element the event's target is (or is within).
fn target_at(event: &Event) -> Option<(Element, Selection)> {
    let (element, value) = attribute_at(event, "data-target")?;
    Some((element, parse_target(&value)?))
}

/// The (layer, neuron) a `data-neuron` names.
fn parse_neuron(attribute: &str) -> Option<(usize, usize)> {
    let (layer, neuron) = attribute.split_once(' ')?;
    Some((layer.parse().ok()?, neuron.parse().ok()?))
}
