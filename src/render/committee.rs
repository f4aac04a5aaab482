//! Committee charts: bar charts of an LA against its neighbours and England, and line
//! charts over years (trends, ranks, gaps, Ofsted). One drawing routine serves both the
//! SVG (for papers edited on screen) and the print-resolution PNG (the same layout at
//! twice the scale). Font and palette come from `render::chart`.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use serde::Serialize;

use super::chart::{fonts, Series, FONT, PALETTE};
use crate::analysis::series_breaks::{Boundary, BoundaryKind};

/// SVG size in px; the PNG is `PNG_SCALE` times this (2400 x 1500: 8 x 5 inches at 300 dpi).
pub const SIZE: (u32, u32) = (1200, 750);
pub const PNG_SCALE: f64 = 2.0;

/// What a bar or line stands for: it decides the colour (the LA in strong blue, the rest muted).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    La,
    Neighbour,
    NeighbourAverage,
    England,
    Top10,
    Other,
}

fn colour(role: Role) -> RGBColor {
    let p = |i: usize| RGBColor(PALETTE[i].0, PALETTE[i].1, PALETTE[i].2);
    match role {
        Role::La => p(0),
        Role::Neighbour => RGBColor(190, 190, 190),
        Role::NeighbourAverage => p(1),
        Role::England => RGBColor(90, 90, 90),
        Role::Top10 => p(2),
        Role::Other => p(3),
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Bar {
    pub label: String,
    pub code: String,
    pub value: Option<f64>,
    pub role: Role,
}

#[derive(Debug, Clone, Serialize)]
pub struct Line {
    pub label: String,
    pub role: Role,
    pub points: Vec<(i32, Option<f64>)>,
    /// Text written beside each point (e.g. "35th of 149"); empty for none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Figure {
    /// Horizontal bars, one per area, with a marked reference value (the neighbour average).
    Bars {
        bars: Vec<Bar>,
        reference: Option<(String, f64)>,
    },
    /// Lines over years. `rank_of`: the y axis is a rank (1 at the top) out of that many.
    /// `breaks`: where the series breaks (`analysis::series_breaks`); no line is drawn
    /// across one, and a dashed rule marks it.
    Lines {
        lines: Vec<Line>,
        rank_of: Option<usize>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        breaks: Vec<Boundary>,
    },
}

#[derive(Debug, Clone, Serialize)]
pub struct Chart {
    /// File stem: `<name>.png` and `<name>.svg`.
    pub name: String,
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    /// Source and year(s), and anything a reader must know (printed under the chart).
    pub caption: String,
    pub figure: Figure,
}

type R<T> = Result<T, String>;

fn e<E: std::fmt::Display>(err: E) -> String {
    err.to_string()
}

pub fn svg(chart: &Chart) -> R<String> {
    fonts();
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, SIZE).into_drawing_area();
        draw(&root, chart, 1.0)?;
        root.present().map_err(e)?;
    }
    Ok(out)
}

/// Draw the PNG straight to `path` (via a temporary file beside it, then a rename).
pub fn png(chart: &Chart, path: &Path) -> R<()> {
    fonts();
    let tmp = path.with_file_name(format!(
        ".{}.tmp-{}.png",
        path.file_stem().unwrap_or_default().to_string_lossy(),
        std::process::id()
    ));
    {
        let size = (
            (SIZE.0 as f64 * PNG_SCALE) as u32,
            (SIZE.1 as f64 * PNG_SCALE) as u32,
        );
        let root = BitMapBackend::new(&tmp, size).into_drawing_area();
        draw(&root, chart, PNG_SCALE)?;
        root.present().map_err(e)?;
    }
    std::fs::rename(&tmp, path).map_err(|err| format!("{}: {err}", path.display()))
}

