//! Charts drawn with plotters: SVG for booklets (inline in HTML, embedded in the PDF)
//! and PNG for committee papers. Fonts are bundled (no system fontconfig); the palette is
//! Okabe-Ito, safe for colour-blind readers. Every chart has a title and a text alternative.

use std::sync::Once;

use plotters::prelude::*;

/// Okabe-Ito: blue (the school or LA), orange, bluish green, reddish purple, sky blue, vermillion, grey.
pub const PALETTE: [(u8, u8, u8); 7] = [
    (0, 114, 178),
    (230, 159, 0),
    (0, 158, 115),
    (204, 121, 167),
    (86, 180, 233),
    (213, 94, 0),
    (120, 120, 120),
];

pub const FONT: &str = "DejaVu Sans";

/// Register the bundled font with plotters once.
pub fn fonts() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let regular: &'static [u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
        let bold: &'static [u8] = include_bytes!("../../assets/fonts/DejaVuSans-Bold.ttf");
        for name in [FONT, "sans-serif"] {
            let _ = plotters::style::register_font(name, FontStyle::Normal, regular);
            let _ = plotters::style::register_font(name, FontStyle::Bold, bold);
        }
    });
}

pub struct Series {
    pub label: String,
    pub points: Vec<(i32, Option<f64>)>,
}

/// A trend chart: one line per series over the years; gaps where a year has no value;
/// breaks in the series drawn as dashed vertical lines with their note in the alt text.
/// The legend sits in a strip to the right so that it never hides a line.
/// Returns (svg, alt text).
pub fn trend_svg(
    title: &str,
    y_label: &str,
    series: &[Series],
    breaks: &[(i32, String)],
    width: u32,
    height: u32,
) -> Result<(String, String), String> {
    trend_svg_with_intervals(title, y_label, series, &[], breaks, width, height)
}

/// A trend chart whose first series (the school) carries its 95% confidence interval in
/// each year of `intervals` (year, low, high), drawn as a whisker through the point, so a
/// progress score is seen with the uncertainty its significance rests on.
pub fn trend_svg_with_intervals(
    title: &str,
    y_label: &str,
    series: &[Series],
    intervals: &[(i32, f64, f64)],
    breaks: &[(i32, String)],
    width: u32,
    height: u32,
) -> Result<(String, String), String> {
    fonts();
    let years: Vec<i32> = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.0))
        .collect();
    let (Some(&y0), Some(&y1)) = (years.iter().min(), years.iter().max()) else {
        return Err("no years to draw".into());
    };
    let values: Vec<f64> = series
        .iter()
        .flat_map(|s| s.points.iter().filter_map(|p| p.1))
        .chain(intervals.iter().flat_map(|i| [i.1, i.2]))
        .collect();
    let (mut lo, mut hi) = values
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(*v), b.max(*v))
        });
    if !lo.is_finite() {
        (lo, hi) = (0.0, 1.0);
    }
    let pad = ((hi - lo) * 0.15).max(if hi - lo < 2.0 { 0.5 } else { 1.0 });
    let (lo, hi) = (lo - pad, hi + pad);
    // Whole numbers on the axis unless the range is small (progress scores).
    let dps = if hi - lo >= 8.0 { 0 } else { 1 };
    let legend_width = 118;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let root = root
            .titled(title, (FONT, 15).into_font().style(FontStyle::Bold))
            .map_err(|e| e.to_string())?;
        let (plot, legend) = root.split_horizontally(width.saturating_sub(legend_width));
        let mut chart = ChartBuilder::on(&plot)
            .margin(8)
            .x_label_area_size(28)
            .y_label_area_size(48)
            .build_cartesian_2d((y0 as f64 - 0.3)..(y1 as f64 + 0.3), lo..hi)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .x_labels((y1 - y0 + 1) as usize)
            .x_label_formatter(&|x| crate::year::academic_label(x.round() as i32))
            .y_labels(6)
            .y_label_formatter(&|v| crate::number::format(*v, dps, "", crate::number::Style::Plain))
            .y_desc(y_label)
            .label_style((FONT, 12))
            .axis_desc_style((FONT, 12))
            .disable_x_mesh()
            .bold_line_style(RGBColor(225, 225, 225))
            .light_line_style(TRANSPARENT)
            .draw()
            .map_err(|e| e.to_string())?;
        for (y, _) in breaks {
            let yf = *y as f64;
            if yf >= y0 as f64 && yf <= y1 as f64 {
                chart
                    .draw_series(DashedLineSeries::new(
                        vec![(yf, lo), (yf, hi)],
                        4,
                        4,
                        RGBColor(150, 150, 150).stroke_width(1),
                    ))
                    .map_err(|e| e.to_string())?;
            }
        }
        for (i, s) in series.iter().enumerate() {
            let (r, g, b) = PALETTE[i % PALETTE.len()];
            let colour = RGBColor(r, g, b);
            let width = if i == 0 { 3 } else { 2 };
            // Draw each unbroken run of values as one line: a missing value or a break
            // (a figure in or after a break year) ends a run.
            let mut run: Vec<(f64, f64)> = Vec::new();
            let mut runs = Vec::new();
            for (y, v) in &s.points {
                let crosses = run
                    .last()
                    .is_some_and(|p| breaks.iter().any(|(b, _)| p.0 < *b as f64 && *b <= *y));
                match v {
                    Some(v) => {
                        if crosses {
                            runs.push(std::mem::take(&mut run));
                        }
                        run.push((*y as f64, *v))
                    }
                    None => runs.push(std::mem::take(&mut run)),
                }
            }
            runs.push(run);
            for run in runs.into_iter().filter(|r| !r.is_empty()) {
                chart
                    .draw_series(LineSeries::new(run.clone(), colour.stroke_width(width)))
                    .map_err(|e| e.to_string())?;
                chart
                    .draw_series(
                        run.iter()
                            .map(|p| Circle::new(*p, if i == 0 { 4 } else { 3 }, colour.filled())),
                    )
                    .map_err(|e| e.to_string())?;
            }
        }
        if let Some(&(r, g, b)) = PALETTE.first() {
            let colour = RGBColor(r, g, b);
            for &(y, low, high) in intervals {
                let x = y as f64;
                let cap = 0.06;
                for line in [
                    vec![(x, low), (x, high)],
                    vec![(x - cap, low), (x + cap, low)],
                    vec![(x - cap, high), (x + cap, high)],
                ] {
                    chart
                        .draw_series(LineSeries::new(line, colour.stroke_width(1)))
                        .map_err(|e| e.to_string())?;
                }
            }
        }
        // The legend: a swatch and the series' name, one per line.
        for (i, s) in series.iter().enumerate() {
            let (r, g, b) = PALETTE[i % PALETTE.len()];
            let y = 24 + 20 * i as i32;
            legend
                .draw(&PathElement::new(
                    vec![(4, y), (22, y)],
                    RGBColor(r, g, b).stroke_width(if i == 0 { 4 } else { 3 }),
                ))
                .map_err(|e| e.to_string())?;
            legend
                .draw(&Text::new(shorten(&s.label, 15), (27, y - 6), (FONT, 12)))
                .map_err(|e| e.to_string())?;
        }
        if !intervals.is_empty() {
            let y = 24 + 20 * series.len() as i32;
            let (r, g, b) = PALETTE[0];
            legend
                .draw(&PathElement::new(
                    vec![(13, y - 7), (13, y + 7)],
                    RGBColor(r, g, b).stroke_width(1),
                ))
                .map_err(|e| e.to_string())?;
            legend
                .draw(&Text::new("95% interval", (27, y - 6), (FONT, 11)))
                .map_err(|e| e.to_string())?;
        }
        if !breaks.is_empty() {
            let y = 24 + 20 * (series.len() + usize::from(!intervals.is_empty())) as i32;
            legend
                .draw(&PathElement::new(
                    vec![(13, y - 7), (13, y + 7)],
                    RGBColor(150, 150, 150).stroke_width(1),
                ))
                .map_err(|e| e.to_string())?;
            legend
                .draw(&Text::new("break in series", (27, y - 6), (FONT, 11)))
                .map_err(|e| e.to_string())?;
        }
        root.present().map_err(|e| e.to_string())?;
    }
    let mut alt = alt_text(title, series, breaks);
    if !intervals.is_empty() {
        let dps = if intervals
            .iter()
            .all(|i| i.1.fract() == 0.0 && i.2.fract() == 0.0)
        {
            0
        } else {
            2
        };
        let said: Vec<String> = intervals
            .iter()
            .map(|(y, lo, hi)| {
                format!(
                    "{} {} to {}",
                    crate::year::academic_label(*y),
                    crate::number::format_trimmed(*lo, dps),
                    crate::number::format_trimmed(*hi, dps)
                )
            })
            .collect();
        alt.push_str(&format!(
            " School's 95% confidence interval: {}.",
            said.join("; ")
        ));
    }
    Ok((svg, alt))
}

