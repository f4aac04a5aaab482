//! The Achievement and Target Setting Booklet: one per school, as self-contained HTML
//! (charts inline as SVG, print stylesheet) and as PDF (Typst, fonts embedded), from one
//! view model and editable minijinja templates.

pub mod model;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use minijinja::Environment;
use serde::Serialize;

use crate::analysis::data::Data;
use crate::error::RenderFailures;
use crate::store::schema::SchoolRow;
use model::{Booklet, LaInfo, Prepared};

const HTML_TEMPLATE: &str = include_str!("../../../templates/booklet.html.j2");
const TYP_TEMPLATE: &str = include_str!("../../../templates/booklet.typ.j2");
const INDEX_TEMPLATE: &str = include_str!("../../../templates/index.html.j2");

/// Escape text placed inside a Typst string literal ("...").
pub fn typst_string(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', " ")
}

/// The template environment: the shipped templates, or an LA's edited copies from `dir`.
pub fn environment(dir: Option<&Path>) -> anyhow::Result<Environment<'static>> {
    let mut env = Environment::new();
    // HTML templates escape every value; the Typst template escapes with `t` (markup) and `ts` (strings).
    env.set_auto_escape_callback(|name| {
        if name.ends_with(".html.j2") {
            minijinja::AutoEscape::Html
        } else {
            minijinja::AutoEscape::None
        }
    });
    env.add_filter("t", |s: String| crate::render::pdf::escape(&s));
    env.add_filter("ts", |s: String| typst_string(&s));
    for (name, builtin) in [
        ("booklet.html.j2", HTML_TEMPLATE),
        ("booklet.typ.j2", TYP_TEMPLATE),
        ("index.html.j2", INDEX_TEMPLATE),
    ] {
        let text = match dir.map(|d| d.join(name)).filter(|p| p.exists()) {
            Some(p) => std::fs::read_to_string(&p).map_err(|e| {
                crate::error::ConfigError::new(p.display().to_string(), e.to_string())
            })?,
            None => builtin.to_string(),
        };
        env.add_template_owned(name.to_string(), text)
            .map_err(|e| crate::error::ConfigError::new(name, e.to_string()))?;
    }
    Ok(env)
}

pub fn render_html(env: &Environment, b: &Booklet) -> Result<String, String> {
    env.get_template("booklet.html.j2")
        .and_then(|t| t.render(minijinja::Value::from(minijinja::value::Serde(b))))
        .map_err(|e| format!("HTML template: {e:#}"))
}

pub fn render_pdf(env: &Environment, b: &Booklet) -> Result<Vec<u8>, String> {
    let markup = env
        .get_template("booklet.typ.j2")
        .and_then(|t| t.render(minijinja::Value::from(minijinja::value::Serde(b))))
        .map_err(|e| format!("Typst template: {e:#}"))?;
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    for c in b.key_stages.iter().flat_map(|k| &k.charts) {
        // `<id>.svg` is the chart as drawn; `<id>.graphics.svg` the same without its text,
        // which `<id>.labels.json` gives for Typst to set (the template's `chart`): Typst
        // reuses a label it has set before, where the SVG's text would be laid out anew
        // for every booklet.
        let (graphics, labels) =
            split_chart_text(&c.svg).unwrap_or_else(|| (c.svg.clone(), ChartLabels::none(&c.svg)));
        files.push((format!("{}.svg", c.id), c.svg.clone().into_bytes()));
        files.push((format!("{}.graphics.svg", c.id), graphics.into_bytes()));
        files.push((
            format!("{}.labels.json", c.id),
            serde_json::to_vec(&labels).map_err(|e| format!("PDF: chart {}: {e}", c.id))?,
        ));
    }
    if let Some(logo) = &b.la.logo {
        files.push((logo.file.clone(), logo.bytes.clone()));
    }
    let title = format!(
        "{}: Achievement and Target Setting Booklet {}",
        b.school.name, b.year_label
    );
    // The document date is the end of the results' academic year, not the clock: same input, same PDF.
    crate::render::pdf::typst_to_pdf(&markup, &files, Some((b.year, 8, 31)), Some(&title))
        .map_err(|e| format!("PDF: {e}"))
}

