//! The booklet's view model: one serde structure per school that both the HTML and the
//! PDF templates read. Everything printed is computed here (or in `analysis`), so a
//! figure traces back: template field -> this builder -> measure id -> catalogue.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use crate::analysis::aggregate::Pool;
use crate::analysis::data::Data;
use crate::analysis::gaps::gap_between;
use crate::analysis::rank::{neighbour_standing, standings, Polarity, Top10Rule};
use crate::analysis::significance::{percent_vs_reference, progress_significance, Significance};
use crate::analysis::target_returns::against;
use crate::analysis::targets::{ambitious, fifth, fit, pupils_needed, shortfall, TargetModel};
use crate::analysis::trend::gap_trend;
use crate::analysis::unpublished::not_published;
use crate::catalogue::Measure;
use crate::store::frame::{self, ResultRecord};
use crate::store::schema::{SchoolRow, TargetRow as TargetRowStored, ENGLAND};
use crate::value::round_half_away;
use crate::year::academic_label;

/// The smallest group whose figures a booklet prints (DfE withholds 1-5 pupils the same way).
pub const MIN_GROUP: f64 = 6.0;

#[derive(Debug, Clone, Serialize)]
pub struct Booklet {
    pub school: SchoolInfo,
    pub la: LaInfo,
    pub year: i32,
    pub year_label: String,
    pub next_year_label: String,
    pub versions: Vec<String>,
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
                return Err(err(format!("the logo is {w} x {h} pixels; at most {} pixels (4096 x 4096) are read: scale it down", limits::LOGO_PIXELS)));
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
    pub national: String,
    pub sn_average: String,
    pub percentile: String,
    pub significance: String,
    pub cohort: String,
    /// Why no figure is printed, where DfE published none that year (empty otherwise):
    /// printed in place of the figures.
    pub reason: String,
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

/// A suggested target's figures, unformatted: what the booklet prints and the target form holds.
#[derive(Debug, Clone, PartialEq)]
pub struct TargetFigures {
    pub measure: String,
    /// This year's figure and its pupils.
    pub current: f64,
    pub cohort: Option<f64>,
    /// Next year's estimate and its 95% prediction range (percentages kept within 0-100).
    pub estimate: Option<f64>,
    pub range: Option<(f64, f64)>,
    /// The best 20% and best 5% of similar schools.
    pub best20: Option<f64>,
    pub best5: Option<f64>,
    /// The LA's national top-10% threshold and the neighbours' top quartile.
    pub top10: Option<f64>,
    pub sn_top_quartile: Option<f64>,
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

/// Format a figure for print by its measure's unit and decimal places.
pub fn fmt(m: Option<&Measure>, v: Option<f64>) -> String {
    let Some(v) = v else { return String::new() };
    let dps = m.map(|m| m.dps).unwrap_or(1);
    let r = round_half_away(v, dps);
    let s = format!("{:.*}", dps as usize, r);
    match m.map(|m| m.unit.as_str()) {
        Some("percent") => format!("{s}%"),
        Some("progress") if r > 0.0 => format!("+{s}"),
        Some("count") => format!("{}", r as i64),
        _ => s,
    }
}

fn shown(m: Option<&Measure>, r: Option<&ResultRecord>) -> String {
    match r {
        Some(r) if r.value.is_some() => fmt(m, r.value),
        Some(r) if r.status != "ok" && r.status != "blank" => r.status.clone(),
        _ => "–".into(),
    }
}

type Key = (String, String, i32, &'static str);

/// Everything a run of booklets needs, read from the store once.
pub struct Prepared<'a> {
    pub data: &'a Data<'a>,
    pub year: i32,
    pub years: Vec<i32>,
    pub model: i32,
    rows: HashMap<Key, BTreeMap<String, ResultRecord>>,
    by_phase: HashMap<(String, i32, String), ResultRecord>,
    /// DfE's LA rows split by phase (per-LA census and absence downloads): (measure, year, LA, phase).
    la_by_phase: HashMap<(String, i32, String, String), ResultRecord>,
    pub schools: Vec<SchoolRow>,
    inspections: HashMap<String, crate::analysis::inspection::SchoolInspections>,
    neighbours: BTreeMap<String, Vec<String>>,
    positions: HashMap<(String, i32), HashMap<String, crate::analysis::position::Position>>,
    targets: HashMap<String, TargetModel>,
    /// LA figures rebuilt from school rows, by (measure, year, LA, phase), for files with no LA rows.
    la_built: HashMap<(String, i32, String, String), f64>,
    /// Per measure: sorted %FSM6 of schools (to find a school's fifth), and the 80th/95th
    /// percentiles of this year's figure among schools of each phase and fifth.
    similar: HashMap<
        String,
        (
            Vec<f64>,
            HashMap<(String, usize), (Option<f64>, Option<f64>)>,
        ),
    >,
    /// Pupil-data gap rows by URN (disclosure control applied), when pupil files are given.
    pupil_gaps: HashMap<String, Vec<PupilGapView>>,
    pupil_groups: Vec<String>,
    pupil_threshold: u64,
    /// Targets imported for this year, by URN.
    agreed: HashMap<String, Vec<TargetRowStored>>,
}

/// Measures and groups the booklet's pupil-data table shows: the groups published files
/// do not give a school (looked after, SEN by type, ethnic groups, prior attainment,
/// disadvantaged boys and girls).
pub const PUPIL_GAP_MEASURES: [&str; 6] = [
    "phonics_expected",
    "ks1_writ_expected",
    "ks2_rwm_expected",
    "ks2_writ_expected",
    "ks4_attainment8",
    "ks4_em_grade5",
];
pub const PUPIL_GAP_GROUPS: [&str; 12] = [
    "lac",
    "sen_support",
    "ehcp",
    "white",
    "mixed",
    "asian",
    "black",
    "other_ethnic",
    "prior_low",
    "prior_high",
    "disadvantaged+boys",
    "disadvantaged+girls",
];

pub const KS2_HEADLINES: [&str; 7] = [
    "ks2_rwm_expected",
    "ks2_rwm_higher",
    "ks2_read_progress",
    "ks2_writ_progress",
    "ks2_mat_progress",
    "ks2_read_avg_score",
    "ks2_mat_avg_score",
];
pub const KS4_HEADLINES: [&str; 5] = [
    "ks4_attainment8",
    "ks4_progress8",
    "ks4_em_grade5",
    "ks4_em_grade4",
    "ks4_ebacc_aps",
];
pub const CONTEXT: [&str; 6] = [
    "census_pupils",
    "census_fsm_pct",
    "census_fsm6_pct",
    "census_eal_pct",
    "census_sen_support_pct",
    "census_ehcp_pct",
];
pub const ATTENDANCE: [&str; 2] = ["absence_overall", "absence_persistent"];
/// The measures a school gets suggested targets (and a target form row) for: the headline ones.
pub fn target_measures(cat: &crate::catalogue::Catalogue) -> Vec<&'static str> {
    KS2_HEADLINES
        .iter()
        .chain(KS4_HEADLINES.iter())
        .copied()
        .filter(|m| cat.measure(m).is_some_and(|x| x.headline))
        .collect()
}
/// Measures whose gaps between groups the booklet shows.
pub const GAP_MEASURES: [&str; 8] = [
    "ks2_rwm_expected",
    "ks2_rwm_higher",
    "ks2_read_progress",
    "ks2_writ_progress",
    "ks2_mat_progress",
    "ks4_attainment8",
    "ks4_progress8",
    "ks4_em_grade5",
];
const GROUPS: [&str; 13] = [
    "all",
    "disadvantaged",
    "not_disadvantaged",
    "fsm",
    "not_fsm",
    "sen",
    "no_sen",
    "eal",
    "not_eal",
    "boys",
    "girls",
    "lac",
    "cin",
];

impl<'a> Prepared<'a> {
    pub fn new(data: &'a Data<'a>, year: i32, model: i32) -> anyhow::Result<Prepared<'a>> {
        let years: Vec<i32> = (year - 2..=year).collect();
        let measures: Vec<String> = KS2_HEADLINES
            .iter()
            .chain(KS4_HEADLINES.iter())
            .chain(CONTEXT.iter())
            .chain(ATTENDANCE.iter())
            .map(|s| s.to_string())
            .collect();
        let t = std::time::Instant::now();
        let all = frame::query_results_in(data.store.scan("results")?, &measures, &GROUPS, &years)?;
        tracing::info!(
            "booklet figures: {} rows read in {:.2} s",
            all.len(),
            t.elapsed().as_secs_f64()
        );
        let mut raw: HashMap<Key, Vec<ResultRecord>> = HashMap::new();
        let mut by_phase = HashMap::new();
        let mut la_phase_rows: HashMap<(String, i32, String, String), Vec<ResultRecord>> =
            HashMap::new();
        for r in all {
            if r.level == "national"
                && r.phase != "all"
                && r.scope == "state_funded"
                && r.group == "all"
            {
                by_phase
                    .entry((r.measure.clone(), r.year, r.phase.clone()))
                    .or_insert_with(|| r.clone());
            }
            if r.scope != "state_funded" || !GROUPS.contains(&r.group.as_str()) {
                continue;
            }
            if r.level == "la" && r.phase != "all" {
                if r.group == "all" {
                    la_phase_rows
                        .entry((r.measure.clone(), r.year, r.code.clone(), r.phase.clone()))
                        .or_default()
                        .push(r);
                }
                continue;
            }
            let level: &'static str = match r.level.as_str() {
                "school" => "school",
                "la" => "la",
                "national" if r.phase == "all" => "national",
                _ => continue,
            };
            raw.entry((r.measure.clone(), r.group.clone(), r.year, level))
                .or_default()
                .push(r);
        }
        let rows: HashMap<Key, BTreeMap<String, ResultRecord>> =
            raw.into_iter().map(|(k, v)| (k, data.pick(v))).collect();
        let la_by_phase = la_phase_rows
            .into_iter()
            .filter_map(|(k, v)| Some((k, data.pick(v).into_values().next()?)))
            .collect();
        tracing::info!(
            "booklet figures: sources chosen after {:.2} s",
            t.elapsed().as_secs_f64()
        );
        let schools = frame::schools_from_frame(&data.store.read("schools")?)?;
        // The inspections known by the end of the booklet's academic year, under either framework.
        let inspections =
            data.school_inspections(Some(crate::dates::days_from_civil(year as i64, 8, 31)))?;
        let neighbours = data.all_neighbours(model)?;
        let mut agreed: HashMap<String, Vec<TargetRowStored>> = HashMap::new();
        for t in data.store.targets()?.into_iter().filter(|t| t.year == year) {
            agreed.entry(t.urn.clone()).or_default().push(t);
        }
        let mut p = Prepared {
            data,
            year,
            years,
            model,
            rows,
            by_phase,
            la_by_phase,
            schools,
            inspections,
            neighbours,
            positions: HashMap::new(),
            targets: HashMap::new(),
            la_built: HashMap::new(),
            similar: HashMap::new(),
            pupil_gaps: HashMap::new(),
            pupil_groups: Vec::new(),
            pupil_threshold: 0,
            agreed,
        };
        p.la_built = p.build_la_figures();
        for m in KS2_HEADLINES
            .iter()
            .chain(KS4_HEADLINES.iter())
            .chain(ATTENDANCE.iter())
        {
            let pol = data.polarity(m)?.unwrap_or(Polarity::High);
            let Some(rows) = p.rows.get(&(m.to_string(), "all".into(), year, "school")) else {
                continue;
            };
            let mut vals: Vec<f64> = rows.values().filter_map(|r| r.value).collect();
            vals.sort_by(|a, b| a.total_cmp(b));
            let pos: HashMap<String, _> = rows
                .iter()
                .filter_map(|(u, r)| {
                    Some((
                        u.clone(),
                        crate::analysis::position::position(r.value?, &vals, pol)?,
                    ))
                })
                .collect();
            p.positions.insert((m.to_string(), year), pos);
            if let Some(model) = p.fit_target(m) {
                p.targets.insert(m.to_string(), model);
            }
            let similar = p.similar_schools(m, pol);
            p.similar.insert(m.to_string(), similar);
        }
        tracing::info!(
            "booklet figures: positions and target models after {:.2} s",
            t.elapsed().as_secs_f64()
        );
        Ok(p)
    }

    pub fn get(
        &self,
        m: &str,
        g: &str,
        y: i32,
        level: &'static str,
        code: &str,
    ) -> Option<&ResultRecord> {
        self.rows
            .get(&(m.to_string(), g.to_string(), y, level))
            .and_then(|x| x.get(code))
    }

    fn value(&self, m: &str, y: i32, code: &str) -> Option<f64> {
        self.get(m, "all", y, "school", code).and_then(|r| r.value)
    }

    fn context_x(&self, urn: &str, y: i32) -> Option<[f64; 3]> {
        Some([
            self.value("census_fsm6_pct", y, urn)?,
            self.value("census_eal_pct", y, urn)?,
            self.value("census_sen_support_pct", y, urn)?
                + self.value("census_ehcp_pct", y, urn).unwrap_or(0.0),
        ])
    }

    fn fit_target(&self, m: &str) -> Option<TargetModel> {
        let (t0, t1) = (self.year - 1, self.year);
        let now = self
            .rows
            .get(&(m.to_string(), "all".into(), t1, "school"))?;
        let mut rows = Vec::new();
        for (urn, r) in now {
            let (Some(y1), Some(y0)) = (r.value, self.value(m, t0, urn)) else {
                continue;
            };
            let Some(c) = self.context_x(urn, t1) else {
                continue;
            };
            rows.push(([1.0, y0, c[0], c[1], c[2]], y1));
        }
        fit(&rows)
    }

    /// LA-level figure: the LA row where files have one (for census and absence, the row of the
    /// school's phase), else rebuilt from the LA's school rows.
    fn la_value(&self, m: &str, y: i32, la: &str, phase: &str) -> Option<f64> {
        let key = |p: &str| (m.to_string(), y, la.to_string(), p.to_string());
        // Census and absence are compared within the school's phase: DfE's LA row for that
        // phase (withheld stays withheld), else the LA's schools of that phase pooled.
        if let Some(r) = self.la_by_phase.get(&key(phase)) {
            return r.value;
        }
        if phase != "all" {
            if let Some(v) = self.la_built.get(&key(phase)) {
                return Some(*v);
            }
        }
        self.get(m, "all", y, "la", la)
            .and_then(|r| r.value)
            .or_else(|| self.la_built.get(&key("all")).copied())
    }

    /// For measures whose files have no LA rows (census, absence): each LA's figure from its
    /// school rows, for each phase and for all phases. Counts are summed; rates use numerator
    /// over cohort where given, else are weighted by the school's cohort or pupils on roll.
    fn build_la_figures(&self) -> HashMap<(String, i32, String, String), f64> {
        let mut pools: HashMap<(String, i32, String, String), Pool> = HashMap::new();
        for ((m, g, y, level), rows) in &self.rows {
            if g != "all" || *level != "school" {
                continue;
            }
            let meas = self.data.catalogue.measure(m);
            let sum = meas.is_some_and(|x| x.aggregate == "sum");
            let scale = if meas.is_some_and(|x| x.unit == "percent") {
                100.0
            } else {
                1.0
            };
            for r in rows.values() {
                let Some(la) = r.la_code.as_ref() else {
                    continue;
                };
                // Unrounded from the numerator where the file gives it; weighted by the cohort,
                // else by pupils on roll, else equally.
                let value = match (r.numerator, r.cohort) {
                    (Some(n), Some(c)) if c > 0.0 && !sum => Some(n / c * scale),
                    _ => r.value,
                };
                let weight = r
                    .cohort
                    .or_else(|| self.value("census_pupils", *y, &r.code))
                    .or(Some(1.0));
                for phase in [r.phase.as_str(), "all"] {
                    pools
                        .entry((m.clone(), *y, la.clone(), phase.to_string()))
                        .or_insert_with(|| Pool::new(sum))
                        .add(value, weight);
                }
            }
        }
        pools
            .into_iter()
            .filter_map(|(k, p)| Some((k, p.value()?)))
            .collect()
    }

    fn similar_schools(
        &self,
        m: &str,
        pol: Polarity,
    ) -> (
        Vec<f64>,
        HashMap<(String, usize), (Option<f64>, Option<f64>)>,
    ) {
        let Some(rows) = self
            .rows
            .get(&(m.to_string(), "all".into(), self.year, "school"))
        else {
            return (vec![], HashMap::new());
        };
        let mut fs: Vec<f64> = rows
            .keys()
            .filter_map(|u| self.value("census_fsm6_pct", self.year, u))
            .collect();
        fs.sort_by(|a, b| a.total_cmp(b));
        let mut groups: HashMap<(String, usize), Vec<f64>> = HashMap::new();
        for (u, r) in rows {
            if let (Some(v), Some(f)) = (r.value, self.value("census_fsm6_pct", self.year, u)) {
                groups
                    .entry((r.phase.clone(), fifth(&fs, f)))
                    .or_default()
                    .push(v);
            }
        }
        let q = ambitious(groups, pol);
        (fs, q)
    }

    /// England: the state-funded national row of the school's phase where the files split by
    /// phase (census, absence), else the all-phase row.
    fn national_value(&self, m: &str, y: i32, phase: &str) -> Option<f64> {
        match self.by_phase.get(&(m.to_string(), y, phase.to_string())) {
            Some(r) => r.value,
            None => self
                .get(m, "all", y, "national", ENGLAND)
                .and_then(|r| r.value),
        }
    }

    fn sn_values(&self, m: &str, y: i32, la: &str) -> Vec<Option<f64>> {
        self.neighbours
            .get(la)
            .map(|l| {
                l.iter()
                    .map(|n| self.get(m, "all", y, "la", n).and_then(|r| r.value))
                    .collect()
            })
            .unwrap_or_default()
    }

    fn compare_row(&self, m: &str, urn: &str, la: &str, phase: &str) -> CompareRow {
        let meas = self.data.catalogue.measure(m);
        let y = self.year;
        let rec = self.get(m, "all", y, "school", urn);
        let la_v = self.la_value(m, y, la, phase);
        let nat = self.national_value(m, y, phase);
        let sn = self.sn_values(m, y, la);
        let sn_avg = (!sn.is_empty())
            .then(|| neighbour_standing(la_v, &sn, Polarity::High).sn_average)
            .flatten();
        let pos = self
            .positions
            .get(&(m.to_string(), y))
            .and_then(|p| p.get(urn));
        let sig = match (meas.map(|m| m.unit.as_str()), rec) {
            (Some("percent"), Some(r)) => match (r.value, r.cohort, nat) {
                (Some(v), Some(c), Some(n)) if c >= MIN_GROUP => percent_vs_reference(v, c, n).0,
                _ => Significance::NotAssessed,
            },
            (Some("progress"), Some(r)) if r.value.is_some() => {
                progress_significance(r.ci_low, r.ci_high)
            }
            _ => Significance::NotAssessed,
        };
        // A year DfE published nothing for this measure: say why instead of a bare dash.
        let nothing = rec.and_then(|r| r.value).is_none() && la_v.is_none() && nat.is_none();
        let reason = if nothing {
            not_published(self.data.catalogue, m, "all", y, "school").unwrap_or_default()
        } else {
            String::new()
        };
        CompareRow {
            measure: m.into(),
            label: meas
                .map(|m| m.short_label().to_string())
                .unwrap_or_else(|| m.into()),
            reason,
            school: shown(meas, rec),
            la: fmt(meas, la_v),
            national: fmt(meas, nat),
            sn_average: fmt(meas, sn_avg),
            percentile: pos
                .map(|p| format!("{:.0} (Q{})", p.percentile, p.quintile))
                .unwrap_or_default(),
            significance: if sig == Significance::NotAssessed {
                String::new()
            } else {
                sig.label().to_string()
            },
            cohort: rec
                .and_then(|r| r.cohort)
                .map(|c| format!("{}", c as i64))
                .unwrap_or_default(),
        }
    }

    fn chart(&self, m: &str, urn: &str, la: &str, la_name: &str, phase: &str) -> Option<ChartView> {
        let meas = self.data.catalogue.measure(m)?;
        let series = vec![
            crate::render::chart::Series {
                label: "School".into(),
                points: self
                    .years
                    .iter()
                    .map(|&y| (y, self.value(m, y, urn)))
                    .collect(),
            },
            crate::render::chart::Series {
                label: la_name.to_string(),
                points: self
                    .years
                    .iter()
                    .map(|&y| (y, self.la_value(m, y, la, phase)))
                    .collect(),
            },
            crate::render::chart::Series {
                label: "England".into(),
                points: self
                    .years
                    .iter()
                    .map(|&y| (y, self.national_value(m, y, phase)))
                    .collect(),
            },
        ];
        let mut series = series;
        let neighbours: Vec<(i32, Option<f64>)> = self
            .years
            .iter()
            .map(|&y| {
                (
                    y,
                    neighbour_standing(None, &self.sn_values(m, y, la), Polarity::High).sn_average,
                )
            })
            .collect();
        if neighbours.iter().any(|p| p.1.is_some()) {
            series.push(crate::render::chart::Series {
                label: "Neighbours".into(),
                points: neighbours,
            });
        }
        if series[0].points.iter().all(|p| p.1.is_none()) {
            return None;
        }
        let breaks: Vec<(i32, String)> = self
            .years
            .iter()
            .flat_map(|&y| {
                self.data
                    .catalogue
                    .breaks_for(m, y)
                    .into_iter()
                    .map(move |b| (y, b.note.clone()))
            })
            .collect();
        let unit = match meas.unit.as_str() {
            "percent" => "% of pupils",
            "progress" => "progress score",
            _ => "score",
        };
        let (svg, alt) =
            crate::render::chart::trend_svg(meas.short_label(), unit, &series, &breaks, 460, 250)
                .ok()?;
        Some(ChartView {
            id: format!("chart-{m}"),
            title: meas.short_label().into(),
            svg,
            alt,
        })
    }

    /// One gap row: `group` against `comparison` in the same school, or against England's
    /// `comparison` pupils (DfE's DIFFN convention) when `national`. Figures about groups of
    /// fewer than MIN_GROUP pupils are not printed, nor any gap built on them.
    fn gap(
        &self,
        m: &str,
        urn: &str,
        group: &str,
        comparison: &str,
        national: bool,
    ) -> Option<GapView> {
        let meas = self.data.catalogue.measure(m)?;
        let percent = meas.unit == "percent";
        let small =
            |r: Option<&ResultRecord>| r.and_then(|r| r.cohort).is_some_and(|n| n < MIN_GROUP);
        let pair = |y: i32| -> (Option<&ResultRecord>, Option<&ResultRecord>) {
            let g = self.get(m, group, y, "school", urn);
            let c = if national {
                self.get(m, comparison, y, "national", ENGLAND)
            } else {
                self.get(m, comparison, y, "school", urn)
            };
            (g, c)
        };
        let gap_in = |y: i32| {
            let (g, c) = pair(y);
            if small(g) || (!national && small(c)) {
                return None;
            }
            gap_between(g?, c?, meas.dps, percent)
        };
        let (g_now, c_now) = pair(self.year);
        let g_now = g_now?;
        let now = gap_in(self.year);
        let history: Vec<(i32, Option<f64>)> = self
            .years
            .iter()
            .map(|&y| (y, gap_in(y).map(|f| f.gap)))
            .collect();
        let (trend, _) = gap_trend(&history);
        let label = |g: &str| {
            self.data
                .catalogue
                .group(g)
                .map(|x| x.label.clone())
                .unwrap_or_else(|| g.into())
        };
        let comparison_shown = match c_now {
            Some(c) if !national && small(Some(c)) => "SUPP".to_string(),
            other => shown(Some(meas), other),
        };
        Some(GapView {
            measure: m.into(),
            label: meas.short_label().into(),
            group_id: group.into(),
            comparison_id: comparison.into(),
            group: label(group),
            comparison: if national {
                format!("{} (England)", label(comparison))
            } else {
                label(comparison)
            },
            group_value: if small(Some(g_now)) {
                "SUPP".into()
            } else {
                shown(Some(meas), Some(g_now))
            },
            comparison_value: comparison_shown,
            gap: now
                .as_ref()
                .map(|f| format!("{:+.*}", meas.dps as usize, f.gap))
                .unwrap_or_else(|| "–".into()),
            significance: now
                .as_ref()
                .map(|f| f.significance)
                .filter(|s| *s != Significance::NotAssessed)
                .map(|s| s.label().to_string())
                .unwrap_or_default(),
            trend,
            reason: String::new(),
        })
    }

    /// The gaps a school's data supports for one measure: disadvantaged (within the school
    /// and against England's other pupils), FSM, SEN, EAL and gender, where published.
    fn gaps_for(&self, m: &str, urn: &str) -> Vec<GapView> {
        let mut out = Vec::new();
        out.extend(self.gap(m, urn, "disadvantaged", "not_disadvantaged", false));
        out.extend(self.gap(m, urn, "disadvantaged", "not_disadvantaged", true));
        for (group, complement) in [
            ("fsm", "not_fsm"),
            ("sen", "no_sen"),
            ("eal", "not_eal"),
            ("boys", "girls"),
        ] {
            // Where the complement is not published (EAL in performance tables), compare with all pupils.
            let has_complement = self
                .years
                .iter()
                .any(|&y| self.get(m, complement, y, "school", urn).is_some());
            out.extend(self.gap(
                m,
                urn,
                group,
                if has_complement { complement } else { "all" },
                false,
            ));
        }
        if out.is_empty() {
            // No gap because DfE published no such figures this year: one row saying why.
            if let (Some(reason), Some(meas)) = (
                not_published(self.data.catalogue, m, "disadvantaged", self.year, "school"),
                self.data.catalogue.measure(m),
            ) {
                let label = |g: &str| {
                    self.data
                        .catalogue
                        .group(g)
                        .map(|x| x.label.clone())
                        .unwrap_or_else(|| g.into())
                };
                out.push(GapView {
                    measure: m.into(),
                    label: meas.short_label().into(),
                    group_id: "disadvantaged".into(),
                    comparison_id: "not_disadvantaged".into(),
                    group: label("disadvantaged"),
                    comparison: label("not_disadvantaged"),
                    group_value: "–".into(),
                    comparison_value: "–".into(),
                    gap: "–".into(),
                    significance: String::new(),
                    trend: String::new(),
                    reason,
                });
            }
        }
        out
    }

    /// The suggested target's figures for one measure and school: the one computation behind
    /// the booklet's Targets section and the target forms.
    pub fn target_figures(&self, m: &str, urn: &str, la: &str) -> Option<TargetFigures> {
        let meas = self.data.catalogue.measure(m)?;
        let pol = Polarity::from_catalogue(&meas.polarity).unwrap_or(Polarity::High);
        let rec = self.get(m, "all", self.year, "school", urn)?;
        let current = rec.value?;
        let model = self.targets.get(m);
        let estimate = match (model, self.context_x(urn, self.year)) {
            (Some(md), Some(c)) => Some(md.estimate(&[1.0, current, c[0], c[1], c[2]])),
            _ => None,
        };
        let clamp = |v: f64| {
            if meas.unit == "percent" {
                v.clamp(0.0, 100.0)
            } else {
                v
            }
        };
        // Similar schools: same phase and the same fifth of schools by % disadvantaged.
        let (best20, best5) = match (
            self.value("census_fsm6_pct", self.year, urn),
            self.similar.get(m),
        ) {
            (Some(f), Some((fs, q))) => q
                .get(&(rec.phase.clone(), fifth(fs, f)))
                .copied()
                .unwrap_or((None, None)),
            _ => (None, None),
        };
        // LA-level aspirations: the national top-10% threshold and the neighbours' top quartile.
        let las: Vec<Option<f64>> = self
            .rows
            .get(&(m.to_string(), "all".into(), self.year, "la"))
            .map(|r| r.values().map(|x| x.value).collect())
            .unwrap_or_default();
        let top10 = standings(&las, pol, Top10Rule::RankCut)
            .first()
            .and_then(|s| s.top10_threshold);
        let sn_top_quartile =
            neighbour_standing(None, &self.sn_values(m, self.year, la), pol).sn_top_quartile;
        Some(TargetFigures {
            measure: m.into(),
            current,
            cohort: rec.cohort,
            estimate: estimate.map(clamp),
            range: match (estimate, model) {
                (Some(e), Some(md)) => {
                    let (lo, hi) = md.range(e);
                    Some((clamp(lo), clamp(hi)))
                }
                _ => None,
            },
            best20,
            best5,
            top10,
            sn_top_quartile,
        })
    }

    fn target(&self, m: &str, urn: &str, la: &str) -> Option<TargetRow> {
        let meas = self.data.catalogue.measure(m)?;
        let pol = Polarity::from_catalogue(&meas.polarity).unwrap_or(Polarity::High);
        let f = self.target_figures(m, urn, la)?;
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
                diff
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
            measure: m.into(),
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
        use crate::analysis::pupils::{gap_tables, released_by, GroupSpec, PupilQuery, Unit};
        let years: Vec<i32> = self.years.clone();
        let last = *years.last().unwrap_or(&self.year);
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
        for m in PUPIL_GAP_MEASURES {
            for g in PUPIL_GAP_GROUPS {
                if g.starts_with("prior_") && !m.starts_with("ks2") {
                    continue;
                }
                let group = GroupSpec::parse(g)?;
                asked.push((m, g, group.clone()));
                // The LA column shows this year's figure only.
                queries.push(PupilQuery {
                    measure: m,
                    group: group.clone(),
                    level: Unit::School,
                    years: years.clone(),
                    only: urns.to_vec(),
                    la: None,
                    threshold,
                });
                queries.push(PupilQuery {
                    measure: m,
                    group,
                    level: Unit::La,
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
        self.pupil_groups = PUPIL_GAP_GROUPS
            .iter()
            .flat_map(|g| g.split('+'))
            .map(str::to_string)
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        Ok(released)
    }

    /// The targets agreed for this year against the school's results, in the booklet's measure order.
    fn last_targets(&self, urn: &str) -> Vec<TargetCheckView> {
        let Some(agreed) = self.agreed.get(urn) else {
            return vec![];
        };
        let order = |m: &str| {
            KS2_HEADLINES
                .iter()
                .chain(KS4_HEADLINES.iter())
                .position(|x| *x == m)
                .unwrap_or(usize::MAX)
        };
        let mut agreed: Vec<&TargetRowStored> = agreed.iter().collect();
        agreed.sort_by(|a, b| {
            order(&a.measure)
                .cmp(&order(&b.measure))
                .then(a.measure.cmp(&b.measure))
        });
        agreed
            .into_iter()
            .map(|t| {
                let meas = self.data.catalogue.measure(&t.measure);
                let a = against(
                    meas,
                    t.target,
                    self.get(&t.measure, "all", self.year, "school", urn),
                );
                TargetCheckView {
                    measure: t.measure.clone(),
                    label: meas
                        .map(|m| m.short_label().to_string())
                        .unwrap_or_else(|| t.measure.clone()),
                    target: fmt(meas, Some(t.target)),
                    actual: a
                        .actual
                        .map(|v| fmt(meas, Some(v)))
                        .unwrap_or_else(|| "–".into()),
                    difference: a
                        .difference
                        .map(|d| format!("{:+.*}", meas.map(|m| m.dps).unwrap_or(1) as usize, d))
                        .unwrap_or_default(),
                    outcome: a.outcome,
                }
            })
            .collect()
    }

    /// The booklet for one school.
    pub fn booklet(&self, s: &SchoolRow, la_info: &LaInfo) -> Booklet {
        let urn = s.urn.as_str();
        let la = s.la_code.clone().unwrap_or_default();
        let la_name = s
            .la_name
            .clone()
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| self.data.name(&la));
        let has = |ms: &[&str]| {
            ms.iter().any(|m| {
                self.years
                    .iter()
                    .any(|&y| self.get(m, "all", y, "school", urn).is_some())
            })
        };
        let (ks2, ks4) = (has(&KS2_HEADLINES), has(&KS4_HEADLINES));
        let phase = s.phase.clone().unwrap_or_else(|| {
            if ks4 {
                "secondary".into()
            } else {
                "primary".into()
            }
        });
        let census_phase = self
            .get("census_pupils", "all", self.year, "school", urn)
            .map(|r| r.phase.clone())
            .unwrap_or_else(|| phase.clone());
        let mut key_stages = Vec::new();
        for (on, ks, title, list) in [
            (
                ks2,
                "ks2",
                "Key stage 2 (end of Year 6)",
                &KS2_HEADLINES[..],
            ),
            (
                ks4,
                "ks4",
                "Key stage 4 (end of Year 11)",
                &KS4_HEADLINES[..],
            ),
        ] {
            if !on {
                continue;
            }
            let rows: Vec<CompareRow> = list
                .iter()
                .map(|m| self.compare_row(m, urn, &la, &census_phase))
                .collect();
            let charts: Vec<ChartView> = list
                .iter()
                .filter(|m| self.data.catalogue.measure(m).is_some_and(|x| x.headline))
                .filter_map(|m| self.chart(m, urn, &la, &la_name, &census_phase))
                .collect();
            key_stages.push(KeyStageSection {
                key_stage: ks.into(),
                title: title.into(),
                rows,
                charts,
            });
        }
        let gaps: Vec<GapView> = key_stages
            .iter()
            .flat_map(|k| {
                GAP_MEASURES
                    .iter()
                    .filter(move |m| m.starts_with(&k.key_stage))
            })
            .flat_map(|m| self.gaps_for(m, urn))
            .collect();
        let targets: Vec<TargetRow> = key_stages
            .iter()
            .flat_map(|k| k.rows.iter().map(|r| r.measure.clone()))
            .filter(|m| self.data.catalogue.measure(m).is_some_and(|x| x.headline))
            .filter_map(|m| self.target(&m, urn, &la))
            .collect();
        let printed: Vec<String> = key_stages
            .iter()
            .flat_map(|k| k.rows.iter().map(|r| r.measure.clone()))
            .chain(CONTEXT.iter().chain(&ATTENDANCE).map(|m| m.to_string()))
            .collect();
        let sources = self.sources_for(&printed, urn, &la);
        let measures_shown: Vec<String> = targets.iter().map(|t| t.measure.clone()).collect();
        let pupil_gaps = self.pupil_gaps.get(urn).cloned().unwrap_or_default();
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
        let ofsted = self
            .inspections
            .get(urn)
            .and_then(crate::analysis::inspection::view);
        let mut versions = std::collections::BTreeSet::new();
        for k in &key_stages {
            for r in &k.rows {
                if let Some(rec) = self.get(&r.measure, "all", self.year, "school", urn) {
                    versions.insert(format!(
                        "{}: {}",
                        k.key_stage.to_uppercase(),
                        version_label(&rec.version)
                    ));
                }
            }
        }
        let maintained = match s.la_maintained {
            Some(true) => "LA maintained",
            Some(false) => "academy, free school or other",
            None => "not known",
        };
        Booklet {
            school: SchoolInfo {
                urn: urn.into(),
                name: s.name.clone().unwrap_or_default(),
                la_code: la.clone(),
                la_name: la_name.clone(),
                phase,
                school_type: s.school_type.clone().unwrap_or_default(),
                maintained: maintained.into(),
                slug: slug(s.name.as_deref().unwrap_or("school")),
            },
            la: LaInfo {
                name: if la_info.name.is_empty() {
                    la_name.clone()
                } else {
                    la_info.name.clone()
                },
                ..la_info.clone()
            },
            year: self.year,
            year_label: academic_label(self.year),
            next_year_label: academic_label(self.year + 1),
            versions: versions.into_iter().collect(),
            context: CONTEXT
                .iter()
                .map(|m| self.compare_row(m, urn, &la, &census_phase))
                .collect(),
            key_stages,
            gaps,
            pupil_gaps,
            attendance: ATTENDANCE
                .iter()
                .map(|m| self.compare_row(m, urn, &la, &census_phase))
                .collect(),
            ofsted,
            targets,
            last_targets: self.last_targets(urn),
            notes: self.notes(&measures_shown, &groups_shown, &sources),
        }
    }

    /// The files behind the figures printed for a school: its own rows, its LA's and England's.
    fn sources_for(&self, measures: &[String], urn: &str, la: &str) -> Vec<String> {
        let mut out = std::collections::BTreeSet::new();
        for m in measures {
            for y in &self.years {
                for r in [
                    self.get(m, "all", *y, "school", urn),
                    self.get(m, "all", *y, "la", la),
                    self.get(m, "all", *y, "national", ENGLAND),
                ]
                .into_iter()
                .flatten()
                {
                    let file = std::path::Path::new(&r.source_file)
                        .file_name()
                        .map(|f| f.to_string_lossy().to_string())
                        .unwrap_or_else(|| r.source_file.clone());
                    out.insert(format!(
                        "{file} ({}, {})",
                        r.dataset.replace('_', " "),
                        version_label(&r.version)
                    ));
                }
            }
        }
        out.into_iter().collect()
    }

    fn notes(&self, measures: &[String], groups: &[String], sources: &[String]) -> Notes {
        let symbols = crate::value::Status::ALL
            .iter()
            .filter(|s| **s != crate::value::Status::Ok && **s != crate::value::Status::Blank)
            .map(|s| (s.token().to_string(), s.meaning().to_string()))
            .chain(std::iter::once((
                "–".to_string(),
                "no figure for this school, LA or year".to_string(),
            )))
            .collect();
        let model_note = self
            .targets
            .iter()
            .filter(|(m, _)| measures.contains(m))
            .map(|(m, t)| {
                format!(
                    "{}: {}",
                    self.data
                        .catalogue
                        .measure(m)
                        .map(|x| x.short_label())
                        .unwrap_or(m),
                    t.describe()
                )
            })
            .collect::<std::collections::BTreeSet<_>>();
        let group_notes = groups
            .iter()
            .filter_map(|g| self.data.catalogue.group(g))
            .map(|g| format!("{}: {}", g.label, g.description));
        let mut methods = vec![
            "LA figures are DfE's LA rows where published; otherwise they are rebuilt from the LA's school rows, weighted by each school's cohort. National figures are for state-funded schools in England.".to_string(),
            "Significance: a school percentage is compared with England using a 95% Wilson interval; a gap between two groups with a 95% Newcombe interval; progress scores with their published 95% confidence intervals.".to_string(),
            "Gaps are the group's figure minus the comparison's: a negative gap means the group is behind. 'England' gaps compare with national pupils of the other group, as DfE's DIFFN measure does.".to_string(),
            format!("Percentile: the school's position among all schools in England with a figure (100 = highest, or lowest where lower is better). Figures for groups of fewer than {} pupils are not shown.", MIN_GROUP as i64),
            "Targets: the estimate for next year comes from a linear model fitted across all schools in England with figures in both of the last two years: next year's figure from this year's, the % of disadvantaged (FSM6) pupils, the % with EAL and the % with SEN. Its range is the model's 95% prediction interval. The best 20% and best 5% figures are the 80th and 95th percentiles among similar schools (same phase and the same fifth of schools by % disadvantaged). The LA top-10% threshold is the figure the LA would need to be among the top 10% of LAs; the neighbours' top quartile is the upper-quartile figure among the LA's statistical neighbours. Estimates are estimates, not predictions of any one pupil.".to_string(),
        ];
        if !self.pupil_gaps.is_empty() {
            methods.push(format!("Pupil-level figures come from the LA's own pupil files, not from published tables. Groups of 1 to {t} pupils are withheld (shown as c, with n=c), and so is any other figure that would let a withheld one be worked out by subtraction (from the school's total, the other groups, or the LA's figure). A group's gap is against the school's other pupils; the LA column is the same group across the LA's pupil files.", t = self.pupil_threshold));
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

/// How a data version is printed.
fn version_label(v: &str) -> &str {
    match v {
        "unknown" => "version not stated in the file",
        other => other,
    }
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
    fn formatting_by_unit() {
        let cat = crate::catalogue::Catalogue::builtin();
        assert_eq!(fmt(cat.measure("ks2_rwm_expected"), Some(67.75)), "68%");
        assert_eq!(fmt(cat.measure("ks4_attainment8"), Some(47.576)), "47.6");
        assert_eq!(fmt(cat.measure("ks2_read_progress"), Some(1.25)), "+1.3");
        assert_eq!(fmt(cat.measure("ks4_progress8"), Some(-0.184)), "-0.18");
        assert_eq!(fmt(cat.measure("census_pupils"), Some(285.0)), "285");
    }
}
