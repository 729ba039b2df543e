//! PNG pictures with plotters' bitmap backend and a bundled font (DejaVu Sans, see
//! `host/assets/DejaVuSans-LICENSE.txt`), so no system font is needed at run time.
//!
//! * [`boundary_figure`]: the VAT paper's figure — panels of the 2-D plane with the model's
//!   `p(class 1)` as background, the decision boundary in black, the points shaded by their LDS
//!   and the labelled points as large markers. The 100-D models see each 2-D grid point through
//!   the orthonormal embedding.
//! * [`robustness_figure`]: robust accuracy vs ε curves, one per method, FGSM and PGD side by side.

use crate::data::Dataset;
use crate::models::Model;
use anyhow::{anyhow, Result};
use plotters::prelude::*;
use std::path::Path;
use std::sync::Once;
use vatic::vat::VatConfig;
use vatic::Rng;

const FONT: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");
static REGISTER: Once = Once::new();

fn register_font() {
    REGISTER.call_once(|| {
        // The font is bundled and known to be valid; if registration failed anyway, text would
        // be missing from the pictures, which is not worth failing a run for.
        let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, FONT);
    });
}

fn err<E: std::fmt::Debug>(e: E) -> anyhow::Error {
    anyhow!("drawing failed: {e:?}")
}

/// `p(class 1 | x)` for every sample (two-class models).
///
/// # Errors
///
/// When the data does not fit the model.
pub fn class1_probability(model: &Model, xs: &Dataset) -> Result<Vec<f32>> {
    ensure_fits(model, xs)?;
    let classes = model.classes();
    let mut zs = vec![0.0; xs.len() * classes];
    vatic::pass::logits(model.net(), &xs.x, &mut zs, &mut model.workspace())?;
    Ok(zs
        .chunks_exact(classes)
        .map(|z| {
            let m = z.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let e: Vec<f32> = z.iter().map(|v| (v - m).exp()).collect();
            e.get(1).copied().unwrap_or(0.0) / e.iter().sum::<f32>()
        })
        .collect())
}

/// LDS of every sample, with a Gaussian start direction per sample from `seed`.
///
/// # Errors
///
/// When the data does not fit the model or `cfg` is invalid.
pub fn lds_each(model: &Model, xs: &Dataset, cfg: &VatConfig, seed: u64) -> Result<Vec<f32>> {
    ensure_fits(model, xs)?;
    let mut rng = Rng::new(seed);
    let mut ws = model.workspace();
    let mut d0 = vec![0.0; model.features()];
    xs.x.chunks_exact(model.features())
        .map(|x| {
            rng.fill_normal(&mut d0);
            vatic::vat::lds(model.net(), x, &d0, cfg, &mut ws).map_err(anyhow::Error::from)
        })
        .collect()
}

fn ensure_fits(model: &Model, xs: &Dataset) -> Result<()> {
    anyhow::ensure!(
        xs.features == model.features(),
        "the data has {} features but the {} model takes {}",
        xs.features,
        model.shape_name(),
        model.features()
    );
    Ok(())
}

/// One panel of [`boundary_figure`].
pub struct Panel<'a> {
    /// Title above the panel.
    pub title: String,
    /// `p(class 1)` on the grid, row-major from the bottom-left, `grid × grid` values.
    pub probability: &'a [f32],
    /// The points to draw (2-D) and their LDS.
    pub points: &'a Dataset,
    /// LDS of each point.
    pub lds: &'a [f32],
    /// The labelled points (2-D), drawn large in their class colour.
    pub labelled: &'a Dataset,
}

/// The plotting window of the synthetic sets and the grid that covers it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Window {
    /// `x` range.
    pub x: (f32, f32),
    /// `y` range.
    pub y: (f32, f32),
    /// Grid cells per side.
    pub grid: usize,
}

impl Window {
    /// A window around the points with a margin, `grid` cells per side.
    pub fn around(points: &Dataset, grid: usize) -> Self {
        let (mut x0, mut x1, mut y0, mut y1) = (f32::MAX, f32::MIN, f32::MAX, f32::MIN);
        for p in points.x.chunks_exact(2) {
            x0 = x0.min(p[0]);
            x1 = x1.max(p[0]);
            y0 = y0.min(p[1]);
            y1 = y1.max(p[1]);
        }
        let m = 0.25;
        Self {
            x: (x0 - m, x1 + m),
            y: (y0 - m, y1 + m),
            grid,
        }
    }

    /// The centres of the grid cells, row-major from the bottom-left, as a 2-D data set.
    pub fn points(&self) -> Dataset {
        let g = self.grid;
        let mut x = Vec::with_capacity(g * g * 2);
        for j in 0..g {
            for i in 0..g {
                x.push(self.x.0 + (i as f32 + 0.5) / g as f32 * (self.x.1 - self.x.0));
                x.push(self.y.0 + (j as f32 + 0.5) / g as f32 * (self.y.1 - self.y.0));
            }
        }
        Dataset {
            features: 2,
            classes: 2,
            x,
            y: vec![0; g * g],
        }
    }
}