/// Lay out title, plot, legend and caption, then draw the figure. `s` scales every size.
fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, c: &Chart, s: f64) -> R<()> {
    let px = |v: f64| (v * s).round() as i32;
    root.fill(&WHITE).map_err(e)?;
    let (w, h) = root.dim_in_pixel();
    // Caption lines wrapped to the width; the caption sits under the plot.
    let caption = wrap(&c.caption, 150);
    let caption_h = px(14.0 + 19.0 * caption.len() as f64) as u32;
    let title_style = TextStyle::from((FONT, 26.0 * s).into_font().style(FontStyle::Bold));
    root.draw(&Text::new(
        c.title.clone(),
        (px(20.0), px(14.0)),
        title_style,
    ))
    .map_err(e)?;
    let body = root.margin(px(56.0) as u32, 0, 0, 0);
    let (plot, foot) = body.split_vertically(h - px(56.0) as u32 - caption_h);
    for (i, line) in caption.iter().enumerate() {
        foot.draw(&Text::new(
            line.clone(),
            (px(20.0), px(6.0 + 19.0 * i as f64)),
            (FONT, 15.0 * s).into_font().color(&RGBColor(60, 60, 60)),
        ))
        .map_err(e)?;
    }
    match &c.figure {
        Figure::Bars { bars, reference } => draw_bars(&plot, c, bars, reference.as_ref(), s),
        Figure::Lines {
            lines,
            rank_of,
            breaks,
        } => {
            let legend_w = px(250.0) as u32;
            let (area, legend) = plot.split_horizontally(w - legend_w);
            draw_lines(&area, c, lines, *rank_of, breaks, s)?;
            draw_legend(&legend, lines, s)
        }
    }
}

fn draw_bars<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    c: &Chart,
    bars: &[Bar],
    reference: Option<&(String, f64)>,
    s: f64,
) -> R<()> {
    let px = |v: f64| (v * s).round() as i32;
    let n = bars.len() as i32;
    let max = bars
        .iter()
        .filter_map(|b| b.value)
        .chain(reference.map(|r| r.1))
        .fold(0.0_f64, f64::max);
    let min = bars.iter().filter_map(|b| b.value).fold(0.0_f64, f64::min);
    // Room to the right of the longest bar for its value.
    let hi = if max > 0.0 { max * 1.12 } else { 1.0 };
    let lo = if min < 0.0 { min * 1.12 } else { 0.0 };
    let mut chart = ChartBuilder::on(area)
        .margin_left(px(16.0))
        .margin_right(px(30.0))
        .margin_top(px(28.0))
        .x_label_area_size(px(56.0))
        .y_label_area_size(px(250.0))
        .build_cartesian_2d(lo..hi, (0..n).into_segmented())
        .map_err(e)?;
    let labels: Vec<String> = bars.iter().map(|b| b.label.clone()).collect();
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(bars.len())
        .y_label_formatter(&|v| match v {
            // Bar 0 is drawn at the top.
            SegmentValue::CenterOf(i) => labels
                .get((n - 1 - *i) as usize)
                .map(|l| shorten(l, 24))
                .unwrap_or_default(),
            _ => String::new(),
        })
        .x_labels(8)
        .x_label_formatter(&|v| crate::number::format(*v, 0, "", crate::number::Style::Plain))
        .x_desc(c.y_label.as_str())
        .label_style((FONT, 17.0 * s))
        .axis_desc_style((FONT, 17.0 * s))
        .bold_line_style(RGBColor(225, 225, 225))
        .light_line_style(TRANSPARENT)
        .draw()
        .map_err(e)?;
    for (i, b) in bars.iter().enumerate() {
        let style = colour(b.role).filled();
        let text = match b.value {
            Some(v) => {
                chart
                    .draw_series(std::iter::once(
                        Rectangle::new(
                            [
                                (0.0, SegmentValue::Exact(n - 1 - i as i32)),
                                (v, SegmentValue::Exact(n - i as i32)),
                            ],
                            style,
                        )
                        .into_dyn_margin(s),
                    ))
                    .map_err(e)?;
                fmt_value(v)
            }
            None => "no figure".to_string(),
        };
        // The value sits past the bar's end, and past the reference line if that is just beyond it.
        let mut x = b.value.unwrap_or(0.0).max(0.0);
        if let Some((_, r)) = reference {
            if *r >= x && *r - x < 0.06 * (hi - lo) {
                x = *r;
            }
        }
        let at = (x, SegmentValue::CenterOf(n - 1 - i as i32));
        let bold = if b.role == Role::La {
            FontStyle::Bold
        } else {
            FontStyle::Normal
        };
        let ts = TextStyle::from((FONT, 17.0 * s).into_font().style(bold))
            .pos(Pos::new(HPos::Left, VPos::Center));
        chart
            .draw_series(std::iter::once(
                EmptyElement::at(at) + Text::new(text, (px(6.0), 0), ts),
            ))
            .map_err(e)?;
    }
    if let Some((label, v)) = reference {
        let col = colour(Role::NeighbourAverage);
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(*v, SegmentValue::Exact(0)), (*v, SegmentValue::Exact(n))],
                col.stroke_width(px(3.0) as u32),
            )))
            .map_err(e)?;
        let ts = (FONT, 16.0 * s)
            .into_font()
            .color(&col)
            .pos(Pos::new(HPos::Center, VPos::Bottom));
        chart
            .draw_series(std::iter::once(
                EmptyElement::at((*v, SegmentValue::Exact(n)))
                    + Text::new(format!("{label} {}", fmt_value(*v)), (0, -px(4.0)), ts),
            ))
            .map_err(e)?;
    }
    Ok(())
}

