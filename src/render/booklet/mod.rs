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
    s.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', " ")
}

/// The template environment: the shipped templates, or an LA's edited copies from `dir`.
pub fn environment(dir: Option<&Path>) -> anyhow::Result<Environment<'static>> {
    let mut env = Environment::new();
    // HTML templates escape every value; the Typst template escapes with `t` (markup) and `ts` (strings).
    env.set_auto_escape_callback(|name| if name.ends_with(".html.j2") { minijinja::AutoEscape::Html } else { minijinja::AutoEscape::None });
    env.add_filter("t", |s: String| crate::render::pdf::escape(&s));
    env.add_filter("ts", |s: String| typst_string(&s));
    for (name, builtin) in [("booklet.html.j2", HTML_TEMPLATE), ("booklet.typ.j2", TYP_TEMPLATE), ("index.html.j2", INDEX_TEMPLATE)] {
        let text = match dir.map(|d| d.join(name)).filter(|p| p.exists()) {
            Some(p) => std::fs::read_to_string(&p).map_err(|e| crate::error::ConfigError::new(p.display().to_string(), e.to_string()))?,
            None => builtin.to_string(),
        };
        env.add_template_owned(name.to_string(), text).map_err(|e| crate::error::ConfigError::new(name, e.to_string()))?;
    }
    Ok(env)
}

pub fn render_html(env: &Environment, b: &Booklet) -> Result<String, String> {
    env.get_template("booklet.html.j2").and_then(|t| t.render(minijinja::Value::from(minijinja::value::Serde(b)))).map_err(|e| format!("HTML template: {e:#}"))
}

pub fn render_pdf(env: &Environment, b: &Booklet) -> Result<Vec<u8>, String> {
    let markup = env.get_template("booklet.typ.j2").and_then(|t| t.render(minijinja::Value::from(minijinja::value::Serde(b)))).map_err(|e| format!("Typst template: {e:#}"))?;
    let mut files: Vec<(String, Vec<u8>)> = b.key_stages.iter().flat_map(|k| k.charts.iter().map(|c| (format!("{}.svg", c.id), c.svg.clone().into_bytes()))).collect();
    if let Some(logo) = &b.la.logo {
        files.push((logo.file.clone(), logo.bytes.clone()));
    }
    // The document date is the end of the results' academic year, not the clock: same input, same PDF.
    crate::render::pdf::typst_to_pdf(&markup, &files, Some((b.year, 8, 31))).map_err(|e| format!("PDF: {e}"))
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
}

#[derive(Debug, Serialize)]
struct IndexRow {
    urn: String,
    name: String,
    phase: String,
    headline: String,
    value: String,
    national: String,
    ofsted: String,
    html: String,
    pdf: String,
}

#[derive(Debug, Default)]
pub struct RunSummary {
    pub written: usize,
    pub failed: Vec<String>,
    pub seconds_prepare: f64,
    pub seconds_render: f64,
}

/// Output path for a school: `<out>/<LA code>/<URN>-<slug>.<ext>` (safe for any name).
pub fn output_path(out: &Path, b: &Booklet, ext: &str) -> PathBuf {
    school_path(out, &b.school.la_code, &b.school.urn, &b.school.slug, ext)
}

/// `<out>/<LA code>/<URN>-<slug>.<tail>`, keeping only letters and digits of the codes (at
/// most 20 of each; "unknown" if none) so the path stays inside `out` whatever they contain
/// and the file name stays well under 255 bytes (the slug is at most 60).
pub fn school_path(out: &Path, la_code: &str, urn: &str, slug: &str, tail: &str) -> PathBuf {
    let la: String = la_code.chars().filter(|c| c.is_ascii_alphanumeric()).take(20).collect();
    let urn: String = urn.chars().filter(|c| c.is_ascii_digit()).take(20).collect();
    let or_unknown = |s: String| if s.is_empty() { "unknown".to_string() } else { s };
    out.join(or_unknown(la)).join(format!("{}-{slug}.{tail}", or_unknown(urn)))
}

