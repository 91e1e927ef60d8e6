//! Two-parameter loss surfaces for the optimizer race: each a pure function with its analytic
//! gradient, the square of the plane it is drawn on, and a start and learning rate that make
//! the race worth watching.

/// A point `[x, y]` of the plane, i.e. the two parameters being optimised.
pub type Point = [f64; 2];

/// The square of the plane a surface is drawn on.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct View {
    pub x_min: f64,
    pub x_max: f64,
    pub y_min: f64,
    pub y_max: f64,
}

impl View {
    fn square(centre: Point, half_width: f64) -> View {
        View {
            x_min: centre[0] - half_width,
            x_max: centre[0] + half_width,
            y_min: centre[1] - half_width,
            y_max: centre[1] + half_width,
        }
    }

    /// The point at fractions `(u, v)` of the view, `u` from the left, `v` from the top.
    pub fn point_at(&self, u: f64, v: f64) -> Point {
        [
            self.x_min + u * (self.x_max - self.x_min),
            self.y_max - v * (self.y_max - self.y_min),
        ]
    }

    /// Fractions `(u, v)` of the view at `point`: the inverse of [`View::point_at`].
    pub fn fractions_of(&self, point: Point) -> (f64, f64) {
        (
            (point[0] - self.x_min) / (self.x_max - self.x_min),
            (self.y_max - point[1]) / (self.y_max - self.y_min),
        )
    }

    /// Whether `point` lies within `margin` view-widths of the view: beyond that a racer has
    /// left for good.
    pub fn contains_with_margin(&self, point: Point, margin: f64) -> bool {
        let (u, v) = self.fractions_of(point);
        (-margin..=1.0 + margin).contains(&u) && (-margin..=1.0 + margin).contains(&v)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Surface {
    /// `0.1 x² + 2 y²`: steep across, shallow along, so plain SGD zig-zags or crawls.
    ElongatedBowl,
    /// `(1 - x)² + 10 (y - x²)²`: a curved, flat-bottomed valley (Rosenbrock with b = 10).
    Rosenbrock,
    /// `x² - y² + y⁴ / 4 + 1`: a saddle at the origin, minima at `(0, ±√2)`.
    Saddle,
    /// `((x² + y - 11)² + (x + y² - 7)²) / 10`: Himmelblau's function, four minima.
    Himmelblau,
    /// `x² + 3 + y²`: the course's one-weight loss `x² + 3`, given a second weight.
    CourseBowl,
}

impl Surface {
    pub const ALL: [Surface; 5] = [
        Surface::ElongatedBowl,
        Surface::Rosenbrock,
        Surface::Saddle,
        Surface::Himmelblau,
        Surface::CourseBowl,
    ];

    /// Short lowercase name, used in menus and test hooks.
    pub fn key(self) -> &'static str {
        match self {
            Surface::ElongatedBowl => "bowl",
            Surface::Rosenbrock => "rosenbrock",
            Surface::Saddle => "saddle",
            Surface::Himmelblau => "himmelblau",
            Surface::CourseBowl => "course",
        }
    }

    pub fn from_key(key: &str) -> Option<Surface> {
        Surface::ALL
            .into_iter()
            .find(|surface| surface.key() == key)
    }

    pub fn title(self) -> &'static str {
        match self {
            Surface::ElongatedBowl => "Elongated bowl: 0.1x² + 2y²",
            Surface::Rosenbrock => "Rosenbrock valley: (1 − x)² + 10(y − x²)²",
            Surface::Saddle => "Saddle: x² − y² + y⁴/4 + 1",
            Surface::Himmelblau => "Himmelblau: four minima",
            Surface::CourseBowl => "The course's loss: x² + 3 (+ y²)",
        }
    }

    pub fn loss(self, [x, y]: Point) -> f64 {
        match self {
            Surface::ElongatedBowl => 0.1 * x * x + 2.0 * y * y,
            Surface::Rosenbrock => (1.0 - x).powi(2) + 10.0 * (y - x * x).powi(2),
            Surface::Saddle => x * x - y * y + 0.25 * y.powi(4) + 1.0,
            Surface::Himmelblau => {
                ((x * x + y - 11.0).powi(2) + (x + y * y - 7.0).powi(2)) / HIMMELBLAU_SCALE
            }
            Surface::CourseBowl => x * x + 3.0 + y * y,
        }
    }

    /// `[∂loss/∂x, ∂loss/∂y]`, worked out by hand (the tests check it by finite differences).
    pub fn gradient(self, [x, y]: Point) -> Point {
        match self {
            Surface::ElongatedBowl => [0.2 * x, 4.0 * y],
            Surface::Rosenbrock => {
                let valley = y - x * x;
                [-2.0 * (1.0 - x) - 40.0 * x * valley, 20.0 * valley]
            }
            Surface::Saddle => [2.0 * x, -2.0 * y + y.powi(3)],
            Surface::Himmelblau => {
                let a = x * x + y - 11.0;
                let b = x + y * y - 7.0;
                [
                    (4.0 * x * a + 2.0 * b) / HIMMELBLAU_SCALE,
                    (2.0 * a + 4.0 * y * b) / HIMMELBLAU_SCALE,
                ]
            }
            Surface::CourseBowl => [2.0 * x, 2.0 * y],
        }
    }

    /// The lowest loss anywhere on the surface: a racer within [`NEAR_MINIMUM`] of it has
    /// reached a minimum.
    pub fn lowest_loss(self) -> f64 {
        match self {
            Surface::CourseBowl => 3.0,
            _ => 0.0,
        }
    }

