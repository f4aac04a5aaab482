//! The booklet's view model: one serde structure per school that both the HTML and the
//! PDF templates read. Everything printed is computed here (or in `analysis`), so a
//! figure traces back: template field -> this builder -> measure id -> catalogue.

use std::collections::HashMap;

use serde::Serialize;

use crate::analysis::comparators::{Basis, Comparator};
use crate::analysis::data::Data;
use crate::analysis::gaps::GapRow;
pub use crate::analysis::gaps::MIN_GROUP;
use crate::analysis::rank::Polarity;
pub use crate::analysis::school_profile::TargetFigures;
use crate::analysis::school_profile::{Figure, ProfileInputs};
use crate::analysis::significance::Significance;
use crate::analysis::target_returns::Achieved;
use crate::analysis::targets::{pupils_needed, shortfall};
use crate::catalogue::Measure;
use crate::store::schema::{SchoolRow, TargetRow as TargetRowStored};
use crate::year::academic_label;

/// Printed after an LA figure pooled from the LA's schools.
pub const POOLED_MARK: &str = "†";
/// Printed after LA and England figures that are not of the school's own phase.
pub const OTHER_PHASE_MARK: &str = "‡";
/// Where the comparator rules are written down (shipped with attain).
pub const METHODS_DOC: &str = "docs/methods.md";