/// A chart's text, taken out of its SVG: where each label goes, in the SVG's pixels.
#[derive(Debug, Serialize, PartialEq)]
pub struct ChartLabels {
    pub width: f64,
    pub height: f64,
    pub labels: Vec<ChartLabel>,
}

/// One SVG `<text>`: anchored at (`x`, `y`), baseline `dy` below that, turned `rotate`
/// degrees about (`x`, `y`) as SVG turns it.
#[derive(Debug, Serialize, PartialEq)]
pub struct ChartLabel {
    pub x: f64,
    pub y: f64,
    pub dy: f64,
    /// `start`, `middle` or `end` (SVG's text-anchor).
    pub anchor: String,
    pub rotate: f64,
    pub size: f64,
    /// `regular` or `bold`.
    pub weight: String,
    pub fill: String,
    pub text: String,
}

impl ChartLabels {
    /// No labels (the SVG keeps its text); the size is read from the SVG where it can be.
    fn none(svg: &str) -> ChartLabels {
        let open = svg
            .find("<svg")
            .and_then(|i| svg[i..].find('>').map(|j| &svg[i..i + j]))
            .unwrap_or("");
        let attrs = attributes(open.trim_start_matches("<svg")).unwrap_or_default();
        let num = |k: &str| {
            attrs
                .iter()
                .find(|(a, _)| a == k)
                .and_then(|(_, v)| v.parse().ok())
                .unwrap_or(1.0)
        };
        ChartLabels {
            width: num("width"),
            height: num("height"),
            labels: vec![],
        }
    }
}

/// Split a chart's SVG (as plotters writes it) into the SVG without its `<text>` elements
/// and the labels they held. `None` when any text is one this cannot place exactly as SVG
/// would (another font, nested spans, a transform other than a rotation about its anchor):
/// the chart is then embedded whole.
pub fn split_chart_text(svg: &str) -> Option<(String, ChartLabels)> {
    let mut graphics = String::with_capacity(svg.len());
    let mut labels = Vec::new();
    let mut rest = svg;
    while let Some(at) = rest.find("<text") {
        graphics.push_str(&rest[..at]);
        let open_end = at + rest[at..].find('>')?;
        let close = open_end + rest[open_end..].find("</text>")?;
        let attrs = attributes(&rest[at + "<text".len()..open_end])?;
        let body = rest[open_end + 1..close].trim();
        if body.contains('<') {
            return None;
        }
        labels.push(label(&attrs, unescape_xml(body)?)?);
        rest = &rest[close + "</text>".len()..];
        // plotters ends each element with a newline: drop it with the element.
        rest = rest.strip_prefix('\n').unwrap_or(rest);
    }
    graphics.push_str(rest);
    let size = ChartLabels::none(svg);
    Some((graphics, ChartLabels { labels, ..size }))
}

fn label(attrs: &[(String, String)], text: String) -> Option<ChartLabel> {
    let get = |k: &str| attrs.iter().find(|(a, _)| a == k).map(|(_, v)| v.as_str());
    let num = |k: &str| get(k)?.parse::<f64>().ok();
    let (x, y, size) = (num("x")?, num("y")?, num("font-size")?);
    for (k, _) in attrs {
        if !matches!(
            k.as_str(),
            "x" | "y"
                | "dy"
                | "text-anchor"
                | "font-family"
                | "font-size"
                | "opacity"
                | "fill"
                | "font-weight"
                | "transform"
        ) {
            return None;
        }
    }
    // The PDF sets labels in the document's font: only text in that font moves out.
    if get("font-family")? != "DejaVu Sans" || get("opacity").is_some_and(|o| o != "1") {
        return None;
    }
    // usvg's units: 1em = the font size, 1ex = half of it.
    let dy = match get("dy") {
        None => 0.0,
        Some(d) if d.ends_with("em") => d.trim_end_matches("em").parse::<f64>().ok()? * size,
        Some(d) if d.ends_with("ex") => d.trim_end_matches("ex").parse::<f64>().ok()? * size / 2.0,
        Some(d) => d.parse().ok()?,
    };
    let anchor = get("text-anchor").unwrap_or("start");
    if !matches!(anchor, "start" | "middle" | "end") {
        return None;
    }
    let weight = match get("font-weight") {
        None | Some("normal") => "regular",
        Some("bold") => "bold",
        Some(_) => return None,
    };
    let fill = get("fill").unwrap_or("#000000");
    if !(fill.len() == 7
        && fill.starts_with('#')
        && fill[1..].chars().all(|c| c.is_ascii_hexdigit()))
    {
        return None;
    }
    let rotate = match get("transform") {
        None => 0.0,
        Some(t) => {
            let args: Vec<f64> = t
                .strip_prefix("rotate(")?
                .strip_suffix(')')?
                .split(',')
                .map(|a| a.trim().parse().ok())
                .collect::<Option<_>>()?;
            // Only a turn about the label's own anchor, which is where Typst turns it.
            match args[..] {
                [a, cx, cy] if cx == x && cy == y => a,
                _ => return None,
            }
        }
    };
    Some(ChartLabel {
        x,
        y,
        dy,
        anchor: anchor.into(),
        rotate,
        size,
        weight: weight.into(),
        fill: fill.into(),
        text,
    })
}