/// A label cut to `max` characters with an ellipsis (the alt text keeps the full name).
fn shorten(label: &str, max: usize) -> String {
    if label.chars().count() <= max {
        label.to_string()
    } else {
        format!("{}…", label.chars().take(max - 1).collect::<String>())
    }
}

/// Decimals a chart's alt text gives at most (figures are already at their measure's places).
const ALT_TEXT_DPS: u32 = 2;

/// A sentence per series: what a screen-reader user needs from the chart.
pub fn alt_text(title: &str, series: &[Series], breaks: &[(i32, String)]) -> String {
    let mut parts = vec![format!("{title}.")];
    for s in series {
        let vals: Vec<String> = s
            .points
            .iter()
            .map(|(y, v)| {
                format!(
                    "{} {}",
                    crate::year::academic_label(*y),
                    v.map(|v| crate::number::format_trimmed(v, ALT_TEXT_DPS))
                        .unwrap_or_else(|| "no figure".into())
                )
            })
            .collect();
        parts.push(format!("{}: {}.", s.label, vals.join(", ")));
    }
    for (y, note) in breaks {
        parts.push(format!(
            "Break in the series at {}: {note}; the lines are not joined across it.",
            crate::year::academic_label(*y)
        ));
    }
    parts.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn trend_chart_has_lines_and_alt_text() {
        let s = vec![
            Series {
                label: "School".into(),
                points: vec![(2017, Some(60.0)), (2018, None), (2019, Some(70.0))],
            },
            Series {
                label: "England".into(),
                points: vec![(2017, Some(61.0)), (2018, Some(64.0)), (2019, Some(65.0))],
            },
        ];
        let (svg, alt) =
            trend_svg("KS2 RWM", "%", &s, &[(2018, "test break".into())], 480, 260).unwrap();
        assert!(svg.starts_with("<svg") && svg.contains("KS2 RWM"));
        assert!(
            svg.matches("<polyline").count() >= 3,
            "two runs for the school, one for England"
        );
        assert!(
            alt.contains("School: 2016/17 60, 2017/18 no figure, 2018/19 70.")
                && alt.contains("test break")
        );
    }
}