    /// Where the minima are, to mark them on the plot.
    pub fn minima(self) -> &'static [Point] {
        match self {
            Surface::ElongatedBowl | Surface::CourseBowl => &[[0.0, 0.0]],
            Surface::Rosenbrock => &[[1.0, 1.0]],
            Surface::Saddle => &[
                [0.0, std::f64::consts::SQRT_2],
                [0.0, -std::f64::consts::SQRT_2],
            ],
            Surface::Himmelblau => &[
                [3.0, 2.0],
                [-2.805118, 3.131312],
                [-3.779310, -3.283186],
                [3.584428, -1.848127],
            ],
        }
    }

    pub fn view(self) -> View {
        match self {
            Surface::ElongatedBowl => View::square([0.0, 0.0], 5.0),
            Surface::Rosenbrock => View::square([0.0, 1.0], 2.0),
            Surface::Saddle => View::square([0.0, 0.0], 2.5),
            Surface::Himmelblau => View::square([0.0, 0.0], 5.0),
            Surface::CourseBowl => View::square([0.0, 0.0], 3.0),
        }
    }

    /// The common start: chosen so that the optimizers' differences show.
    pub fn start(self) -> Point {
        match self {
            Surface::ElongatedBowl => [-4.5, 2.0],
            Surface::Rosenbrock => [-1.5, 2.5],
            // Just off the ridge: the gradient along y starts tiny.
            Surface::Saddle => [-2.0, 0.01],
            Surface::Himmelblau => [-0.5, -0.5],
            Surface::CourseBowl => [2.0, 1.5],
        }
    }

    /// A learning rate at which every optimizer makes visible progress without diverging.
    pub fn learning_rate(self) -> f32 {
        match self {
            Surface::ElongatedBowl => 0.1,
            Surface::Rosenbrock => 0.01,
            Surface::Saddle => 0.03,
            Surface::Himmelblau => 0.1,
            Surface::CourseBowl => 0.1,
        }
    }

    /// `log10(loss - lowest + 10⁻³)` over a `resolution²` grid covering the view, row 0 at the
    /// top: the log keeps both the floor of a valley and its walls readable.
    pub fn log_loss_grid(self, resolution: usize) -> Vec<f32> {
        let view = self.view();
        let last = resolution.saturating_sub(1).max(1) as f64;
        let lowest = self.lowest_loss();
        (0..resolution * resolution)
            .map(|index| {
                let (row, column) = (index / resolution, index % resolution);
                let point = view.point_at(column as f64 / last, row as f64 / last);
                ((self.loss(point) - lowest).max(0.0) + 1e-3).log10() as f32
            })
            .collect()
    }
}

/// Himmelblau's function reaches ~900 in its view; dividing by 10 keeps its gradients in the
/// range of the other surfaces, so one learning rate suits them all.
const HIMMELBLAU_SCALE: f64 = 10.0;

/// How close to the lowest loss counts as having reached a minimum.
pub const NEAR_MINIMUM: f64 = 1e-3;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gradients_match_finite_differences() {
        let h = 1e-6;
        for surface in Surface::ALL {
            let view = surface.view();
            for u in [0.1, 0.37, 0.5, 0.81] {
                for v in [0.15, 0.5, 0.66, 0.9] {
                    let [x, y] = view.point_at(u, v);
                    let numeric = [
                        (surface.loss([x + h, y]) - surface.loss([x - h, y])) / (2.0 * h),
                        (surface.loss([x, y + h]) - surface.loss([x, y - h])) / (2.0 * h),
                    ];
                    let analytic = surface.gradient([x, y]);
                    for axis in 0..2 {
                        let tolerance = 1e-5 * (1.0 + numeric[axis].abs());
                        assert!(
                            (numeric[axis] - analytic[axis]).abs() < tolerance,
                            "{surface:?} at ({x}, {y}), axis {axis}: analytic {} vs numeric {}",
                            analytic[axis],
                            numeric[axis]
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn minima_have_the_lowest_loss_and_no_slope() {
        for surface in Surface::ALL {
            for &minimum in surface.minima() {
                let loss = surface.loss(minimum);
                assert!(
                    (loss - surface.lowest_loss()).abs() < 1e-6,
                    "{surface:?}: loss {loss} at {minimum:?}"
                );
                let [gx, gy] = surface.gradient(minimum);
                assert!(
                    gx.abs() < 1e-4 && gy.abs() < 1e-4,
                    "{surface:?} slope at {minimum:?}"
                );
                assert!(surface.view().contains_with_margin(minimum, 0.0));
            }
            assert!(surface.view().contains_with_margin(surface.start(), 0.0));
        }
    }

    #[test]
    fn view_fractions_round_trip() {
        let view = Surface::Rosenbrock.view();
        let point = view.point_at(0.25, 0.75);
        let (u, v) = view.fractions_of(point);
        assert!((u - 0.25).abs() < 1e-12 && (v - 0.75).abs() < 1e-12);
        assert_eq!(view.point_at(0.0, 0.0), [view.x_min, view.y_max]);
    }

    #[test]
    fn log_loss_grid_is_finite_and_lowest_near_a_minimum() {
        for surface in Surface::ALL {
            let grid = surface.log_loss_grid(41);
            assert_eq!(grid.len(), 41 * 41);
            assert!(grid.iter().all(|value| value.is_finite()), "{surface:?}");
        }
        // The bowl's minimum is the centre of its view.
        let grid = Surface::ElongatedBowl.log_loss_grid(41);
        let lowest = grid.iter().copied().fold(f32::INFINITY, f32::min);
        assert_eq!(grid[20 * 41 + 20], lowest);
    }

    #[test]
    fn keys_round_trip() {
        for surface in Surface::ALL {
            assert_eq!(Surface::from_key(surface.key()), Some(surface));
        }
    }
}