/// `name="value"` pairs of an element's opening tag; `None` if it is not that simple.
fn attributes(s: &str) -> Option<Vec<(String, String)>> {
    let mut out = Vec::new();
    let mut rest = s.trim().trim_end_matches('/').trim();
    while !rest.is_empty() {
        let eq = rest.find('=')?;
        let name = rest[..eq].trim();
        let after = rest[eq + 1..].trim_start();
        let quote = after.chars().next().filter(|c| *c == '"' || *c == '\'')?;
        let end = after[1..].find(quote)?;
        out.push((name.to_string(), after[1..1 + end].to_string()));
        rest = after[end + 2..].trim_start();
    }
    Some(out)
}

fn unescape_xml(s: &str) -> Option<String> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let end = at + rest[at..].find(';')?;
        out.push(match &rest[at + 1..end] {
            "amp" => '&',
            "lt" => '<',
            "gt" => '>',
            "quot" => '"',
            "apos" => '\'',
            e if e.starts_with("#x") => char::from_u32(u32::from_str_radix(&e[2..], 16).ok()?)?,
            e if e.starts_with('#') => char::from_u32(e[1..].parse().ok()?)?,
            _ => return None,
        });
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    Some(out)
}

/// Which schools get a booklet.
pub struct Selection {
    pub urns: Vec<String>,
    pub la: Option<String>,
    /// Include academies and other schools the LA does not maintain.
    pub all_schools: bool,
}

pub struct Options {
    pub out: PathBuf,
    pub year: i32,
    pub neighbours_model: i32,
    pub la_colour: String,
    /// The publishing authority's name (default: the LA's name in the store).
    pub la_name: Option<String>,
    pub logo: Option<PathBuf>,
    pub templates: Option<PathBuf>,
    pub html: bool,
    pub pdf: bool,
    /// The LA's pupil-level files, for the gaps only they can give.
    pub pupils: Option<PupilInputs>,
}

#[derive(Debug, Clone)]
pub struct PupilInputs {
    pub paths: Vec<PathBuf>,
    pub prior_means: Option<PathBuf>,
    pub threshold: u64,
    /// The ledger of pupil-level figures released into the output tree
    /// (src/analysis/ledger.rs): respected, and added to.
    pub ledger: Option<PathBuf>,
}

/// One school's row of `index.html`.
#[derive(Debug, Serialize)]
struct IndexRow {
    urn: String,
    name: String,
    phase: String,
    school_type: String,
    headline: String,
    value: String,
    national: String,
    /// The headline against England in words ("significantly above"), empty where not assessed.
    significance: String,
    /// `above`, `below` or `similar` (the colour of the significance cell), empty where not assessed.
    tone: String,
    ofsted: String,
    /// How many strengths and areas to investigate page one lists.
    strengths: usize,
    areas: usize,
    has_attainment: bool,
    html: String,
    pdf: String,
}

