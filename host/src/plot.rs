//! PNG pictures with plotters' bitmap backend and a bundled font (DejaVu Sans, see
//! `host/assets/DejaVuSans-LICENSE.txt`), so no system font is needed at run time.
//!
//! * [`boundary_figure`]: the VAT paper's figure — panels of the 2-D plane with the model's
//!   `p(class 1)` as background, the decision boundary `p = 0.5` in black (marching squares),
//!   the points coloured by their LDS (log scale) and the labelled points as large markers,
//!   with a legend and colour bars for both scales. The 100-D models see each 2-D grid point through
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
    /// The 2-D window and grid of `probability`.
    pub window: Window,
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

/// The logarithmic LDS colour scale shared by the panels of one figure: `[lo, hi]` with `hi`
/// the largest LDS and `lo` its 10th percentile, but at least `hi · 1e-3` (three decades, so
/// the smooth models' panels show structure too; anything below `lo`, e.g. an LDS of exactly
/// 0 where the model saturates, is drawn as `lo`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LdsScale {
    /// Bottom of the scale.
    pub lo: f32,
    /// Top of the scale.
    pub hi: f32,
}

impl LdsScale {
    /// The scale of these LDS values.
    pub fn of<'a>(values: impl Iterator<Item = &'a f32>) -> Self {
        let mut v: Vec<f32> = values
            .copied()
            .filter(|x| x.is_finite() && *x > 0.0)
            .collect();
        v.sort_by(f32::total_cmp);
        let hi = v.last().copied().unwrap_or(1.0).max(1e-30);
        let p10 = v.get(v.len() / 10).copied().unwrap_or(hi * 1e-3);
        let lo = p10.max(hi * 1e-3).min(hi / 10.0);
        Self { lo, hi }
    }

    /// Where `lds` sits on the scale, in `[0, 1]`.
    pub fn position(&self, lds: f32) -> f32 {
        let (a, b) = (self.lo.log10(), self.hi.log10());
        ((lds.max(self.lo).log10() - a) / (b - a)).clamp(0.0, 1.0)
    }
}

/// The decision boundary `p = level` of a `g × g` grid of values at cell centres (row-major
/// from the bottom-left) by marching squares with linear interpolation along the cell edges:
/// line segments in grid coordinates (cell `(i, j)`'s centre is `(i, j)`). A saddle square
/// is resolved by the mean of its corners.
pub fn contour(values: &[f32], g: usize, level: f32) -> Vec<[(f32, f32); 2]> {
    let v = |i: usize, j: usize| values.get(j * g + i).copied().unwrap_or(level) - level;
    let mut out = Vec::new();
    for j in 0..g.saturating_sub(1) {
        for i in 0..g.saturating_sub(1) {
            // Corners counter-clockwise from the bottom-left, and the edges between them.
            let c = [(i, j), (i + 1, j), (i + 1, j + 1), (i, j + 1)];
            let val = c.map(|(a, b)| v(a, b));
            let above = val.map(|x| x >= 0.0);
            let cross = |e: usize| -> Option<(f32, f32)> {
                let (k, l) = (e, (e + 1) % 4);
                if above[k] == above[l] {
                    return None;
                }
                let t = val[k] / (val[k] - val[l]);
                let (p, q) = (c[k], c[l]);
                Some((
                    p.0 as f32 + t * (q.0 as f32 - p.0 as f32),
                    p.1 as f32 + t * (q.1 as f32 - p.1 as f32),
                ))
            };
            let e: Vec<(usize, (f32, f32))> =
                (0..4).filter_map(|k| cross(k).map(|p| (k, p))).collect();
            match e.as_slice() {
                [(_, a), (_, b)] => out.push([*a, *b]),
                [(_, b0), (_, r), (_, t), (_, l)] => {
                    // Edges: bottom, right, top, left. If the centre is on corner 0's side,
                    // corners 0 and 2 connect and the segments cut off corners 1 and 3.
                    let centre = val.iter().sum::<f32>() / 4.0;
                    if (centre >= 0.0) == above[0] {
                        out.push([*b0, *r]);
                        out.push([*t, *l]);
                    } else {
                        out.push([*l, *b0]);
                        out.push([*r, *t]);
                    }
                }
                _ => {}
            }
        }
    }
    out
}