/// The schools a selection picks, by URN: those with KS2, KS4 or census figures in the years
/// prepared. Naming a school with none is an error.
pub fn choose<'p>(prepared: &'p Prepared, sel: &Selection) -> anyhow::Result<Vec<&'p SchoolRow>> {
    let mut chosen: Vec<&SchoolRow> = prepared
        .schools
        .iter()
        .filter(|s| {
            if !sel.urns.is_empty() {
                return sel.urns.contains(&s.urn);
            }
            let in_la = sel.la.as_ref().map(|la| s.la_code.as_deref() == Some(la.as_str())).unwrap_or(true);
            in_la && (sel.all_schools || s.la_maintained == Some(true))
        })
        .filter(|s| prepared.years.iter().any(|&y| ["ks2_rwm_expected", "ks4_attainment8", "census_pupils"].iter().any(|m| prepared.get(m, "all", y, "school", &s.urn).is_some())))
        .collect();
    chosen.sort_by(|a, b| a.urn.cmp(&b.urn));
    if !sel.urns.is_empty() {
        let missing: Vec<&String> = sel.urns.iter().filter(|u| !chosen.iter().any(|s| &&s.urn == u)).collect();
        anyhow::ensure!(missing.is_empty(), crate::error::ConfigError::new("--school", format!("no results in the store for URN {}", missing.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", "))));
    }
    Ok(chosen)
}

/// Choose the schools, prepare the figures once, then render every booklet in parallel.
pub fn run(data: &Data, sel: &Selection, opts: &Options) -> anyhow::Result<RunSummary> {
    let t0 = std::time::Instant::now();
    let mut prepared = Prepared::new(data, opts.year, opts.neighbours_model)?;
    if let Some(p) = &opts.pupils {
        let (pupils, _) = crate::ingest::pupils::read_pupils(&p.paths, false)?;
        let means = p.prior_means.as_deref().map(|m| crate::analysis::pupils::PriorMeans::read(m, None)).transpose()?;
        let places = crate::analysis::pupils::Places::from_schools(&prepared.schools);
        prepared.add_pupil_data(&pupils.pupils, means.as_ref(), &places, p.threshold)?;
    }
    let chosen = choose(&prepared, sel)?;
    let la_name = opts.la_name.clone().or_else(|| sel.la.as_ref().map(|c| data.name(c))).unwrap_or_default();
    let logo = opts.logo.as_deref().map(model::Logo::read).transpose()?;
    let la_info = LaInfo { code: sel.la.clone().unwrap_or_default(), name: la_name.clone(), colour: safe_colour(&opts.la_colour), neighbours_model: opts.neighbours_model, logo };
    let seconds_prepare = t0.elapsed().as_secs_f64();
    let t1 = std::time::Instant::now();
    let env = Arc::new(environment(opts.templates.as_deref())?);
    // Every figure is in `prepared` (no polars from here on). Each school's view model is
    // built, rendered and dropped in turn, so memory stays flat however many schools there
    // are. Typst's layout recurses deeply: render on threads with large stacks.
    //
    // Each worker takes the next school from a shared counter rather than from a split
    // `par_iter`: Typst parallelises its own layout on the same pool, and a worker waiting
    // on that would otherwise steal whole booklets and nest them without end.
    let pool = rayon::ThreadPoolBuilder::new().stack_size(64 << 20).build()?;
    let next = std::sync::atomic::AtomicUsize::new(0);
    let done: std::sync::Mutex<Vec<(usize, Result<IndexRow, String>)>> = std::sync::Mutex::new(Vec::with_capacity(chosen.len()));
    pool.broadcast(|_| loop {
        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let Some(s) = chosen.get(i) else { break };
        // A panic in one school's rendering is that school's failure, not the run's.
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| render_one(&prepared.booklet(s, &la_info), &env, opts))).unwrap_or_else(|_| Err(format!("URN {}: rendering panicked", s.urn)));
        done.lock().unwrap_or_else(|e| e.into_inner()).push((i, r));
    });
    let mut results = done.into_inner().unwrap_or_else(|e| e.into_inner());
    results.sort_by_key(|(i, _)| *i);
    let results = results.into_iter().map(|(_, r)| r);

    let mut rows = Vec::new();
    let mut failed = Vec::new();
    for r in results {
        match r {
            Ok(row) => rows.push(row),
            Err(e) => failed.push(e),
        }
    }
    let index = env
        .get_template("index.html.j2")?
        .render(minijinja::context! { la_name => if la_info.name.is_empty() { "All local authorities".to_string() } else { la_info.name.clone() }, year_label => crate::year::academic_label(opts.year), colour => la_info.colour, schools => minijinja::Value::from(minijinja::value::Serde(&rows)), failed => failed.len() })?;
    crate::atomic::write_atomic(&opts.out.join("index.html"), index.as_bytes())?;
    let summary = RunSummary { written: rows.len(), failed, seconds_prepare, seconds_render: t1.elapsed().as_secs_f64() };
    if !summary.failed.is_empty() {
        return Err(RenderFailures { total: summary.written + summary.failed.len(), failures: summary.failed.clone() }.into());
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
        crate::atomic::write_atomic(&html_path, html.as_bytes()).map_err(|e| format!("{who}: {e}"))?;
    }
    if opts.pdf {
        let pdf = render_pdf(env, b).map_err(|e| format!("{who}: {e}"))?;
        crate::atomic::write_atomic(&pdf_path, &pdf).map_err(|e| format!("{who}: {e}"))?;
    }
    let head = b.key_stages.first().and_then(|k| k.rows.first());
    let rel = |p: &Path| p.strip_prefix(&opts.out).unwrap_or(p).display().to_string();
    Ok(IndexRow {
        urn: b.school.urn.clone(),
        name: b.school.name.clone(),
        phase: b.school.phase.clone(),
        headline: head.map(|h| h.label.clone()).unwrap_or_default(),
        value: head.map(|h| h.school.clone()).unwrap_or_default(),
        national: head.map(|h| h.national.clone()).unwrap_or_default(),
        ofsted: b.ofsted.as_ref().map(|o| o.judgement.clone()).unwrap_or_default(),
        html: if opts.html { rel(&html_path) } else { String::new() },
        pdf: if opts.pdf { rel(&pdf_path) } else { String::new() },
    })
}