#[derive(Debug, Default)]
pub struct RunSummary {
    pub written: usize,
    pub failed: Vec<String>,
    /// Booklets with no attainment figures (no key-stage results and no pupil-level
    /// figures): "URN name", in URN order.
    pub no_attainment: Vec<String>,
    pub seconds_prepare: f64,
    pub seconds_render: f64,
    /// CPU time (all threads) of the rendering stage: each booklet's own cost, without
    /// the run's one-off reading of the store.
    pub cpu_render: Option<f64>,
}

impl RunSummary {
    /// Booklets tried: written and failed.
    pub fn attempted(&self) -> usize {
        self.written + self.failed.len()
    }

    /// The rendering stage's CPU time per booklet tried, in milliseconds.
    pub fn cpu_ms_per_booklet(&self) -> Option<f64> {
        self.cpu_render
            .map(|cpu| 1000.0 * cpu / self.attempted().max(1) as f64)
    }

    /// What the run prints about booklets without attainment figures (empty when there are none).
    pub fn no_attainment_line(&self) -> String {
        match self.no_attainment.len() {
            0 => String::new(),
            n => format!(
                "{n} of {} booklet(s) had no attainment data (no key-stage results or pupil-level figures: \
                    context, attendance and Ofsted only): {}",
                self.written,
                self.no_attainment.join("; ")
            ),
        }
    }
}

/// Output path for a school: `<out>/<LA code>/<URN>-<slug>.<ext>` (safe for any name).
pub fn output_path(out: &Path, b: &Booklet, ext: &str) -> PathBuf {
    school_path(out, &b.school.la_code, &b.school.urn, &b.school.slug, ext)
}

/// `<out>/<LA code>/<URN>-<slug>.<tail>`, keeping only letters and digits of the codes (at
/// most 20 of each; "unknown" if none) so the path stays inside `out` whatever they contain
/// and the file name stays well under 255 bytes (the slug is at most 60).
pub fn school_path(out: &Path, la_code: &str, urn: &str, slug: &str, tail: &str) -> PathBuf {
    let la: String = la_code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .take(20)
        .collect();
    let urn: String = urn
        .chars()
        .filter(|c| c.is_ascii_digit())
        .take(20)
        .collect();
    let or_unknown = |s: String| {
        if s.is_empty() {
            "unknown".to_string()
        } else {
            s
        }
    };
    out.join(or_unknown(la))
        .join(format!("{}-{slug}.{tail}", or_unknown(urn)))
}

/// The schools a selection picks, by URN: those with KS2, KS4 or census figures in the years
/// prepared. Naming a school with none is an error.
pub fn choose<'p>(prepared: &'p Prepared, sel: &Selection) -> anyhow::Result<Vec<&'p SchoolRow>> {
    let mut chosen: Vec<&SchoolRow> = prepared
        .inputs
        .schools
        .iter()
        .filter(|s| {
            if !sel.urns.is_empty() {
                return sel.urns.contains(&s.urn);
            }
            let in_la = sel
                .la
                .as_ref()
                .map(|la| s.la_code.as_deref() == Some(la.as_str()))
                .unwrap_or(true);
            in_la && (sel.all_schools || s.la_maintained == Some(true))
        })
        .filter(|s| {
            prepared.inputs.years.iter().any(|&y| {
                ["ks2_rwm_expected", "ks4_attainment8", "census_pupils"]
                    .iter()
                    .any(|m| prepared.inputs.school_row(m, "all", y, &s.urn).is_some())
            })
        })
        .collect();
    chosen.sort_by(|a, b| a.urn.cmp(&b.urn));
    if !sel.urns.is_empty() {
        let missing: Vec<&String> = sel
            .urns
            .iter()
            .filter(|u| !chosen.iter().any(|s| &&s.urn == u))
            .collect();
        anyhow::ensure!(
            missing.is_empty(),
            crate::error::ConfigError::new(
                "--school",
                format!(
                    "no results in the store for URN {}",
                    missing
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            )
        );
    }
    Ok(chosen)
}