/// Bars leave a small gap between neighbours.
trait DynMargin<C> {
    fn into_dyn_margin(self, s: f64) -> Rectangle<C>;
}
impl<C> DynMargin<C> for Rectangle<C> {
    fn into_dyn_margin(self, s: f64) -> Rectangle<C> {
        let m = (5.0 * s).round() as u32;
        let mut r = self;
        r.set_margin(m, m, 0, 0);
        r
    }
}

fn draw_lines<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    c: &Chart,
    lines: &[Line],
    rank_of: Option<usize>,
    breaks: &[Boundary],
    s: f64,
) -> R<()> {
    let px = |v: f64| (v * s).round() as i32;
    let years: Vec<i32> = lines
        .iter()
        .flat_map(|l| l.points.iter().map(|p| p.0))
        .collect();
    let (Some(&y0), Some(&y1)) = (years.iter().min(), years.iter().max()) else {
        return Err("no years to draw".into());
    };
    let values: Vec<f64> = lines
        .iter()
        .flat_map(|l| l.points.iter().filter_map(|p| p.1))
        .collect();
    // A rank axis runs from 1 at the top: draw -rank and label it without the sign.
    let sign = if rank_of.is_some() { -1.0 } else { 1.0 };
    let (lo, hi) = match rank_of {
        Some(of) => (-(of as f64) - 0.5, -0.5),
        None => {
            let (mut lo, mut hi) = values
                .iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
                    (a.min(*v), b.max(*v))
                });
            if !lo.is_finite() {
                (lo, hi) = (0.0, 1.0);
            }
            let pad = ((hi - lo) * 0.15).max(if hi - lo < 2.0 { 0.5 } else { 1.0 });
            (lo - pad, hi + pad)
        }
    };
    let dps = if rank_of.is_some() || hi - lo >= 8.0 {
        0
    } else {
        1
    };
    // One year only: widen the axis so the single point sits in the middle.
    let (x0, x1) = if y0 == y1 {
        (y0 as f64 - 1.0, y1 as f64 + 1.0)
    } else {
        (y0 as f64 - 0.3, y1 as f64 + 0.3)
    };
    let mut chart = ChartBuilder::on(area)
        .margin_left(px(16.0))
        .margin_right(px(24.0))
        .margin_top(px(28.0))
        .x_label_area_size(px(56.0))
        .y_label_area_size(px(80.0))
        .build_cartesian_2d(x0..x1, lo..hi)
        .map_err(e)?;
    let year_set: std::collections::BTreeSet<i32> = years.iter().copied().collect();
    chart
        .configure_mesh()
        .x_labels(((x1 - x0).round() as usize + 1).min(12))
        .x_label_formatter(&|x| {
            let y = x.round() as i32;
            if (x - y as f64).abs() < 0.01 && year_set.contains(&y) {
                crate::year::academic_label(y)
            } else {
                String::new()
            }
        })
        .y_labels(8)
        .y_label_formatter(&|v| {
            let v = v * sign;
            if rank_of.is_some() && (v.fract().abs() > 0.01 || v < 1.0) {
                String::new()
            } else {
                crate::number::format(v, dps as u32, "", crate::number::Style::Plain)
            }
        })
        .x_desc(c.x_label.as_str())
        .y_desc(c.y_label.as_str())
        .label_style((FONT, 17.0 * s))
        .axis_desc_style((FONT, 17.0 * s))
        .disable_x_mesh()
        .bold_line_style(RGBColor(225, 225, 225))
        .light_line_style(TRANSPARENT)
        .draw()
        .map_err(e)?;
    // Each break: a dashed rule between the last year before it and its first year, labelled.
    let grey = RGBColor(110, 110, 110);
    for b in breaks {
        let x = b.year as f64 - 0.5;
        if x <= x0 || x >= x1 {
            continue;
        }
        chart
            .draw_series(DashedLineSeries::new(
                vec![(x, lo), (x, hi)],
                px(6.0) as u32,
                px(5.0) as u32,
                grey.stroke_width(px(2.0) as u32),
            ))
            .map_err(e)?;
        let ts = (FONT, 14.0 * s)
            .into_font()
            .color(&grey)
            .pos(Pos::new(HPos::Left, VPos::Top));
        chart
            .draw_series(std::iter::once(
                EmptyElement::at((x, hi)) + Text::new(break_label(b), (px(4.0), px(4.0)), ts),
            ))
            .map_err(e)?;
    }
    for l in lines {
        let col = colour(l.role);
        let width = px(if l.role == Role::La { 4.0 } else { 2.5 }) as u32;
        // A run ends at a missing value or at a break: lines never join across either.
        let mut runs: Vec<Vec<(f64, f64)>> = vec![vec![]];
        let mut prev: Option<i32> = None;
        for (y, v) in &l.points {
            let crosses = prev.is_some_and(|p| breaks.iter().any(|b| p < b.year && b.year <= *y));
            match v {
                Some(v) => {
                    if crosses {
                        runs.push(vec![]);
                    }
                    runs.last_mut()
                        .expect("one run")
                        .push((*y as f64, v * sign));
                    prev = Some(*y);
                }
                None => {
                    runs.push(vec![]);
                    prev = None;
                }
            }
        }
        for run in runs.into_iter().filter(|r| !r.is_empty()) {
            if l.role == Role::Top10 {
                chart
                    .draw_series(DashedLineSeries::new(
                        run.clone(),
                        px(10.0) as u32,
                        px(6.0) as u32,
                        col.stroke_width(width),
                    ))
                    .map_err(e)?;
            } else {
                chart
                    .draw_series(LineSeries::new(run.clone(), col.stroke_width(width)))
                    .map_err(e)?;
            }
            let r = px(if l.role == Role::La { 6.0 } else { 4.5 }) as u32;
            chart
                .draw_series(run.iter().map(|p| Circle::new(*p, r, col.filled())))
                .map_err(e)?;
        }
        // Notes sit above their point; at the ends of the axis they lean inwards so that
        // they are not cut off or drawn over the axis labels.
        for ((y, v), note) in l.points.iter().zip(&l.notes) {
            if let Some(v) = v {
                let h = if *y == y0 && y0 != y1 {
                    HPos::Left
                } else if *y == y1 && y0 != y1 {
                    HPos::Right
                } else {
                    HPos::Center
                };
                let ts = (FONT, 16.0 * s)
                    .into_font()
                    .color(&col)
                    .pos(Pos::new(h, VPos::Bottom));
                chart
                    .draw_series(std::iter::once(
                        EmptyElement::at((*y as f64, v * sign))
                            + Text::new(note.clone(), (0, -px(10.0)), ts),
                    ))
                    .map_err(e)?;
            }
        }
    }
    Ok(())
}