const CLASS0: RGBColor = RGBColor(31, 119, 180);
const CLASS1: RGBColor = RGBColor(214, 39, 40);

/// Background colour for `p(class 1)`: light blue → white → light red.
fn background(p: f32) -> RGBColor {
    let p = p.clamp(0.0, 1.0);
    let mix = |a: u8, b: u8, t: f32| (f32::from(a) + (f32::from(b) - f32::from(a)) * t) as u8;
    let (c0, c1) = ((198, 219, 239), (252, 187, 161));
    if p < 0.5 {
        let t = p * 2.0;
        RGBColor(mix(c0.0, 255, t), mix(c0.1, 255, t), mix(c0.2, 255, t))
    } else {
        let t = (p - 0.5) * 2.0;
        RGBColor(mix(255, c1.0, t), mix(255, c1.1, t), mix(255, c1.2, t))
    }
}

/// Point colour for an LDS value scaled to `[0, 1]`: pale yellow → dark purple.
fn lds_color(t: f32) -> RGBColor {
    let t = t.clamp(0.0, 1.0);
    let mix = |a: u8, b: u8| (f32::from(a) + (f32::from(b) - f32::from(a)) * t) as u8;
    RGBColor(mix(255, 60), mix(230, 0), mix(120, 90))
}

/// Draws the panels in a grid of `cols` columns into a PNG of `width × height` pixels.
///
/// Points are shaded by `LDS / max LDS over all panels` (so panels are comparable); the
/// caption gives that maximum.
///
/// # Errors
///
/// When the file cannot be written.
pub fn boundary_figure(
    path: &Path,
    window: &Window,
    panels: &[Panel<'_>],
    cols: usize,
    size: (u32, u32),
    caption: &str,
) -> Result<()> {
    register_font();
    let max_lds = panels
        .iter()
        .flat_map(|p| p.lds.iter().copied())
        .filter(|v| v.is_finite())
        .fold(1e-12f32, f32::max);
    crate::output::write_path_with(path, "png", |path| {
        let root = BitMapBackend::new(path, size).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let root = root
        .titled(
            &format!("{caption}: test points shaded by LDS (darker = higher, sqrt scale, max {max_lds:.2})"),
            ("sans-serif", 18),
        )
        .map_err(err)?;
        let rows = panels.len().div_ceil(cols.max(1));
        let areas = root.split_evenly((rows, cols.max(1)));
        let g = window.grid;
        let (cw, ch) = (
            (window.x.1 - window.x.0) / g as f32,
            (window.y.1 - window.y.0) / g as f32,
        );
        for (panel, area) in panels.iter().zip(areas.iter()) {
            let mut chart = ChartBuilder::on(area)
                .caption(&panel.title, ("sans-serif", 16))
                .margin(6)
                .x_label_area_size(22)
                .y_label_area_size(30)
                .build_cartesian_2d(window.x.0..window.x.1, window.y.0..window.y.1)
                .map_err(err)?;
            chart
                .configure_mesh()
                .disable_mesh()
                .x_labels(5)
                .y_labels(5)
                .label_style(("sans-serif", 11))
                .draw()
                .map_err(err)?;
            let cell = |i: usize, j: usize| {
                let x = window.x.0 + i as f32 * cw;
                let y = window.y.0 + j as f32 * ch;
                [(x, y), (x + cw, y + ch)]
            };
            let prob =
                |i: usize, j: usize| panel.probability.get(j * g + i).copied().unwrap_or(0.5);
            chart
                .draw_series((0..g).flat_map(|j| {
                    (0..g)
                        .map(move |i| (i, j))
                        .map(|(i, j)| Rectangle::new(cell(i, j), background(prob(i, j)).filled()))
                }))
                .map_err(err)?;
            // Decision boundary: cells whose class differs from the right or upper neighbour.
            let boundary: Vec<_> = (0..g)
                .flat_map(|j| (0..g).map(move |i| (i, j)))
                .filter(|&(i, j)| {
                    let c = prob(i, j) >= 0.5;
                    (i + 1 < g && (prob(i + 1, j) >= 0.5) != c)
                        || (j + 1 < g && (prob(i, j + 1) >= 0.5) != c)
                })
                .map(|(i, j)| Rectangle::new(cell(i, j), BLACK.filled()))
                .collect();
            chart.draw_series(boundary).map_err(err)?;
            chart
                .draw_series(
                    panel
                        .points
                        .x
                        .chunks_exact(2)
                        .zip(panel.lds)
                        .map(|(p, &l)| {
                            Circle::new((p[0], p[1]), 2, lds_color((l / max_lds).sqrt()).filled())
                        }),
                )
                .map_err(err)?;
            chart
                .draw_series(panel.labelled.x.chunks_exact(2).zip(&panel.labelled.y).map(
                    |(p, &c)| {
                        let color = if c == 0 { CLASS0 } else { CLASS1 };
                        EmptyElement::at((p[0], p[1]))
                            + Circle::new((0, 0), 6, color.filled())
                            + Circle::new((0, 0), 6, BLACK.stroke_width(1))
                    },
                ))
                .map_err(err)?;
        }
        root.present().map_err(err)
    })
}

/// One curve of [`robustness_figure`].
pub struct Curve<'a> {
    /// Legend entry.
    pub label: &'a str,
    /// Accuracy at each ε under FGSM.
    pub fgsm: &'a [f32],
    /// Accuracy at each ε under PGD.
    pub pgd: &'a [f32],
}