/// Choose the schools, prepare the figures once, then render every booklet in parallel.
pub fn run(data: &Data, sel: &Selection, opts: &Options) -> anyhow::Result<RunSummary> {
    let t0 = std::time::Instant::now();
    let mut prepared = Prepared::new(data, opts.year, opts.neighbours_model)?;
    if let Some(p) = &opts.pupils {
        let (pupils, _) = crate::ingest::pupils::read_pupils(&p.paths, false)?;
        let means = p
            .prior_means
            .as_deref()
            .map(|m| crate::analysis::pupils::PriorMeans::read(m, None))
            .transpose()?;
        let places = crate::analysis::pupils::Places::from_schools(&prepared.inputs.schools);
        // Disclosure control covers what the booklets show: the chosen schools and their LAs.
        let urns: Vec<String> = choose(&prepared, sel)?
            .iter()
            .map(|s| s.urn.clone())
            .collect();
        let earlier = match &p.ledger {
            Some(l) => crate::analysis::ledger::load(l)?,
            None => vec![],
        };
        let released = prepared.add_pupil_data(
            &pupils.pupils,
            means.as_ref(),
            &places,
            p.threshold,
            &urns,
            &earlier,
        )?;
        // Recorded before anything is written: a run that stops half way has released no more.
        if let Some(l) = &p.ledger {
            crate::analysis::ledger::record(l, &released)?;
        }
    }
    let chosen = choose(&prepared, sel)?;
    let la_name = opts
        .la_name
        .clone()
        .or_else(|| sel.la.as_ref().map(|c| data.name(c)))
        .unwrap_or_default();
    let logo = opts.logo.as_deref().map(model::Logo::read).transpose()?;
    let la_info = LaInfo {
        code: sel.la.clone().unwrap_or_default(),
        name: la_name.clone(),
        colour: safe_colour(&opts.la_colour),
        neighbours_model: opts.neighbours_model,
        logo,
    };
    let seconds_prepare = t0.elapsed().as_secs_f64();
    let t1 = std::time::Instant::now();
    let cpu1 = crate::resources::cpu_seconds();
    let env = Arc::new(environment(opts.templates.as_deref())?);
    // Every figure is in `prepared` (no polars from here on). Each school's view model is
    // built, rendered and dropped in turn, so memory stays flat however many schools there
    // are. Typst's layout recurses deeply: render on threads with large stacks.
    //
    // Each worker takes the next school from a shared counter rather than from a split
    // `par_iter`: Typst parallelises its own layout on the same pool, and a worker waiting
    // on that would otherwise steal whole booklets and nest them without end.
    let pool = rayon::ThreadPoolBuilder::new()
        .stack_size(64 << 20)
        .build()
        .map_err(|e| {
            crate::error::RenderError::new(
                opts.out.display().to_string(),
                format!("the booklets' worker threads could not be started: {e}"),
            )
        })?;
    let next = std::sync::atomic::AtomicUsize::new(0);
    let progress = crate::progress::task("booklets", chosen.len());
    let done: std::sync::Mutex<Vec<(usize, Result<IndexRow, String>)>> =
        std::sync::Mutex::new(Vec::with_capacity(chosen.len()));
    pool.broadcast(|_| loop {
        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let Some(s) = chosen.get(i) else { break };
        // A panic in one school's rendering is that school's failure, not the run's.
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            render_one(&prepared.booklet(s, &la_info), &env, opts)
        }))
        .unwrap_or_else(|_| Err(format!("URN {}: rendering panicked", s.urn)));
        progress.step();
        done.lock().unwrap_or_else(|e| e.into_inner()).push((i, r));
    });
    let mut results = done.into_inner().unwrap_or_else(|e| e.into_inner());
    results.sort_by_key(|(i, _)| *i);
    let results = results.into_iter().map(|(_, r)| r);

    let mut rows: Vec<IndexRow> = Vec::new();
    let mut failed = Vec::new();
    for r in results {
        match r {
            Ok(row) => rows.push(row),
            Err(e) => failed.push(e),
        }
    }
    let index = env
        .get_template("index.html.j2")?
        .render(minijinja::context! {
            la_name => if la_info.name.is_empty() {
                "All local authorities".to_string()
            } else {
                la_info.name.clone()
            },
            year_label => crate::year::academic_label(opts.year),
            colour => la_info.colour,
            schools => minijinja::Value::from(minijinja::value::Serde(&rows)),
            failed => failed.len(),
        })?;
    crate::atomic::write_atomic(&opts.out.join("index.html"), index.as_bytes())?;
    let summary = RunSummary {
        written: rows.len(),
        no_attainment: rows
            .iter()
            .filter(|r| !r.has_attainment)
            .map(|r| format!("{} {}", r.urn, r.name))
            .collect(),
        failed,
        seconds_prepare,
        seconds_render: t1.elapsed().as_secs_f64(),
        cpu_render: crate::resources::cpu_seconds()
            .zip(cpu1)
            .map(|(b, a)| b - a),
    };
    if let Some(ms) = summary.cpu_ms_per_booklet() {
        tracing::info!(
            "rendering: {ms:.1} ms CPU a booklet ({} booklets)",
            summary.attempted()
        );
    }
    if !summary.failed.is_empty() {
        return Err(RenderFailures {
            total: summary.written + summary.failed.len(),
            failures: summary.failed.clone(),
        }
        .into());
    }
    Ok(summary)
}