/// Only a #rrggbb colour reaches the templates (it is written into CSS and Typst).
pub fn safe_colour(c: &str) -> String {
    let ok = c.len() == 7 && c.starts_with('#') && c[1..].chars().all(|x| x.is_ascii_hexdigit());
    if ok { c.to_string() } else { "#1f4e79".into() }
}

#[cfg(test)]
mod tests {
    use super::model::*;
    use super::*;

    fn awkward() -> Booklet {
        let name = "St Mary & St John's <script>alert(1)</script> \"#1\" $5 *x* @y [z] مدرسة";
        Booklet {
            school: SchoolInfo { urn: "100001".into(), name: name.into(), la_code: "../850".into(), la_name: "Hants & <b>Co</b>".into(), phase: "primary".into(), school_type: "#type".into(), maintained: "LA maintained".into(), slug: slug(name) },
            la: LaInfo { code: "850".into(), name: "A \"quoted\" $LA".into(), colour: safe_colour("red;}</style>"), neighbours_model: 2021, logo: None },
            year: 2019,
            year_label: "2018/19".into(),
            next_year_label: "2019/20".into(),
            versions: vec!["KS2: final".into()],
            context: vec![],
            key_stages: vec![],
            gaps: vec![],
            pupil_gaps: vec![PupilGapView { measure: "ks2_rwm_expected".into(), label: "RWM <expected> & $more".into(), group_id: "lac".into(), group: "Looked after #[x] (n=c)".into(), value: "c".into(), comparison_value: "c".into(), gap: "c".into(), la_value: "37.5".into(), significance: String::new(), trend: "*new*".into() }],
            attendance: vec![],
            ofsted: None,
            targets: vec![],
            last_targets: vec![],
            notes: Notes { sources: vec!["a_b*c#.csv".into()], symbols: vec![("SUPP".into(), "suppressed".into())], methods: vec!["gap = group - comparison [sic]".into()] },
        }
    }

    #[test]
    fn markup_in_names_is_escaped_in_html_and_pdf() {
        let env = environment(None).unwrap();
        let b = awkward();
        let html = render_html(&env, &b).unwrap();
        assert!(!html.contains("<script>alert"), "script tag escaped");
        assert!(html.contains("St Mary &amp; St John&#x27;s &lt;script&gt;"));
        assert!(!html.contains("red;}</style>"), "only #rrggbb colours reach the CSS");
        assert!(html.contains("<th colspan=\"7\" scope=\"rowgroup\">RWM &lt;expected&gt; &amp; $more</th>"), "pupil-data rows are escaped too");
        assert!(html.contains("<td>Looked after #[x] (n=c)</td><td>c</td>"));
        let pdf = render_pdf(&env, &b).unwrap();
        assert!(pdf.starts_with(b"%PDF-"));
        // The path stays inside the output directory whatever the codes and name contain.
        let p = output_path(Path::new("/out"), &b, "pdf");
        assert_eq!(p, Path::new("/out/850/100001-st-mary-st-john-s-script-alert-1-script-1-5-x-y-z.pdf"));
    }
}