/// Draws the panels in a grid of `cols` columns into a PNG of `width × height` pixels, with
/// a legend and colour bars for `p(class 1)` and LDS at the right.
///
/// Each panel: the background is `p(class 1)` on the grid, the black line the decision
/// boundary (the contour `p = 0.5`, [`contour`]), the small dots the points coloured by their
/// LDS on a logarithmic scale shared by all panels ([`LdsScale`]), the large dots the
/// labelled points in their class colour.
///
/// # Errors
///
/// When the file cannot be written.
pub fn boundary_figure(
    path: &Path,
    panels: &[Panel<'_>],
    cols: usize,
    size: (u32, u32),
    caption: &str,
) -> Result<()> {
    register_font();
    let scale = LdsScale::of(panels.iter().flat_map(|p| p.lds.iter()));
    crate::output::write_path_with(path, "png", |path| {
        let root = BitMapBackend::new(path, size).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let root = root.titled(caption, ("sans-serif", 22)).map_err(err)?;
        let side_width = 200;
        let (main, side) = root.split_horizontally(size.0.saturating_sub(side_width));
        let rows = panels.len().div_ceil(cols.max(1));
        let areas = main.split_evenly((rows, cols.max(1)));
        for (panel, area) in panels.iter().zip(areas.iter()) {
            draw_panel(panel, area, &scale)?;
        }
        draw_side(&side, &scale)?;
        root.present().map_err(err)
    })
}

type Area<'a> = DrawingArea<BitMapBackend<'a>, plotters::coord::Shift>;

fn draw_panel(panel: &Panel<'_>, area: &Area<'_>, scale: &LdsScale) -> Result<()> {
    let window = &panel.window;
    let g = window.grid;
    let (cw, ch) = (
        (window.x.1 - window.x.0) / g as f32,
        (window.y.1 - window.y.0) / g as f32,
    );
    let mut chart = ChartBuilder::on(area)
        .caption(&panel.title, ("sans-serif", 17))
        .margin(8)
        .x_label_area_size(36)
        .y_label_area_size(44)
        .build_cartesian_2d(window.x.0..window.x.1, window.y.0..window.y.1)
        .map_err(err)?;
    chart
        .configure_mesh()
        .disable_mesh()
        .x_labels(5)
        .y_labels(5)
        .x_desc("plane coordinate 1")
        .y_desc("plane coordinate 2")
        .label_style(("sans-serif", 12))
        .axis_desc_style(("sans-serif", 13))
        .draw()
        .map_err(err)?;
    let cell = |i: usize, j: usize| {
        let x = window.x.0 + i as f32 * cw;
        let y = window.y.0 + j as f32 * ch;
        [(x, y), (x + cw, y + ch)]
    };
    let prob = |i: usize, j: usize| panel.probability.get(j * g + i).copied().unwrap_or(0.5);
    chart
        .draw_series((0..g).flat_map(|j| {
            (0..g)
                .map(move |i| (i, j))
                .map(|(i, j)| Rectangle::new(cell(i, j), background(prob(i, j)).filled()))
        }))
        .map_err(err)?;
    // Grid coordinates (cell centres at integers) to the plane.
    let at = |(u, v): (f32, f32)| (window.x.0 + (u + 0.5) * cw, window.y.0 + (v + 0.5) * ch);
    chart
        .draw_series(
            contour(panel.probability, g, 0.5)
                .into_iter()
                .map(|[a, b]| PathElement::new(vec![at(a), at(b)], BLACK.stroke_width(2))),
        )
        .map_err(err)?;
    chart
        .draw_series(
            panel
                .points
                .x
                .chunks_exact(2)
                .zip(panel.lds)
                .map(|(p, &l)| Circle::new((p[0], p[1]), 2, lds_color(scale.position(l)).filled())),
        )
        .map_err(err)?;
    chart
        .draw_series(
            panel
                .labelled
                .x
                .chunks_exact(2)
                .zip(&panel.labelled.y)
                .map(|(p, &c)| {
                    let color = if c == 0 { CLASS0 } else { CLASS1 };
                    EmptyElement::at((p[0], p[1]))
                        + Circle::new((0, 0), 6, color.filled())
                        + Circle::new((0, 0), 6, BLACK.stroke_width(1))
                }),
        )
        .map_err(err)?;
    Ok(())
}

/// The legend and the two colour bars.
fn draw_side(side: &Area<'_>, scale: &LdsScale) -> Result<()> {
    let (w, h) = side.dim_in_pixel();
    let (legend, bars) = side.split_vertically(150.min(h / 3));
    let font = ("sans-serif", 14).into_font();
    let row = |k: i32| 20 + 26 * k;
    for (k, (color, radius, text)) in [
        (Some(CLASS0), 6, "labelled, class 0"),
        (Some(CLASS1), 6, "labelled, class 1"),
        (None, 3, "test point"),
        (None, 0, "(colour: its LDS)"),
    ]
    .into_iter()
    .enumerate()
    {
        let y = row(k as i32);
        if radius > 0 {
            let marker = EmptyElement::at((22, y))
                + Circle::new((0, 0), radius, color.unwrap_or(lds_color(0.6)).filled())
                + Circle::new(
                    (0, 0),
                    radius,
                    BLACK.stroke_width(u32::from(color.is_some())),
                );
            legend.draw(&marker).map_err(err)?;
        }
        legend
            .draw(&Text::new(text, (38, y - 8), font.clone()))
            .map_err(err)?;
    }
    legend
        .draw(&PathElement::new(
            vec![(8, row(4)), (34, row(4))],
            BLACK.stroke_width(2),
        ))
        .map_err(err)?;
    legend
        .draw(&Text::new(
            "boundary p = 0.5",
            (38, row(4) - 8),
            font.clone(),
        ))
        .map_err(err)?;
    let (pbar, lbar) = bars.split_vertically(bars.dim_in_pixel().1 / 2);
    let _ = w;
    let steps = 100;
    let mut chart = ChartBuilder::on(&pbar)
        .margin(14)
        .margin_left(40)
        .caption("p(class 1)", ("sans-serif", 15))
        .set_label_area_size(LabelAreaPosition::Right, 44)
        .build_cartesian_2d(0f32..1f32, 0f32..1f32)
        .map_err(err)?;
    chart
        .configure_mesh()
        .disable_mesh()
        .disable_x_axis()
        .y_labels(6)
        .label_style(("sans-serif", 12))
        .draw()
        .map_err(err)?;
    chart
        .draw_series((0..steps).map(|k| {
            let (a, b) = (k as f32 / steps as f32, (k + 1) as f32 / steps as f32);
            Rectangle::new([(0.0, a), (1.0, b)], background((a + b) / 2.0).filled())
        }))
        .map_err(err)?;
    chart
        .draw_series(std::iter::once(PathElement::new(
            vec![(0.0, 0.5), (1.0, 0.5)],
            BLACK.stroke_width(2),
        )))
        .map_err(err)?;
    let mut chart = ChartBuilder::on(&lbar)
        .margin(14)
        .margin_left(40)
        .caption("LDS (log scale)", ("sans-serif", 15))
        .set_label_area_size(LabelAreaPosition::Right, 52)
        .build_cartesian_2d(0f32..1f32, (scale.lo..scale.hi).log_scale())
        .map_err(err)?;
    chart
        .configure_mesh()
        .disable_mesh()
        .disable_x_axis()
        .y_labels(6)
        .y_label_formatter(&|v| format!("{v:.0e}"))
        .label_style(("sans-serif", 12))
        .draw()
        .map_err(err)?;
    let ratio = scale.hi / scale.lo;
    chart
        .draw_series((0..steps).map(|k| {
            let at = |t: f32| scale.lo * ratio.powf(t);
            let (a, b) = (k as f32 / steps as f32, (k + 1) as f32 / steps as f32);
            Rectangle::new(
                [(0.0, at(a)), (1.0, at(b))],
                lds_color((a + b) / 2.0).filled(),
            )
        }))
        .map_err(err)?;
    Ok(())
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
            RGBColor(255, 127, 14),
            RGBColor(23, 190, 207),
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
    fn the_boundary_is_a_smooth_contour_not_a_staircase() {
        // p = 0.5 on the line x + y/2 = 10.3 of a 30 × 30 grid: the segments must lie on it
        // (linear interpolation), not on cell edges.
        let g = 30;
        let vals: Vec<f32> = (0..g * g)
            .map(|k| {
                let (i, j) = ((k % g) as f32, (k / g) as f32);
                0.5 + 0.02 * (i + 0.5 * j - 10.3)
            })
            .collect();
        let segs = contour(&vals, g, 0.5);
        assert!(segs.len() >= g - 1, "{} segments", segs.len());
        for [a, b] in &segs {
            for (u, v) in [a, b] {
                assert!((u + 0.5 * v - 10.3).abs() < 1e-3, "({u}, {v}) off the line");
            }
            // Not axis-aligned steps: every segment has the line's slope −2.
            assert!(
                ((b.1 - a.1) / (b.0 - a.0) + 2.0).abs() < 1e-2,
                "{a:?} {b:?}"
            );
        }
        // A constant field has no boundary.
        assert!(contour(&[0.9; 16], 4, 0.5).is_empty());
    }

    #[test]
    fn the_lds_scale_is_logarithmic_over_three_decades_at_most() {
        let v: Vec<f32> = (0..100)
            .map(|k| 10f32.powf(-8.0 + k as f32 * 0.09))
            .collect();
        let s = LdsScale::of(v.iter());
        assert!((s.hi - v[99]).abs() <= 1e-6 * s.hi);
        assert!((s.lo / s.hi - 1e-3).abs() < 1e-6, "{s:?}");
        assert_eq!(s.position(s.hi), 1.0);
        assert_eq!(s.position(0.0), 0.0);
        assert!((s.position(s.hi * 10f32.powf(-1.5)) - 0.5).abs() < 1e-4);
    }

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
            window: w,
            title: "init".into(),
            probability: &p,
            points: &pts,
            lds: &lds,
            labelled: &s.train_2d,
        };
        let f = dir.path().join("b.png");
        boundary_figure(&f, &[panel], 1, (300, 300), "test").unwrap();
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