/// Write one school's HTML and PDF; the row for the index, or what went wrong.
fn render_one(b: &Booklet, env: &Environment, opts: &Options) -> Result<IndexRow, String> {
    let who = format!("URN {} {}", b.school.urn, b.school.name);
    let html_path = output_path(&opts.out, b, "html");
    let pdf_path = output_path(&opts.out, b, "pdf");
    if opts.html {
        let html = render_html(env, b).map_err(|e| format!("{who}: {e}"))?;
        crate::atomic::write_atomic(&html_path, html.as_bytes())
            .map_err(|e| format!("{who}: {e}"))?;
    }
    if opts.pdf {
        let pdf = render_pdf(env, b).map_err(|e| format!("{who}: {e}"))?;
        crate::atomic::write_atomic(&pdf_path, &pdf).map_err(|e| format!("{who}: {e}"))?;
    }
    let head = b
        .key_stages
        .first()
        .and_then(|k| k.rows.first())
        .filter(|h| h.reason.is_empty());
    let rel = |p: &Path| p.strip_prefix(&opts.out).unwrap_or(p).display().to_string();
    Ok(IndexRow {
        urn: b.school.urn.clone(),
        name: b.school.name.clone(),
        phase: b.school.phase.clone(),
        school_type: b.school.school_type.clone(),
        headline: head.map(|h| h.label.clone()).unwrap_or_default(),
        value: head.map(|h| h.school.clone()).unwrap_or_default(),
        national: head.map(|h| h.national.clone()).unwrap_or_default(),
        significance: head.map(|h| h.significance.clone()).unwrap_or_default(),
        tone: head
            .map(|h| tone(&h.significance))
            .unwrap_or_default()
            .into(),
        has_attainment: b.has_attainment,
        strengths: b.summary.strengths.len(),
        areas: b.summary.areas.len(),
        ofsted: b
            .ofsted
            .as_ref()
            .map(|o| o.judgement.clone())
            .unwrap_or_default(),
        html: if opts.html {
            rel(&html_path)
        } else {
            String::new()
        },
        pdf: if opts.pdf {
            rel(&pdf_path)
        } else {
            String::new()
        },
    })
}

/// The colour class of a printed significance label ("significantly above" -> "above").
fn tone(significance: &str) -> &'static str {
    use crate::analysis::significance::Significance;
    [
        (Significance::Above, "above"),
        (Significance::Below, "below"),
        (Significance::NotDifferent, "similar"),
    ]
    .into_iter()
    .find(|(s, _)| s.label() == significance)
    .map_or("", |(_, t)| t)
}

/// Only a #rrggbb colour reaches the templates (it is written into CSS and Typst).
pub fn safe_colour(c: &str) -> String {
    let ok = c.len() == 7 && c.starts_with('#') && c[1..].chars().all(|x| x.is_ascii_hexdigit());
    if ok {
        c.to_string()
    } else {
        "#1f4e79".into()
    }
}

#[cfg(test)]
mod tests {
    use super::model::*;
    use super::*;