fn draw_legend<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, lines: &[Line], s: f64) -> R<()> {
    let px = |v: f64| (v * s).round() as i32;
    let mut y = px(40.0);
    for l in lines {
        let col = colour(l.role);
        let width = px(if l.role == Role::La { 5.0 } else { 3.0 }) as u32;
        area.draw(&PathElement::new(
            vec![(px(4.0), y), (px(34.0), y)],
            col.stroke_width(width),
        ))
        .map_err(e)?;
        // Long names wrap onto a second line rather than run off the edge.
        let parts = wrap(&l.label, 20);
        for (k, part) in parts.iter().enumerate() {
            area.draw(&Text::new(
                part.clone(),
                (px(42.0), y - px(9.0) + px(20.0) * k as i32),
                (FONT, 16.0 * s),
            ))
            .map_err(e)?;
        }
        y += px(20.0) * parts.len() as i32 + px(14.0);
    }
    Ok(())
}

/// Each break's note once, with the years (as "2019/20") it breaks the series before.
pub fn notes_by_reason(breaks: &[Boundary]) -> Vec<(Vec<String>, &str)> {
    let mut notes: Vec<(Vec<String>, &str)> = Vec::new();
    for b in breaks {
        let year = crate::year::academic_label(b.year);
        match notes.iter_mut().find(|(_, n)| *n == b.note) {
            Some((years, _)) => years.push(year),
            None => notes.push((vec![year], b.note.as_str())),
        }
    }
    notes
}