/// Which marks a booklet's tables use (their meanings go in the notes).
struct Marks {
    pooled: bool,
    other_phase: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Booklet {
    pub school: SchoolInfo,
    pub la: LaInfo,
    pub year: i32,
    pub year_label: String,
    pub next_year_label: String,
    pub versions: Vec<String>,
    /// Page one: headline figures, strengths and areas to investigate.
    pub summary: SummaryView,
    pub context: Vec<CompareRow>,
    pub key_stages: Vec<KeyStageSection>,
    pub gaps: Vec<GapView>,
    /// Gaps only the LA's pupil-level data can give (looked after, ethnicity, combined
    /// groups), disclosure control already applied. Empty without pupil data.
    pub pupil_gaps: Vec<PupilGapView>,
    pub attendance: Vec<CompareRow>,
    pub ofsted: Option<OfstedView>,
    pub targets: Vec<TargetRow>,
    /// Targets agreed for this booklet's results year, against the results (empty: none imported).
    pub last_targets: Vec<TargetCheckView>,
    pub notes: Notes,
    /// The booklet has attainment figures: a key stage's results, or pupil-level figures.
    /// Without them it has context, attendance and Ofsted only (an infant or nursery
    /// school), and the run says which booklets those were.
    pub has_attainment: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct SchoolInfo {
    pub urn: String,
    pub name: String,
    pub la_code: String,
    pub la_name: String,
    pub phase: String,
    pub school_type: String,
    pub maintained: String,
    pub slug: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct LaInfo {
    pub code: String,
    /// The authority publishing the booklets (empty: each school's own LA).
    pub name: String,
    pub colour: String,
    pub neighbours_model: i32,
    pub logo: Option<Logo>,
}

/// The LA's logo (SVG or PNG from the pipeline's `[la] logo`), inline in HTML, embedded in the PDF.
#[derive(Debug, Clone, Serialize)]
pub struct Logo {
    /// Name the PDF template loads it by (`logo.svg` / `logo.png`).
    pub file: String,
    /// `data:` URI for the HTML template.
    pub data_uri: String,
    #[serde(skip)]
    pub bytes: Vec<u8>,
}

impl Logo {
    pub fn read(path: &std::path::Path) -> Result<Logo, crate::error::ConfigError> {
        use base64::Engine as _;
        let err = |m: String| crate::error::ConfigError::new(path.display().to_string(), m);
        let ext = path
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        let mime = match ext.as_str() {
            "svg" => "image/svg+xml",
            "png" => "image/png",
            _ => return Err(err("the logo must be an .svg or .png file".into())),
        };
        // Only a regular file of modest size: a named pipe would block for ever, and a huge
        // image would be decoded whole into memory by the PDF renderer.
        use crate::ingest::table::limits;
        let meta = std::fs::metadata(path).map_err(|e| err(e.to_string()))?;
        if let Some(kind) = crate::ingest::table::not_regular(&meta) {
            return Err(err(format!("the logo is {kind}, not a regular file")));
        }
        if meta.len() > limits::LOGO_BYTES {
            return Err(err(format!(
                "the logo is {} bytes; at most {} (4 MiB) are read",
                meta.len(),
                limits::LOGO_BYTES
            )));
        }
        let bytes = crate::ingest::table::read_input(path).map_err(|e| err(e.message))?;
        if ext == "png" {
            let mut decoder = png::Decoder::new(std::io::Cursor::new(&bytes));
            decoder.set_limits(png::Limits { bytes: usize::MAX });
            // The header alone: nothing is decoded.
            let info = decoder
                .read_header_info()
                .map_err(|e| err(format!("not a readable PNG: {e}")))?;
            let (w, h) = (info.width as u64, info.height as u64);
            if w * h > limits::LOGO_PIXELS {
                return Err(err(format!(
                    "the logo is {w} x {h} pixels; at most {} pixels (4096 x 4096) are \
                    read: scale it down",
                    limits::LOGO_PIXELS
                )));
            }
        }
        let data_uri = format!(
            "data:{mime};base64,{}",
            base64::engine::general_purpose::STANDARD.encode(&bytes)
        );
        Ok(Logo {
            file: format!("logo.{ext}"),
            data_uri,
            bytes,
        })
    }
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct CompareRow {
    pub measure: String,
    pub label: String,
    pub school: String,
    pub la: String,
    /// The LA figure is pooled from the LA's schools (printed with POOLED_MARK).
    pub la_pooled: bool,
    pub national: String,
    /// The LA and England figures are not of the school's phase (OTHER_PHASE_MARK).
    pub other_phase: bool,
    pub sn_average: String,
    pub percentile: String,
    pub significance: String,
    pub cohort: String,
    /// Why no figure is printed, where DfE published none that year (empty otherwise):
    /// printed in place of the figures.
    pub reason: String,
    /// The pupil group, for rows of a section by group (empty: all pupils).
    pub group: String,
    /// For a figure about few pupils: its three-year figure, labelled ("3 yrs: 64%", or
    /// "3 yrs pooled: 25.9" where attain pooled it; the notes say how). Empty otherwise.
    pub three_year: String,
}

/// Page one for print (`analysis::summary`).
#[derive(Debug, Clone, Serialize, Default)]
pub struct SummaryView {
    pub headline: Vec<HeadlineView>,
    pub strengths: Vec<SentenceView>,
    pub areas: Vec<SentenceView>,
}

/// A headline measure's row on page one.
#[derive(Debug, Clone, Serialize)]
pub struct HeadlineView {
    pub measure: String,
    pub label: String,
    /// The section printing it (anchor id and title).
    pub section: String,
    pub section_title: String,
    pub school: String,
    pub la: String,
    pub national: String,
    /// "up +3 since 2016/17", empty when there is nothing to compare.
    pub direction: String,
    /// Arrow for the direction (▲ up, ▼ down, ► level).
    pub direction_symbol: String,
    /// better, worse, same or empty, by the measure's polarity.
    pub direction_tone: String,
    /// "Q2" (top fifth = Q1), with among how many schools when not national.
    pub quintile: String,
    /// "significantly above" ... (empty: not assessed).
    pub significance: String,
    /// ▲ above, ▼ below, ● not different: printed beside the word, so it reads in grey.
    pub significance_symbol: String,
    /// good, bad or neutral (the colour), by the measure's polarity.
    pub significance_tone: String,
}

/// A strength or area to investigate, with the section its figures are in.
#[derive(Debug, Clone, Serialize)]
pub struct SentenceView {
    pub text: String,
    pub section: String,
    pub section_title: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ChartView {
    pub id: String,
    pub title: String,
    pub svg: String,
    pub alt: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct KeyStageSection {
    pub key_stage: String,
    pub title: String,
    pub rows: Vec<CompareRow>,
    pub charts: Vec<ChartView>,
    /// The comparators printed (catalogue/booklet.toml `compare`).
    pub compare: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct GapView {
    pub measure: String,
    pub label: String,
    /// Group ids (catalogue), for tracing and the notes' glossary.
    pub group_id: String,
    pub comparison_id: String,
    pub group: String,
    pub comparison: String,
    pub group_value: String,
    pub comparison_value: String,
    pub gap: String,
    pub significance: String,
    pub trend: String,
    /// Why there is no gap, where DfE published none that year (empty otherwise).
    pub reason: String,
}

/// One row of the pupil-data gaps table. `group` carries the group size as `n=K`
/// (`n=c` when withheld), the label the disclosure audit reads.
#[derive(Debug, Clone, Serialize)]
pub struct PupilGapView {
    pub measure: String,
    pub label: String,
    pub group_id: String,
    pub group: String,
    pub value: String,
    pub comparison_value: String,
    pub gap: String,
    pub la_value: String,
    pub significance: String,
    pub trend: String,
    /// Printed instead of a row: the groups of this measure withheld in every column
    /// ("7 groups are too small to show: ..."). Empty for an ordinary row.
    pub note: String,
    /// The group's name without its size, for that line.
    #[serde(skip)]
    pub group_name: String,
}

/// The Ofsted section: built in `analysis::inspection` (the latest inspection in its own framework's terms).
pub use crate::analysis::inspection::OfstedView;

#[derive(Debug, Clone, Serialize)]
pub struct TargetRow {
    pub measure: String,
    pub label: String,
    pub current: String,
    pub estimate: String,
    pub interval: String,
    pub best20: String,
    pub best5: String,
    pub to_top10: String,
    pub to_sn_top_quartile: String,
}

/// An agreed target against the result (`analysis::target_returns::against`), for print.
#[derive(Debug, Clone, Serialize)]
pub struct TargetCheckView {
    pub measure: String,
    pub label: String,
    pub target: String,
    pub actual: String,
    pub difference: String,
    pub outcome: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Notes {
    pub sources: Vec<String>,
    pub symbols: Vec<(String, String)>,
    pub methods: Vec<String>,
}

/// Format a figure for print by its measure's unit and decimal places (`crate::number`).
pub fn fmt(m: Option<&Measure>, v: Option<f64>) -> String {
    crate::number::format_measure(m, v)
}

/// A figure as printed: the value, else the file's token for a withheld figure, else "–".
fn shown(m: Option<&Measure>, value: Option<f64>, status: &str) -> String {
    match value {
        Some(v) => fmt(m, Some(v)),
        None if !matches!(status, "ok" | "blank" | "no_data") => status.to_string(),
        None => "–".into(),
    }
}

/// Everything a run of booklets needs: the figures (`analysis::school_profile`), read from
/// the store once, and the pupil-data gaps when pupil files are given.
pub struct Prepared<'a> {
    pub data: &'a Data<'a>,
    pub inputs: ProfileInputs<'a>,
    /// Pupil-data gap rows by URN (disclosure control applied), when pupil files are given.
    pupil_gaps: HashMap<String, Vec<PupilGapView>>,
    pupil_groups: Vec<String>,
    pupil_threshold: u64,
}

/// The measures a school gets suggested targets (and a target form row) for.
pub fn target_measures(cat: &crate::catalogue::Catalogue) -> Vec<&str> {
    cat.booklet.target_measures()
}

impl<'a> Prepared<'a> {
    pub fn new(data: &'a Data<'a>, year: i32, model: i32) -> anyhow::Result<Prepared<'a>> {
        let inputs = ProfileInputs::new(data, year, model)?;
        Ok(Prepared {
            data,
            inputs,
            pupil_gaps: HashMap::new(),
            pupil_groups: Vec::new(),
            pupil_threshold: 0,
        })
    }

    /// The suggested target's figures (`analysis::school_profile`).
    pub fn target_figures(&self, m: &str, urn: &str, la: &str) -> Option<TargetFigures> {
        self.inputs.target_figures(m, urn, la)
    }

    fn label(&self, m: &str) -> String {
        self.data
            .catalogue
            .measure(m)
            .map(|x| x.short_label().to_string())
            .unwrap_or_else(|| m.into())
    }

    fn group_label(&self, g: &str) -> String {
        self.data
            .catalogue
            .group(g)
            .map(|x| x.label.clone())
            .unwrap_or_else(|| g.into())
    }

    fn compare_row(&self, f: &Figure) -> CompareRow {
        let meas = self.data.catalogue.measure(&f.measure);
        let value = |c: &Option<Comparator>| fmt(meas, c.as_ref().and_then(|c| c.value));
        let group = if f.group == "all" {
            String::new()
        } else {
            self.group_label(&f.group)
        };
        CompareRow {
            measure: f.measure.clone(),
            label: if group.is_empty() {
                self.label(&f.measure)
            } else {
                format!("{} ({})", self.label(&f.measure), group.to_lowercase())
            },
            group,
            three_year: f
                .three_year
                .as_ref()
                // Never a figure about fewer pupils than a one-year figure may be.
                .filter(|t| t.cohort.is_none_or(|c| c >= MIN_GROUP))
                .map(|t| {
                    format!(
                        "{}: {}",
                        if t.published { "3 yrs" } else { "3 yrs pooled" },
                        fmt(meas, Some(t.value)),
                    )
                })
                .unwrap_or_default(),
            reason: f.reason.clone().unwrap_or_default(),
            school: shown(meas, f.value, &f.status),
            la: value(&f.la),
            la_pooled: f
                .la
                .as_ref()
                .is_some_and(|c| c.basis == Basis::LaPooled && c.value.is_some()),
            national: value(&f.england),
            other_phase: [&f.la, &f.england]
                .iter()
                .any(|c| c.as_ref().is_some_and(|c| !c.same_phase)),
            sn_average: value(&f.neighbours),
            percentile: f
                .percentile
                .as_ref()
                .map(|p| {
                    let rank = format!("{:.0} (Q{})", p.percentile, p.quintile);
                    match (p.national, p.peers) {
                        (true, "schools") => rank,
                        (true, peers) => format!("{rank} among {peers}"),
                        (false, peers) => format!("{rank} of {} {peers}", p.among),
                    }
                })
                .unwrap_or_default(),
            significance: if f.significance == Significance::NotAssessed {
                String::new()
            } else {
                f.significance.label().to_string()
            },
            cohort: f
                .cohort
                .map(|c| format!("{}", c as i64))
                .unwrap_or_default(),
        }
    }

    fn chart(&self, series: &[Figure], la_name: &str) -> Option<ChartView> {
        let first = series.first()?;
        let m = first.measure.as_str();
        let meas = self.data.catalogue.measure(m)?;
        let line =
            |label: &str, pick: &dyn Fn(&Figure) -> Option<f64>| crate::render::chart::Series {
                label: label.to_string(),
                points: series.iter().map(|f| (f.year, pick(f))).collect(),
            };
        let value_of = |c: &Option<Comparator>| c.as_ref().and_then(|c| c.value);
        let mut lines = vec![
            line("School", &|f| f.value),
            line(la_name, &|f| value_of(&f.la)),
            line("England", &|f| value_of(&f.england)),
        ];
        let neighbours = line("Neighbours", &|f| value_of(&f.neighbours));
        if neighbours.points.iter().any(|p| p.1.is_some()) {
            lines.push(neighbours);
        }
        let years: Vec<i32> = series.iter().map(|f| f.year).collect();
        let breaks: Vec<(i32, String)> =
            crate::analysis::series_breaks::SeriesOf::new(self.data.catalogue, m, "all", "school")
                .chart_breaks(&years)
                .into_iter()
                .map(|b| (b.year, b.note))
                .collect();
        let unit = match meas.unit.as_str() {
            "percent" => "% of pupils",
            "progress" => "progress score",
            _ => "score",
        };
        // Progress scores carry their confidence interval, drawn as a whisker per year.
        let intervals: Vec<(i32, f64, f64)> = series
            .iter()
            .filter(|f| f.value.is_some())
            .filter_map(|f| f.ci.map(|(lo, hi)| (f.year, lo, hi)))
            .collect();
        let (svg, mut alt) = crate::render::chart::trend_svg_with_intervals(
            meas.short_label(),
            unit,
            &lines,
            &intervals,
            &breaks,
            460,
            250,
        )
        .ok()?;
        // Years taken from a predecessor school or a prior-year column say so.
        for f in series.iter().filter(|f| f.value.is_some()) {
            if let Some(from) = &f.from {
                alt.push_str(&format!(" School {}: {from}.", academic_label(f.year)));
            }
        }
        Some(ChartView {
            id: format!("chart-{m}"),
            title: meas.short_label().into(),
            svg,
            alt,
        })
    }

    /// A gap row for print: figures about fewer than MIN_GROUP pupils are shown as SUPP.
    fn gap_view(&self, r: &GapRow) -> GapView {
        let meas = self.data.catalogue.measure(&r.measure);
        let (comparison, national) = match r.comparison.strip_prefix("national ") {
            Some(c) => (c.to_string(), true),
            None => (r.comparison.clone(), false),
        };
        let small = |n: Option<f64>| n.is_some_and(|n| n < MIN_GROUP);
        GapView {
            measure: r.measure.clone(),
            label: self.label(&r.measure),
            group_id: r.group.clone(),
            comparison_id: comparison.clone(),
            group: self.group_label(&r.group),
            comparison: if national {
                format!("{} (England)", self.group_label(&comparison))
            } else {
                self.group_label(&comparison)
            },
            group_value: if small(r.group_cohort) {
                "SUPP".into()
            } else {
                shown(meas, r.group_value, &r.group_status)
            },
            comparison_value: if !national && small(r.comparison_cohort) {
                "SUPP".into()
            } else {
                shown(meas, r.comparison_value, &r.comparison_status)
            },
            gap: r
                .gap
                .map(|g| crate::number::format_gap(meas, Some(g)))
                .unwrap_or_else(|| "–".into()),
            significance: if r.gap.is_some() && r.significance != Significance::NotAssessed.label()
            {
                r.significance.clone()
            } else {
                String::new()
            },
            trend: r.trend.clone(),
            // A year DfE published none of these figures: the reason replaces the row.
            reason: if r.group_status == "no_data" {
                r.reason.clone().unwrap_or_default()
            } else {
                String::new()
            },
        }
    }
    /// Add the gaps only pupil-level data can give, with disclosure control applied here,
    /// before anything is rendered, jointly over every figure the booklets of `urns` show
    /// (and what `earlier` says was released before). School figures are compared with the
    /// school's other pupils, and set beside the same group across the LA's pupil files.
    /// Returns what is released.
    pub fn add_pupil_data(
        &mut self,
        pupils: &[crate::ingest::pupils::Pupil],
        means: Option<&crate::analysis::pupils::PriorMeans>,
        places: &crate::analysis::pupils::Places,
        threshold: u64,
        urns: &[String],
        earlier: &[crate::analysis::pupils::Released],
    ) -> anyhow::Result<Vec<crate::analysis::pupils::Released>> {
        use crate::analysis::pupils::{gap_tables, released_by, GroupSpec, PupilQuery};
        use crate::level::Level;
        let years: Vec<i32> = self.inputs.years.clone();
        let last = *years.last().unwrap_or(&self.inputs.year);
        let las: Vec<String> = urns
            .iter()
            .filter_map(|u| u.parse::<u32>().ok())
            .map(|u| {
                places
                    .schools
                    .get(&u)
                    .and_then(|s| s.1.clone())
                    .unwrap_or_else(|| "all".into())
            })
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let c = |v: Option<f64>, suppressed: bool, dps: usize| {
            if suppressed {
                crate::analysis::disclosure::SYMBOL.to_string()
            } else {
                v.map(|x| format!("{x:.dps$}"))
                    .unwrap_or_else(|| "–".into())
            }
        };
        // (measure, group, school query, LA query)
        let mut asked = Vec::new();
        let mut queries = Vec::new();
        let wanted = &self.data.catalogue.booklet.pupil_gaps;
        for m in wanted.measures.iter().map(String::as_str) {
            for g in wanted.groups.iter().map(String::as_str) {
                if g.starts_with("prior_") && !m.starts_with("ks2") {
                    continue;
                }
                let group = GroupSpec::parse(g)?;
                asked.push((m, g, group.clone()));
                // The LA column shows this year's figure only.
                queries.push(PupilQuery {
                    measure: m,
                    group: group.clone(),
                    level: Level::School,
                    years: years.clone(),
                    only: urns.to_vec(),
                    la: None,
                    threshold,
                });
                queries.push(PupilQuery {
                    measure: m,
                    group,
                    level: Level::La,
                    years: vec![last],
                    only: las.clone(),
                    la: None,
                    threshold,
                });
            }
        }
        let (tables, _) = gap_tables(pupils, &queries, means, places, earlier)?;
        let released: Vec<_> = tables.iter().flat_map(|rows| released_by(rows)).collect();
        for ((m, g, group), pair) in asked.into_iter().zip(tables.chunks(2)) {
            let percent = !m.contains("attainment8");
            let dps = if percent { 1 } else { 2 };
            let label = self
                .data
                .catalogue
                .measure(m)
                .map(|x| x.short_label().to_string())
                .unwrap_or_else(|| m.to_string());
            let la_value: HashMap<String, (Option<f64>, bool)> = pair[1]
                .iter()
                .map(|r| (r.code.clone(), (r.value, r.suppressed())))
                .collect();
            for r in &pair[0] {
                let sup = r.suppressed();
                let la = r.la.clone().unwrap_or_else(|| "all".into());
                // No LA row (no pupils of the group in the LA's files): nothing to show.
                let (lv, lsup) = la_value.get(&la).cloned().unwrap_or((None, false));
                let n = if sup {
                    crate::analysis::disclosure::SYMBOL.to_string()
                } else {
                    r.cohort.map(|n| n.to_string()).unwrap_or_default()
                };
                self.pupil_gaps
                    .entry(r.code.clone())
                    .or_default()
                    .push(PupilGapView {
                        measure: m.to_string(),
                        label: label.clone(),
                        group_id: g.to_string(),
                        group: format!("{} (n={n})", group.label(self.data.catalogue)),
                        group_name: group.label(self.data.catalogue),
                        note: String::new(),
                        value: c(r.value, sup, dps),
                        comparison_value: c(r.comparison_value, sup, dps),
                        gap: c(r.gap, sup, dps),
                        la_value: c(lv, lsup, dps),
                        significance: if sup {
                            String::new()
                        } else {
                            r.significance.clone()
                        },
                        trend: r.trend.clone(),
                    });
            }
        }
        self.pupil_threshold = threshold;
        self.pupil_groups = wanted
            .groups
            .iter()
            .flat_map(|g| g.split('+'))
            .map(str::to_string)
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        Ok(released)
    }

    /// The booklet for one school: its profile, formatted.
    pub fn booklet(&self, s: &SchoolRow, la_info: &LaInfo) -> Booklet {
        let p = self.inputs.profile(s);
        let urn = p.urn.as_str();
        let rows = |kind: &str| -> Vec<CompareRow> {
            p.sections
                .iter()
                .filter(|x| x.kind == kind)
                .flat_map(|x| x.figures.iter().map(|f| self.compare_row(f)))
                .collect()
        };
        let sections = |kinds: &[&str]| -> Vec<KeyStageSection> {
            p.sections
                .iter()
                .filter(|x| kinds.contains(&x.kind.as_str()) && x.shown)
                .map(|x| KeyStageSection {
                    key_stage: x.id.clone(),
                    title: x.title.clone(),
                    rows: x.figures.iter().map(|f| self.compare_row(f)).collect(),
                    charts: x
                        .charts
                        .iter()
                        .filter_map(|c| self.chart(c, &p.la_name))
                        .collect(),
                    compare: x.compare.clone(),
                })
                .collect()
        };
        // Key stages and other tables of figures, in the contents' order.
        let key_stages = sections(&["key_stage", "table"]);
        let gaps: Vec<GapView> = p.gaps.iter().map(|r| self.gap_view(r)).collect();
        let targets: Vec<TargetRow> = p.targets.iter().filter_map(|f| self.target(f)).collect();
        let pupil_gaps = collapse_withheld(self.pupil_gaps.get(urn).cloned().unwrap_or_default());
        let groups_shown: Vec<String> = gaps
            .iter()
            .flat_map(|g| [g.group_id.clone(), g.comparison_id.clone()])
            .chain(if pupil_gaps.is_empty() {
                vec![]
            } else {
                self.pupil_groups.clone()
            })
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let measures_shown: Vec<String> = targets.iter().map(|t| t.measure.clone()).collect();
        let sources: Vec<String> = p
            .sources
            .iter()
            .map(|src| {
                let file = std::path::Path::new(&src.file)
                    .file_name()
                    .map(|f| f.to_string_lossy().to_string())
                    .unwrap_or_else(|| src.file.clone());
                format!(
                    "{file} ({}, {})",
                    src.dataset.replace('_', " "),
                    version_label(&src.version)
                )
            })
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let context = rows("context");
        let attendance = rows("attendance");
        let printed = || {
            context
                .iter()
                .chain(&attendance)
                .chain(key_stages.iter().flat_map(|k| &k.rows))
        };
        let three_years = printed().any(|r| !r.three_year.is_empty());
        let marks = Marks {
            pooled: printed().any(|r| r.la_pooled),
            other_phase: printed().any(|r| r.other_phase),
        };
        let maintained = match s.la_maintained {
            Some(true) => "Maintained by the local authority",
            Some(false) => "Not maintained by the local authority",
            None => "Maintenance not known",
        };
        let types = &self.data.catalogue.school_types;
        let has_attainment =
            p.sections.iter().any(|x| x.kind == "key_stage" && x.shown) || !pupil_gaps.is_empty();
        Booklet {
            school: SchoolInfo {
                urn: urn.into(),
                name: s.name.clone().unwrap_or_default(),
                la_code: p.la.clone(),
                la_name: p.la_name.clone(),
                phase: types.phase_name(&p.phase),
                school_type: types
                    .name(s.school_type.as_deref().unwrap_or("type not known"))
                    .to_string(),
                maintained: maintained.into(),
                slug: slug(s.name.as_deref().unwrap_or("school")),
            },
            la: LaInfo {
                name: if la_info.name.is_empty() {
                    p.la_name.clone()
                } else {
                    la_info.name.clone()
                },
                ..la_info.clone()
            },
            year: p.year,
            year_label: academic_label(p.year),
            next_year_label: academic_label(p.year + 1),
            summary: self.summary_view(&p.summary),
            versions: p.versions.iter().filter_map(|v| version_line(v)).collect(),
            context,
            key_stages,
            gaps,
            pupil_gaps,
            attendance,
            ofsted: p.ofsted.clone(),
            targets,
            last_targets: p
                .agreed
                .iter()
                .map(|(t, a)| self.target_check(t, a))
                .collect(),
            notes: {
                let mut n = self.notes(&measures_shown, &groups_shown, &sources, &marks);
                if three_years {
                    n.methods.push(format!(
                        "Small cohorts: a figure about fewer than {} pupils has its three-year figure ({} to \
                            {}) beneath it. \"3 yrs\" is DfE's own three-year figure; \"3 yrs pooled\" is \
                            worked out by attain from each year's published figure and cohort (the \
                            cohort-weighted average), only where all three years are published and comparable.",
                        self.data.catalogue.booklet.small_cohorts.below,
                        academic_label(p.year - 2),
                        academic_label(p.year)
                    ));
                }
                n
            },
            has_attainment,
        }
    }

    /// Page one, formatted: the profile's figures as the sections print them.
    fn summary_view(&self, s: &crate::analysis::summary::Summary) -> SummaryView {
        let sentence = |x: &crate::analysis::summary::Sentence| SentenceView {
            text: x.text.clone(),
            section: x.section.clone(),
            section_title: x.section_title.clone(),
        };
        SummaryView {
            headline: s
                .headline
                .iter()
                .map(|h| {
                    let f = &h.figure;
                    let meas = self.data.catalogue.measure(&f.measure);
                    let row = self.compare_row(f);
                    let high = meas.is_none_or(|m| m.polarity != "low");
                    let (sig_symbol, sig_tone) = match f.significance {
                        Significance::Above => ("▲", if high { "good" } else { "bad" }),
                        Significance::Below => ("▼", if high { "bad" } else { "good" }),
                        Significance::NotDifferent => ("●", "neutral"),
                        Significance::NotAssessed => ("", ""),
                    };
                    let (direction, symbol, tone) = match &h.direction {
                        Some(d) => (
                            if d.word == "level" {
                                format!("level since {}", academic_label(d.from_year))
                            } else {
                                format!(
                                    "{} {} since {}",
                                    d.word,
                                    crate::number::format_gap(meas, Some(d.change.abs()))
                                        .trim_start_matches('+'),
                                    academic_label(d.from_year)
                                )
                            },
                            match d.word {
                                "up" => "▲",
                                "down" => "▼",
                                _ => "►",
                            }
                            .to_string(),
                            d.tone.to_string(),
                        ),
                        None => Default::default(),
                    };
                    HeadlineView {
                        measure: f.measure.clone(),
                        label: row.label.clone(),
                        section: h.section.clone(),
                        section_title: h.section_title.clone(),
                        school: row.school.clone(),
                        la: row.la.clone(),
                        national: row.national.clone(),
                        direction,
                        direction_symbol: symbol,
                        direction_tone: tone,
                        quintile: f
                            .percentile
                            .as_ref()
                            .map(|p| {
                                if p.national && p.peers == "schools" {
                                    format!("Q{}", p.quintile)
                                } else {
                                    format!("Q{} ({} {})", p.quintile, p.among, p.peers)
                                }
                            })
                            .unwrap_or_default(),
                        significance: row.significance.clone(),
                        significance_symbol: sig_symbol.into(),
                        significance_tone: sig_tone.into(),
                    }
                })
                .collect(),
            strengths: s.strengths.iter().map(sentence).collect(),
            areas: s.areas.iter().map(sentence).collect(),
        }
    }

    fn target_check(&self, t: &TargetRowStored, a: &Achieved) -> TargetCheckView {
        let meas = self.data.catalogue.measure(&t.measure);
        TargetCheckView {
            measure: t.measure.clone(),
            label: self.label(&t.measure),
            target: fmt(meas, Some(t.target)),
            actual: a
                .actual
                .map(|v| fmt(meas, Some(v)))
                .unwrap_or_else(|| "–".into()),
            difference: a
                .difference
                .map(|d| crate::number::format_gap(meas, Some(d)))
                .unwrap_or_default(),
            outcome: a.outcome.clone(),
        }
    }

    fn target(&self, f: &TargetFigures) -> Option<TargetRow> {
        let meas = self.data.catalogue.measure(&f.measure)?;
        let pol = Polarity::from_catalogue(&meas.polarity).unwrap_or(Polarity::High);
        let current = f.current;
        let need = |target: Option<f64>| -> String {
            let Some(t) = target else {
                return String::new();
            };
            let diff = shortfall(current, t, pol);
            if diff <= 0.0 {
                return format!("already there ({})", fmt(Some(meas), Some(t)));
            }
            let mut s = format!(
                "{} (+{:.*} points)",
                fmt(Some(meas), Some(t)),
                meas.dps.max(1) as usize,
                crate::number::round(diff, meas.dps.max(1))
            );
            if meas.unit == "percent" {
                if let Some(c) = f.cohort {
                    let pupils = pupils_needed(diff, c);
                    s.push_str(&format!(
                        ": {pupils} more pupil{} reaching it",
                        if pupils == 1 { "" } else { "s" }
                    ));
                }
            }
            s
        };
        Some(TargetRow {
            measure: f.measure.clone(),
            label: meas.short_label().into(),
            current: fmt(Some(meas), Some(current)),
            estimate: f
                .estimate
                .map(|e| format!("{} (estimate)", fmt(Some(meas), Some(e))))
                .unwrap_or_else(|| "no estimate".into()),
            interval: f
                .range
                .map(|(lo, hi)| {
                    format!(
                        "{} to {}",
                        fmt(Some(meas), Some(lo)),
                        fmt(Some(meas), Some(hi))
                    )
                })
                .unwrap_or_default(),
            best20: fmt(Some(meas), f.best20),
            best5: fmt(Some(meas), f.best5),
            to_top10: need(f.top10),
            to_sn_top_quartile: need(f.sn_top_quartile),
        })
    }

    fn notes(
        &self,
        measures: &[String],
        groups: &[String],
        sources: &[String],
        marks: &Marks,
    ) -> Notes {
        let symbols = crate::value::Status::ALL
            .iter()
            .filter(|s| **s != crate::value::Status::Ok && **s != crate::value::Status::Blank)
            .map(|s| (s.token().to_string(), s.meaning().to_string()))
            .chain(std::iter::once((
                "–".to_string(),
                "no figure for this school, LA or year".to_string(),
            )))
            .chain(marks.pooled.then(|| {
                (
                    POOLED_MARK.to_string(),
                    "LA figure pooled from the LA's schools (no file gives DfE's LA figure)".to_string(),
                )
            }))
            .chain(marks.other_phase.then(|| {
                (
                    OTHER_PHASE_MARK.to_string(),
                    "LA and England figures are for all state-funded schools: none are published for special \
                        schools alone".to_string(),
                )
            }))
            .collect();
        let model_note = self
            .inputs
            .target_models()
            .iter()
            .filter(|(m, _)| measures.contains(m))
            .map(|(m, t)| model_in_words(&self.label(m), self.data.catalogue.measure(m), t))
            .collect::<std::collections::BTreeSet<_>>();
        // A group whose description only repeats its name ("Boys") needs no note.
        let group_notes = groups
            .iter()
            .filter_map(|g| self.data.catalogue.group(g))
            .filter(|g| !g.description.trim().eq_ignore_ascii_case(g.label.trim()))
            .map(|g| format!("{}: {}", g.label, g.description));
        let mut methods = vec![
            format!("How each figure and comparator is chosen is set out in {METHODS_DOC}, in attain's documentation."),
            "England is the state-funded national figure of the school's phase where DfE publishes one by \
                phase (census, absence), otherwise of all phases, as the performance tables publish it (the \
                figure DfE's own comparisons use). LA figures are DfE's LA rows where published; otherwise \
                they are pooled from the LA's school rows, weighted by each school's cohort, and marked.".to_string(),
            "Significance: a school percentage is compared with England using a 95% Wilson interval; a gap \
                between two groups with a 95% Newcombe interval; progress scores with their published 95% \
                confidence intervals.".to_string(),
            "Gaps are the group's figure minus the comparison's: a negative gap means the group is behind. \
                'England' gaps compare with national pupils of the other group, as DfE's DIFFN measure does. \
                Trends cover this year and the two before; a year with no figures is left as a gap, never \
                joined across.".to_string(),
            format!("Percentile: the school's position among schools with a figure (100 = highest, or lowest \
                where lower is better); special schools are placed among special schools. It is national only \
                where the figures cover all of England; otherwise the number of schools it is among is given. \
                Figures for groups of fewer than {} pupils are not shown.", MIN_GROUP as i64),
        ];
        // Only a booklet with targets explains how they are set.
        if !measures.is_empty() {
            methods.push(
                "Targets: the estimate for next year comes from a linear model fitted across the schools in \
                    the store with figures in both of the last two years (how many is given with each model \
                    below): next year's figure from this year's, the % of disadvantaged (FSM6) pupils, the % \
                    with EAL and the % with SEN. Its range is the model's 95% prediction interval. The best \
                    20% and best 5% figures are the 80th and 95th percentiles among similar schools (same \
                    phase and the same fifth of schools by % disadvantaged). The LA top-10% threshold is the \
                    figure the LA would need to be among the top 10% of LAs; the neighbours' top quartile is \
                    the upper-quartile figure among the LA's statistical neighbours. Estimates are estimates, \
                    not predictions of any one pupil.".to_string(),
            );
        }
        if !self.pupil_gaps.is_empty() {
            methods.push(format!("Pupil-level figures come from the LA's own pupil files, not from published \
                tables. Groups of 1 to {t} pupils are withheld (shown as c, with n=c), and so is any other \
                figure that would let a withheld one be worked out by subtraction (from the school's total, \
                the other groups, or the LA's figure). A group's gap is against the school's other pupils; \
                the LA column is the same group across the LA's pupil files.", t = self.pupil_threshold));
        }
        methods.extend(model_note);
        methods.extend(group_notes);
        Notes {
            sources: sources.to_vec(),
            symbols,
            methods,
        }
    }
}

/// A target model in words for the notes: what each input adds to the estimate, per 10
/// percentage points of the school's context, and how far schools typically end from it.
fn model_in_words(
    label: &str,
    m: Option<&Measure>,
    t: &crate::analysis::targets::TargetModel,
) -> String {
    use crate::number::{format, Style};
    let dps = crate::number::dps_of(m) + 1;
    let points = if m.is_some_and(|m| m.unit == "percent") {
        "percentage points"
    } else {
        "points"
    };
    let effect = |b: f64, who: &str| {
        let per10 = crate::number::round(10.0 * b, dps);
        if per10 == 0.0 {
            format!("is unchanged by the share of {who}")
        } else {
            format!(
                "is {} {} for every 10 percentage points more {who}",
                format(per10.abs(), dps, "", Style::Plain),
                if per10 > 0.0 { "higher" } else { "lower" }
            )
        }
    };
    format!(
        "{label}: the estimate is fitted on {} schools. Each point of this year's figure carries {} of a \
            point into next year's; next year's figure {}, {} and {}. Two schools in three end within {} \
            {points} of their estimate.",
        t.n,
        format(t.coef[1], 2, "", Style::Plain),
        effect(t.coef[2], "disadvantaged (FSM6) pupils"),
        effect(t.coef[3], "pupils with English as an additional language"),
        effect(t.coef[4], "pupils with special educational needs"),
        format(t.residual_sd, dps, "", Style::Plain),
    )
}

/// Rows whose school figures are all withheld become one line per measure ("7 groups are
/// too small to show at this school: ..."), printed after the measure's other rows: a wall
/// of "c" says nothing a head can use.
fn collapse_withheld(rows: Vec<PupilGapView>) -> Vec<PupilGapView> {
    let empty = |v: &str| v == crate::analysis::disclosure::SYMBOL || v == "–" || v.is_empty();
    let withheld = |r: &PupilGapView| {
        [&r.value, &r.comparison_value, &r.gap]
            .iter()
            .all(|v| empty(v))
    };
    let mut out: Vec<PupilGapView> = Vec::new();
    let mut i = 0;
    while i < rows.len() {
        let label = rows[i].label.clone();
        let block: Vec<&PupilGapView> = rows[i..].iter().take_while(|r| r.label == label).collect();
        i += block.len();
        let (gone, kept): (Vec<&PupilGapView>, Vec<&PupilGapView>) =
            block.into_iter().partition(|r| withheld(r));
        out.extend(kept.into_iter().cloned());
        if let Some(first) = gone.first() {
            let names: Vec<&str> = gone.iter().map(|r| r.group_name.as_str()).collect();
            let n = names.len();
            out.push(PupilGapView {
                group: String::new(),
                value: String::new(),
                comparison_value: String::new(),
                gap: String::new(),
                la_value: String::new(),
                significance: String::new(),
                trend: String::new(),
                group_id: String::new(),
                note: format!(
                    "{} {} too small to show at this school: {}",
                    if n == 1 {
                        "1 group".to_string()
                    } else {
                        format!("{n} groups")
                    },
                    if n == 1 { "is" } else { "are" },
                    names.join(", ")
                ),
                ..(*first).clone()
            });
        }
    }
    out
}

/// How a data version is printed.
fn version_label(v: &str) -> &str {
    match v {
        "unknown" => "version not stated in the file",
        other => other,
    }
}

/// A key stage's data version as page one prints it ("KS2: final" -> "Key stage 2: final");
/// none where the file does not say (the line would tell the reader nothing).
fn version_line(v: &str) -> Option<String> {
    let (ks, ver) = v.split_once(": ")?;
    if ver == "unknown" {
        return None;
    }
    let stage = match ks.strip_prefix("KS") {
        Some(n) => format!("Key stage {n}"),
        None => ks.to_string(),
    };
    Some(format!("{stage}: {ver}"))
}

/// A file-name-safe slug: ASCII letters and digits joined by hyphens, at most 60 characters.
pub fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
        if out.len() >= 60 {
            break;
        }
    }
    let s = out.trim_matches('-').to_string();
    if s.is_empty() {
        "school".into()
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_safe() {
        assert_eq!(
            slug("St Mary & St John's CE Primary"),
            "st-mary-st-john-s-ce-primary"
        );
        assert_eq!(slug("../../etc/passwd"), "etc-passwd");
        assert_eq!(slug("<script>"), "script");
        assert_eq!(slug("مدرسة"), "school");
        assert!(slug(&"a".repeat(500)).len() <= 60);
    }

    #[test]
    fn a_target_model_is_described_in_words() {
        let cat = crate::catalogue::Catalogue::builtin();
        let model = crate::analysis::targets::TargetModel {
            coef: [12.0, 0.712, -0.18, 0.034, 0.001],
            residual_sd: 9.14,
            n: 514,
        };
        assert_eq!(
            model_in_words("KS2 RWM expected standard", cat.measure("ks2_rwm_expected"), &model),
            "KS2 RWM expected standard: the estimate is fitted on 514 schools. Each point of this year's \
                figure carries 0.71 of a point into next year's; next year's figure is 1.8 lower for every 10 \
                percentage points more disadvantaged (FSM6) pupils, is 0.3 higher for every 10 percentage \
                points more pupils with English as an additional language and is unchanged by the share of \
                pupils with special educational needs. Two schools in three end within 9.1 percentage points \
                of their estimate."
        );
    }

    #[test]
    fn formatting_by_unit() {
        let cat = crate::catalogue::Catalogue::builtin();
        assert_eq!(fmt(cat.measure("ks2_rwm_expected"), Some(67.75)), "68%");
        assert_eq!(fmt(cat.measure("ks4_attainment8"), Some(47.576)), "47.6");
        assert_eq!(fmt(cat.measure("ks2_read_progress"), Some(1.25)), "+1.3");
        assert_eq!(fmt(cat.measure("ks4_progress8"), Some(-0.184)), "-0.18");
        assert_eq!(fmt(cat.measure("census_pupils"), Some(285.0)), "285");
    }
}