    fn awkward() -> Booklet {
        let name = "St Mary & St John's <script>alert(1)</script> \"#1\" $5 *x* @y [z] مدرسة";
        Booklet {
            school: SchoolInfo {
                urn: "100001".into(),
                name: name.into(),
                la_code: "../850".into(),
                la_name: "Hants & <b>Co</b>".into(),
                phase: "primary".into(),
                school_type: "#type".into(),
                maintained: "LA maintained".into(),
                slug: slug(name),
            },
            la: LaInfo {
                code: "850".into(),
                name: "A \"quoted\" $LA".into(),
                colour: safe_colour("red;}</style>"),
                neighbours_model: 2021,
                logo: None,
            },
            year: 2019,
            year_label: "2018/19".into(),
            next_year_label: "2019/20".into(),
            versions: vec!["KS2: final".into()],
            summary: Default::default(),
            context: vec![],
            key_stages: vec![],
            gaps: vec![],
            pupil_gaps: vec![PupilGapView {
                measure: "ks2_rwm_expected".into(),
                label: "RWM <expected> & $more".into(),
                group_id: "lac".into(),
                group: "Looked after #[x] (n=c)".into(),
                value: "c".into(),
                comparison_value: "c".into(),
                gap: "c".into(),
                la_value: "37.5".into(),
                significance: String::new(),
                trend: "*new*".into(),
                note: String::new(),
                group_name: String::new(),
            }],
            attendance: vec![],
            ofsted: None,
            targets: vec![],
            last_targets: vec![],
            notes: Notes {
                sources: vec!["a_b*c#.csv".into()],
                symbols: vec![("SUPP".into(), "suppressed".into())],
                methods: vec!["gap = group - comparison [sic]".into()],
            },
            has_attainment: true,
        }
    }

    #[test]
    fn markup_in_names_is_escaped_in_html_and_pdf() {
        let env = environment(None).unwrap();
        let b = awkward();
        let html = render_html(&env, &b).unwrap();
        assert!(!html.contains("<script>alert"), "script tag escaped");
        assert!(html.contains("St Mary &amp; St John&#x27;s &lt;script&gt;"));
        assert!(
            !html.contains("red;}</style>"),
            "only #rrggbb colours reach the CSS"
        );
        assert!(
            html.contains(
                "<th colspan=\"7\" scope=\"rowgroup\">RWM &lt;expected&gt; &amp; $more</th>"
            ),
            "pupil-data rows are escaped too"
        );
        assert!(html.contains("<td>Looked after #[x] (n=c)</td><td>c</td>"));
        let pdf = render_pdf(&env, &b).unwrap();
        assert!(pdf.starts_with(b"%PDF-"));
        // The path stays inside the output directory whatever the codes and name contain.
        let p = output_path(Path::new("/out"), &b, "pdf");
        assert_eq!(
            p,
            Path::new("/out/850/100001-st-mary-st-john-s-script-alert-1-script-1-5-x-y-z.pdf")
        );
    }

    /// The text of every `<text>` element, read from the SVG by plain string search.
    fn texts_in(svg: &str) -> Vec<String> {
        svg.split("</text>")
            .filter_map(|part| {
                part.rfind("<text").map(|at| {
                    part[at..]
                        .split_once('>')
                        .unwrap()
                        .1
                        .trim()
                        .replace("&amp;", "&")
                })
            })
            .collect()
    }