/// Robust accuracy (%) vs ε, FGSM left and PGD right, one line per curve.
///
/// # Errors
///
/// When the file cannot be written.
pub fn robustness_figure(
    path: &Path,
    eps: &[f32],
    curves: &[Curve<'_>],
    norm: &str,
    caption: &str,
) -> Result<()> {
    register_font();
    crate::output::write_path_with(path, "png", |path| {
        let root = BitMapBackend::new(path, (1000, 420)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let root = root.titled(caption, ("sans-serif", 18)).map_err(err)?;
        let areas = root.split_evenly((1, 2));
        let eps_max = eps.iter().copied().fold(0.0f32, f32::max).max(1e-6);
        let palette = [
            CLASS0,
            RGBColor(44, 160, 44),
            CLASS1,
            RGBColor(148, 103, 189),
        ];
        for (k, area) in areas.iter().enumerate() {
            let attack = if k == 0 { "FGSM" } else { "PGD" };
            let mut chart = ChartBuilder::on(area)
                .caption(format!("{attack} ({norm})"), ("sans-serif", 16))
                .margin(10)
                .x_label_area_size(35)
                .y_label_area_size(45)
                .build_cartesian_2d(0f32..eps_max, 0f32..100f32)
                .map_err(err)?;
            chart
                .configure_mesh()
                .x_desc("ε")
                .y_desc("robust accuracy (%)")
                .label_style(("sans-serif", 12))
                .draw()
                .map_err(err)?;
            for (c, color) in curves.iter().zip(palette.iter().cycle()) {
                let ys = if k == 0 { c.fgsm } else { c.pgd };
                let pts: Vec<(f32, f32)> =
                    eps.iter().zip(ys).map(|(&e, &a)| (e, 100.0 * a)).collect();
                let color = *color;
                chart
                    .draw_series(LineSeries::new(pts.clone(), color.stroke_width(2)))
                    .map_err(err)?
                    .label(c.label)
                    .legend(move |(x, y)| {
                        PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2))
                    });
                chart
                    .draw_series(pts.iter().map(|&p| Circle::new(p, 3, color.filled())))
                    .map_err(err)?;
            }
            chart
                .configure_series_labels()
                .background_style(WHITE.mix(0.8))
                .border_style(BLACK)
                .label_font(("sans-serif", 13))
                .position(SeriesLabelPosition::UpperRight)
                .draw()
                .map_err(err)?;
        }
        root.present().map_err(err)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::synthetic::{Kind, Synthetic};
    use vatic::Activation;

    #[test]
    fn draws_both_figures() {
        let dir = tempfile::tempdir().unwrap();
        let s = Synthetic::generate(Kind::Moons, 1, 0);
        let pts = s.test_2d.subset(&(0..50).collect::<Vec<_>>()).unwrap();
        let m = Model::new(&[2, 100, 2], Activation::Relu, 1).unwrap();
        let w = Window::around(&pts, 20);
        let grid = w.points();
        assert_eq!(grid.len(), 400);
        let p = class1_probability(&m, &grid).unwrap();
        let lds = lds_each(&m, &pts, &VatConfig::new(0.5), 1).unwrap();
        assert!(lds.iter().all(|&v| v >= 0.0));
        let panel = Panel {
            title: "init".into(),
            probability: &p,
            points: &pts,
            lds: &lds,
            labelled: &s.train_2d,
        };
        let f = dir.path().join("b.png");
        boundary_figure(&f, &w, &[panel], 1, (300, 300), "test").unwrap();
        assert!(std::fs::metadata(&f).unwrap().len() > 1000);
        let f = dir.path().join("r.png");
        let eps = [0.0, 0.5, 1.0];
        let c = Curve {
            label: "a",
            fgsm: &[1.0, 0.5, 0.1],
            pgd: &[1.0, 0.4, 0.0],
        };
        robustness_figure(&f, &eps, &[c], "L2", "test").unwrap();
        assert!(std::fs::metadata(&f).unwrap().len() > 1000);
        // A wrong feature count is an error, not a panic.
        assert!(class1_probability(&m, &s.test).is_err());
    }
}
