//! Charts drawn with plotters: SVG for booklets (inline in HTML, embedded in the PDF)
//! and PNG for committee papers. Fonts are bundled (no system fontconfig); the palette is
//! Okabe-Ito, safe for colour-blind readers. Every chart has a title and a text alternative.

use std::sync::Once;

use plotters::prelude::*;

/// Okabe-Ito: blue (the school or LA), orange, bluish green, reddish purple, sky blue, vermillion, grey.
pub const PALETTE: [(u8, u8, u8); 7] = [(0, 114, 178), (230, 159, 0), (0, 158, 115), (204, 121, 167), (86, 180, 233), (213, 94, 0), (120, 120, 120)];

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
/// Returns (svg, alt text).
pub fn trend_svg(title: &str, y_label: &str, series: &[Series], breaks: &[(i32, String)], width: u32, height: u32) -> Result<(String, String), String> {
    fonts();
    let years: Vec<i32> = series.iter().flat_map(|s| s.points.iter().map(|p| p.0)).collect();
    let (Some(&y0), Some(&y1)) = (years.iter().min(), years.iter().max()) else { return Err("no years to draw".into()) };
    let values: Vec<f64> = series.iter().flat_map(|s| s.points.iter().filter_map(|p| p.1)).collect();
    let (mut lo, mut hi) = values.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(*v), b.max(*v)));
    if !lo.is_finite() {
        (lo, hi) = (0.0, 1.0);
    }
    let pad = ((hi - lo) * 0.15).max(1.0);
    let (lo, hi) = (lo - pad, hi + pad);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, (FONT, 15).into_font().style(FontStyle::Bold))
            .margin(10)
            .x_label_area_size(30)
            .y_label_area_size(48)
            .build_cartesian_2d((y0 as f64 - 0.3)..(y1 as f64 + 0.3), lo..hi)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .x_labels((y1 - y0 + 1) as usize)
            .x_label_formatter(&|x| crate::year::academic_label(x.round() as i32))
            .y_desc(y_label)
            .label_style((FONT, 12))
            .axis_desc_style((FONT, 12))
            .light_line_style(RGBColor(235, 235, 235))
            .draw()
            .map_err(|e| e.to_string())?;
        for (y, _) in breaks {
            let yf = *y as f64;
            if yf >= y0 as f64 && yf <= y1 as f64 {
                chart.draw_series(DashedLineSeries::new(vec![(yf, lo), (yf, hi)], 4, 4, RGBColor(150, 150, 150).stroke_width(1))).map_err(|e| e.to_string())?;
            }
        }
        for (i, s) in series.iter().enumerate() {
            let (r, g, b) = PALETTE[i % PALETTE.len()];
            let colour = RGBColor(r, g, b);
            let width = if i == 0 { 3 } else { 2 };
            // Draw each unbroken run of values as one line.
            let mut run: Vec<(f64, f64)> = Vec::new();
            let mut runs = Vec::new();
            for (y, v) in &s.points {
                match v {
                    Some(v) => run.push((*y as f64, *v)),
                    None => runs.push(std::mem::take(&mut run)),
                }
            }
            runs.push(run);
            let mut first = true;
            for run in runs.into_iter().filter(|r| !r.is_empty()) {
                let line = chart.draw_series(LineSeries::new(run.clone(), colour.stroke_width(width))).map_err(|e| e.to_string())?;
                if first {
                    line.label(s.label.clone()).legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], colour.stroke_width(3)));
                    first = false;
                }
                chart.draw_series(run.iter().map(|p| Circle::new(*p, 4, colour.filled()))).map_err(|e| e.to_string())?;
            }
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .background_style(WHITE.mix(0.85))
            .border_style(RGBColor(200, 200, 200))
            .label_font((FONT, 12))
            .draw()
            .map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok((svg, alt_text(title, series, breaks)))
}

/// A sentence per series: what a screen-reader user needs from the chart.
pub fn alt_text(title: &str, series: &[Series], breaks: &[(i32, String)]) -> String {
    let mut parts = vec![format!("{title}.")];
    for s in series {
        let vals: Vec<String> = s.points.iter().map(|(y, v)| format!("{} {}", crate::year::academic_label(*y), v.map(|v| format!("{v}")).unwrap_or_else(|| "no figure".into()))).collect();
        parts.push(format!("{}: {}.", s.label, vals.join(", ")));
    }
    for (y, note) in breaks {
        parts.push(format!("Break in the series at {}: {note}.", crate::year::academic_label(*y)));
    }
    parts.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn trend_chart_has_lines_and_alt_text() {
        let s = vec![
            Series { label: "School".into(), points: vec![(2017, Some(60.0)), (2018, None), (2019, Some(70.0))] },
            Series { label: "England".into(), points: vec![(2017, Some(61.0)), (2018, Some(64.0)), (2019, Some(65.0))] },
        ];
        let (svg, alt) = trend_svg("KS2 RWM", "%", &s, &[(2018, "test break".into())], 480, 260).unwrap();
        assert!(svg.starts_with("<svg") && svg.contains("KS2 RWM"));
        assert!(svg.matches("<polyline").count() >= 3, "two runs for the school, one for England");
        assert!(alt.contains("School: 2016/17 60, 2017/18 no figure, 2018/19 70.") && alt.contains("test break"));
    }
}