    #[test]
    fn chart_text_moves_out_of_the_svg_as_placed_labels() {
        let series = vec![
            crate::render::chart::Series {
                label: "A & B".into(),
                points: vec![(2017, Some(52.0)), (2018, None), (2019, Some(61.0))],
            },
            crate::render::chart::Series {
                label: "England".into(),
                points: vec![(2017, Some(61.0)), (2018, Some(64.0)), (2019, Some(65.0))],
            },
        ];
        let (svg, _) = crate::render::chart::trend_svg(
            "Reading & maths",
            "% of pupils",
            &series,
            &[],
            460,
            250,
        )
        .unwrap();
        let (graphics, labels) = split_chart_text(&svg).expect("plotters' text is all placeable");
        assert!(!graphics.contains("<text"), "no text left in the graphics");
        // Everything else is kept as it was, in order.
        let others = |s: &str| {
            s.lines()
                .filter(|l| {
                    l.starts_with('<') && !l.starts_with("<text") && !l.starts_with("</text")
                })
                .map(str::to_string)
                .collect::<Vec<_>>()
        };
        assert_eq!(others(&graphics), others(&svg));
        let texts = texts_in(&svg);
        assert!(
            texts.len() >= 6,
            "title, axis label, ticks and legend: {texts:?}"
        );
        assert_eq!(
            labels
                .labels
                .iter()
                .map(|l| l.text.clone())
                .collect::<Vec<_>>(),
            texts
        );
        assert!(
            texts.contains(&"A & B".to_string()) && texts.contains(&"Reading & maths".to_string()),
            "entities decoded: {texts:?}"
        );
        assert_eq!((labels.width, labels.height), (460.0, 250.0));
        // As many turned and bold labels as the SVG has, with its angle and font size.
        let turned: Vec<&ChartLabel> = labels.labels.iter().filter(|l| l.rotate != 0.0).collect();
        assert_eq!(turned.len(), svg.matches("transform=\"rotate(").count());
        let angle = svg
            .split("transform=\"rotate(")
            .nth(1)
            .unwrap()
            .split(',')
            .next()
            .unwrap()
            .parse::<f64>()
            .unwrap();
        assert!(turned
            .iter()
            .all(|l| l.rotate == angle && l.text == "% of pupils"));
        let bold: Vec<&ChartLabel> = labels
            .labels
            .iter()
            .filter(|l| l.weight == "bold")
            .collect();
        assert_eq!(bold.len(), svg.matches("font-weight=\"bold\"").count());
        assert_eq!(bold[0].text, "Reading & maths");
        for l in &labels.labels {
            let tag = svg
                .split("</text>")
                .find(|p| {
                    p.rfind("<text").is_some_and(|at| {
                        p[at..]
                            .split_once('>')
                            .unwrap()
                            .1
                            .trim()
                            .replace("&amp;", "&")
                            == l.text
                    })
                })
                .unwrap();
            let size: f64 = tag
                .split("font-size=\"")
                .nth(1)
                .unwrap()
                .split('"')
                .next()
                .unwrap()
                .parse()
                .unwrap();
            assert_eq!(l.size, size, "{}", l.text);
            let em = tag
                .split("dy=\"")
                .nth(1)
                .unwrap()
                .split('"')
                .next()
                .unwrap();
            let expected = if let Some(v) = em.strip_suffix("em") {
                v.parse::<f64>().unwrap() * size
            } else {
                em.trim_end_matches("ex").parse::<f64>().unwrap() * size / 2.0
            };
            assert!(
                (l.dy - expected).abs() < 1e-9,
                "{}: dy {} against {em}",
                l.text,
                l.dy
            );
        }
    }

    #[test]
    fn chart_text_that_cannot_be_placed_exactly_keeps_the_whole_svg() {
        let svg = |text: &str| {
            format!("<svg width=\"100\" height=\"50\" xmlns=\"http://www.w3.org/2000/svg\">\n{text}\n</svg>")
        };
        for odd in [
            "<text x=\"1\" y=\"2\" font-family=\"serif\" font-size=\"10\">a</text>",
            "<text x=\"1\" y=\"2\" font-family=\"DejaVu Sans\" font-size=\"10\"><tspan>a</tspan></text>",
            "<text x=\"1\" y=\"2\" font-family=\"DejaVu Sans\" font-size=\"10\" transform=\"rotate(90, 5, \
                5)\">a</text>",
            "<text x=\"1\" y=\"2\" font-family=\"DejaVu Sans\" font-size=\"10\" letter-spacing=\"2\">a</text>",
        ] {
            assert_eq!(split_chart_text(&svg(odd)), None, "{odd}");
        }
        let (graphics, labels) =
            split_chart_text(&svg("<text x=\"1\" y=\"2\" font-family=\"DejaVu Sans\" \
            font-size=\"10\" transform=\"rotate(90, 1, 2)\">a &lt; b</text>"))
            .unwrap();
        assert_eq!(graphics, svg("").replace("\n\n", "\n"));
        assert_eq!(labels.labels[0].text, "a < b");
        assert_eq!(labels.labels[0].rotate, 90.0);
    }
}