/// "a", "a and b", "a, b and c".
pub fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// The words beside a break's rule (its note is in the caption and alt text).
fn break_label(b: &Boundary) -> &'static str {
    match b.kind {
        BoundaryKind::NoData => "no data",
        BoundaryKind::NotComparable => "series break",
    }
}

/// Figures as published: whole numbers without ".0", at most 2 decimals.
pub fn fmt_value(v: f64) -> String {
    crate::number::format_trimmed(v, 2)
}

fn shorten(label: &str, max: usize) -> String {
    if label.chars().count() <= max {
        label.to_string()
    } else {
        format!("{}…", label.chars().take(max - 1).collect::<String>())
    }
}

/// Greedy word wrap to `width` characters.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut out = Vec::new();
    for para in text.split('\n') {
        let mut line = String::new();
        for word in para.split_whitespace() {
            if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
                out.push(std::mem::take(&mut line));
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
        out.push(line);
    }
    out
}

/// A text alternative: every figure drawn, in words.
pub fn alt_text(c: &Chart) -> String {
    match &c.figure {
        Figure::Bars { bars, reference } => {
            let mut parts = vec![format!("{}.", c.title)];
            parts.push(
                bars.iter()
                    .map(|b| {
                        format!(
                            "{}: {}",
                            b.label,
                            b.value.map(fmt_value).unwrap_or_else(|| "no figure".into())
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("; ")
                    + ".",
            );
            if let Some((label, v)) = reference {
                parts.push(format!("{label}: {}.", fmt_value(*v)));
            }
            parts.join(" ")
        }
        Figure::Lines {
            lines,
            rank_of,
            breaks,
        } => {
            let series: Vec<Series> = lines
                .iter()
                .map(|l| Series {
                    label: l.label.clone(),
                    points: l.points.clone(),
                })
                .collect();
            let mut t = super::chart::alt_text(&c.title, &series, &[]);
            // One sentence per reason, naming every year it breaks the series before.
            for (years, note) in notes_by_reason(breaks) {
                t.push_str(&format!(
                    " Break in the series before {}: {note}; the lines are not joined across it.",
                    and_list(&years)
                ));
            }
            if let Some(of) = rank_of {
                t.push_str(&format!(" Rank 1 is the best of {of} LAs."));
            }
            t
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bars() -> Chart {
        let bars = vec![
            Bar {
                label: "Alpha".into(),
                code: "1".into(),
                value: Some(68.0),
                role: Role::La,
            },
            Bar {
                label: "Beta".into(),
                code: "2".into(),
                value: Some(61.0),
                role: Role::Neighbour,
            },
            Bar {
                label: "England".into(),
                code: "970".into(),
                value: Some(65.0),
                role: Role::England,
            },
        ];
        Chart {
            name: "t".into(),
            title: "KS2 RWM".into(),
            x_label: String::new(),
            y_label: "%".into(),
            caption: "Source: test, 2019".into(),
            figure: Figure::Bars {
                bars,
                reference: Some(("Neighbour average".into(), 61.0)),
            },
        }
    }

    #[test]
    fn bar_chart_draws_one_rect_per_bar_and_the_reference() {
        let svg = svg(&bars()).unwrap();
        // Background plus three bars.
        assert_eq!(svg.matches("<rect").count(), 4, "{svg}");
        assert!(svg.contains("Neighbour average 61") && svg.contains("Source: test, 2019"));
        assert_eq!(
            alt_text(&bars()),
            "KS2 RWM. Alpha: 68; Beta: 61; England: 65. Neighbour average: 61."
        );
    }

    #[test]
    fn wrap_keeps_words_whole() {
        assert_eq!(wrap("aaa bbb ccc", 7), vec!["aaa bbb", "ccc"]);
        assert_eq!(fmt_value(64.7), "64.7");
        assert_eq!(fmt_value(68.0), "68");
    }
}
