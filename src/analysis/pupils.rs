//! Figures built from pupil-level data: any measure, for any pupil group or combination
//! of groups (`disadvantaged+boys`), at school, partnership or LA level, with the gap to
//! the rest of the unit's pupils, its significance, and disclosure control applied.
//!
//! Measure ids are the catalogue's (`ks2_rwm_expected`, `ks2_read_progress` ...), group
//! ids are the catalogue's (`disadvantaged`, `lac`, `asian` ...), so a pupil-level figure
//! sits beside the published one. Definitions are in docs/pupil-data.md.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use serde::Serialize;

use super::disclosure::{self, Reason};
use super::significance::{gap_significance, newcombe, Significance};
use super::trend::gap_trend;
use crate::error::{ConfigError, IngestError};
use crate::ingest::pupils::{Ethnicity, KeyStage, Phonics, Pupil, Sen, Test, TA_EXPECTED, TA_NOT_COUNTED};
use crate::value::round_half_away;

/// One way of splitting pupils: each pupil has exactly one value on each dimension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Dimension {
    Disadvantage,
    Fsm,
    Lac,
    Sen,
    SenType,
    Eal,
    Gender,
    Ethnicity,
    Prior,
}

/// Group id -> (dimension, value). `all` has no dimension.
const GROUPS: &[(&str, Dimension, u32)] = &[
    ("not_disadvantaged", Dimension::Disadvantage, 0),
    ("disadvantaged", Dimension::Disadvantage, 1),
    ("not_fsm", Dimension::Fsm, 0),
    ("fsm", Dimension::Fsm, 1),
    ("not_lac", Dimension::Lac, 0),
    ("lac", Dimension::Lac, 1),
    ("no_sen", Dimension::Sen, 0),
    ("sen", Dimension::Sen, 1),
    ("sen_support", Dimension::SenType, 1),
    ("ehcp", Dimension::SenType, 2),
    ("not_eal", Dimension::Eal, 0),
    ("eal", Dimension::Eal, 1),
    ("girls", Dimension::Gender, 0),
    ("boys", Dimension::Gender, 1),
    ("white", Dimension::Ethnicity, 0),
    ("mixed", Dimension::Ethnicity, 1),
    ("asian", Dimension::Ethnicity, 2),
    ("black", Dimension::Ethnicity, 3),
    ("chinese", Dimension::Ethnicity, 4),
    ("other_ethnic", Dimension::Ethnicity, 5),
    ("unclassified", Dimension::Ethnicity, 6),
    ("prior_none", Dimension::Prior, 0),
    ("prior_low", Dimension::Prior, 1),
    ("prior_middle", Dimension::Prior, 2),
    ("prior_high", Dimension::Prior, 3),
];

/// Every group id pupil data can answer for.
pub fn group_ids() -> Vec<&'static str> {
    std::iter::once("all").chain(GROUPS.iter().map(|g| g.0)).collect()
}

fn value_on(d: Dimension, p: &Pupil) -> u32 {
    match d {
        Dimension::Disadvantage => p.disadvantaged as u32,
        Dimension::Fsm => p.fsm as u32,
        Dimension::Lac => p.lac as u32,
        Dimension::Sen => (p.sen != Sen::None) as u32,
        Dimension::SenType => match p.sen {
            Sen::None => 0,
            Sen::Support => 1,
            Sen::Ehcp => 2,
        },
        Dimension::Eal => p.eal as u32,
        Dimension::Gender => p.boy as u32,
        Dimension::Ethnicity => match p.ethnicity {
            Ethnicity::White => 0,
            Ethnicity::Mixed => 1,
            Ethnicity::Asian => 2,
            Ethnicity::Black => 3,
            Ethnicity::Chinese => 4,
            Ethnicity::Other => 5,
            Ethnicity::Unclassified => 6,
        },
        // KS2 prior attainment bands from the KS1 average point score (DfE's bands).
        Dimension::Prior => match p.ks1_aps {
            None => 0,
            Some(a) if a < 12.0 => 1,
            Some(a) if a < 18.0 => 2,
            Some(_) => 3,
        },
    }
}

/// A group or a combination of groups, e.g. `disadvantaged+boys`.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupSpec {
    pub id: String,
    pub parts: Vec<(Dimension, u32)>,
}

impl GroupSpec {
    pub fn parse(id: &str) -> Result<GroupSpec, ConfigError> {
        let mut parts = Vec::new();
        for atom in id.split('+').map(str::trim) {
            if atom == "all" {
                continue;
            }
            let Some((_, d, v)) = GROUPS.iter().find(|g| g.0 == atom) else {
                return Err(ConfigError::new("--group", format!("unknown pupil group {atom:?}: use one of {} or a combination such as disadvantaged+boys", group_ids().join(", "))));
            };
            if parts.iter().any(|(pd, _)| pd == d) {
                return Err(ConfigError::new("--group", format!("{id:?} combines two groups of the same kind ({atom:?}); a pupil is in only one of them")));
            }
            parts.push((*d, *v));
        }
        parts.sort();
        Ok(GroupSpec { id: id.to_string(), parts })
    }

    fn dims(&self) -> Vec<Dimension> {
        self.parts.iter().map(|p| p.0).collect()
    }
    fn cell(&self) -> Vec<u32> {
        self.parts.iter().map(|p| p.1).collect()
    }
    pub fn label(&self, cat: &crate::catalogue::Catalogue) -> String {
        if self.parts.is_empty() {
            return "All pupils".into();
        }
        self.id.split('+').map(|g| cat.group(g).map(|g| g.label.clone()).unwrap_or_else(|| g.to_string())).collect::<Vec<_>>().join(" + ")
    }
}

/// National mean KS2 outcomes for each KS1 prior-attainment group (an input: DfE
/// publishes them each year), and the nominal scores for writing teacher assessments.
#[derive(Debug, Clone, Default)]
pub struct PriorMeans {
    /// year -> bands [from, to) with reading, writing, maths means.
    bands: BTreeMap<i32, Vec<(f64, f64, [f64; 3])>>,
    /// year -> writing TA code -> nominal score.
    nominal: BTreeMap<i32, BTreeMap<String, f64>>,
}

impl PriorMeans {
    /// `year,ks1_aps_from,ks1_aps_to,reading,writing,maths`, one row per prior-attainment
    /// group and year (bands are [from, to)). Writing nominal scores come from `nominal`
    /// (TOML, as catalogue/ks2_writing_nominal.toml, which is the default).
    pub fn read(path: &Path, nominal: Option<&Path>) -> Result<PriorMeans, IngestError> {
        let mut means = PriorMeans::default();
        let mut rdr = csv::ReaderBuilder::new().trim(csv::Trim::All).from_path(path).map_err(|e| IngestError::at_file(path, e.to_string()))?;
        let headers: Vec<String> = rdr.headers().map_err(|e| IngestError::at_file(path, e.to_string()))?.iter().map(|h| h.trim_start_matches('\u{feff}').to_ascii_lowercase()).collect();
        let want = ["year", "ks1_aps_from", "ks1_aps_to", "reading", "writing", "maths"];
        let idx: Vec<usize> = want.iter().map(|w| headers.iter().position(|h| h == w).ok_or_else(|| IngestError::at(path, 1, Some(w), format!("the prior-attainment means need the columns {}", want.join(","))))).collect::<Result<_, _>>()?;
        for (i, rec) in rdr.records().enumerate() {
            let line = i as u64 + 2;
            let rec = rec.map_err(|e| IngestError::at(path, line, None, e.to_string()))?;
            let num = |k: usize| -> Result<f64, IngestError> {
                let raw = rec.get(idx[k]).unwrap_or("");
                raw.parse::<f64>().ok().filter(|v| v.is_finite()).ok_or_else(|| IngestError::at(path, line, Some(want[k]), format!("{raw:?} is not a number")))
            };
            let year = num(0)? as i32;
            means.bands.entry(year).or_default().push((num(1)?, num(2)?, [num(3)?, num(4)?, num(5)?]));
        }
        means.nominal = match nominal {
            Some(n) => {
                let text = std::fs::read_to_string(n).map_err(|e| IngestError::at_file(n, e.to_string()))?;
                parse_nominal(&text).map_err(|e| IngestError::at_file(n, e))?
            }
            None => builtin_nominal(),
        };
        Ok(means)
    }

    /// National means from tables already in memory (the demo generator's own).
    pub fn from_bands(bands: BTreeMap<i32, Vec<(f64, f64, [f64; 3])>>) -> PriorMeans {
        PriorMeans { bands, nominal: builtin_nominal() }
    }

    pub fn band_means(&self, year: i32, aps: f64) -> Option<[f64; 3]> {
        self.bands.get(&year)?.iter().find(|(lo, hi, _)| aps >= *lo && aps < *hi).map(|b| b.2)
    }

    pub fn writing_nominal(&self, year: i32, ta: &str) -> Option<f64> {
        // The latest table at or before the year.
        self.nominal.range(..=year).next_back().and_then(|(_, m)| m.get(ta).copied())
    }
}

const BUILTIN_NOMINAL: &str = include_str!("../../catalogue/ks2_writing_nominal.toml");

fn parse_nominal(text: &str) -> Result<BTreeMap<i32, BTreeMap<String, f64>>, String> {
    let t: BTreeMap<String, BTreeMap<String, f64>> = toml::from_str(text).map_err(|e| e.to_string())?;
    t.into_iter().map(|(y, m)| y.parse::<i32>().map(|y| (y, m)).map_err(|_| format!("[{y}] is not a year"))).collect()
}

/// The writing nominal scores shipped in catalogue/ks2_writing_nominal.toml.
pub fn builtin_nominal() -> BTreeMap<i32, BTreeMap<String, f64>> {
    parse_nominal(BUILTIN_NOMINAL).expect("catalogue/ks2_writing_nominal.toml is valid")
}

/// What one pupil contributes to a measure: nothing (not in its cohort), a success
/// flag (percentages) or a score (averages, progress).
fn contribution(measure: &str, p: &Pupil, means: Option<&PriorMeans>) -> Option<f64> {
    let exp = |t: Option<Test>, at: u8| t.map(|t| matches!(t, Test::Score(s) if s >= at));
    let ta = |t: Option<&'static str>| t.filter(|c| !TA_NOT_COUNTED.contains(c));
    let flag = |b: bool| if b { 1.0 } else { 0.0 };
    let ks = p.key_stage;
    match (ks, measure) {
        (KeyStage::Ks2, "ks2_rwm_expected") => {
            let w = ta(p.writing)?;
            Some(flag(exp(p.reading, 100)? && exp(p.maths, 100)? && TA_EXPECTED.contains(&w)))
        }
        (KeyStage::Ks2, "ks2_rwm_higher") => {
            let w = ta(p.writing)?;
            Some(flag(exp(p.reading, 110)? && exp(p.maths, 110)? && w == "GDS"))
        }
        (KeyStage::Ks2, "ks2_read_expected") => exp(p.reading, 100).map(flag),
        (KeyStage::Ks2, "ks2_mat_expected") => exp(p.maths, 100).map(flag),
        (KeyStage::Ks2, "ks2_gps_expected") => exp(p.gps, 100).map(flag),
        (KeyStage::Ks2, "ks2_writ_expected") => ta(p.writing).map(|w| flag(TA_EXPECTED.contains(&w))),
        (KeyStage::Ks2, "ks2_read_avg_score") => p.reading?.score(),
        (KeyStage::Ks2, "ks2_mat_avg_score") => p.maths?.score(),
        (KeyStage::Ks2, "ks2_gps_avg_score") => p.gps?.score(),
        (KeyStage::Ks2, "ks2_read_progress" | "ks2_writ_progress" | "ks2_mat_progress") => {
            let m = means?.band_means(p.year, p.ks1_aps?)?;
            match measure {
                "ks2_read_progress" => Some(p.reading?.score()? - m[0]),
                "ks2_mat_progress" => Some(p.maths?.score()? - m[2]),
                _ => Some(means?.writing_nominal(p.year, ta(p.writing)?)? - m[1]),
            }
        }
        (KeyStage::Ks1, "ks1_read_expected") => ta(p.ks1_reading).map(|c| flag(TA_EXPECTED.contains(&c))),
        (KeyStage::Ks1, "ks1_writ_expected") => ta(p.ks1_writing).map(|c| flag(TA_EXPECTED.contains(&c))),
        (KeyStage::Ks1, "ks1_mat_expected") => ta(p.ks1_maths).map(|c| flag(TA_EXPECTED.contains(&c))),
        (KeyStage::Ks1, "phonics_expected") => match p.phonics? {
            Phonics::Mark(m) => Some(flag(m >= PHONICS_PASS)),
            Phonics::Absent => Some(0.0),
            Phonics::Disapplied => None,
        },
        (KeyStage::Ks4, "ks4_attainment8") => p.att8,
        (KeyStage::Ks4, "ks4_em_grade5" | "ks4_em_grade4") => {
            let at = if measure == "ks4_em_grade5" { 5 } else { 4 };
            Some(flag(p.english_grade?.is_some_and(|g| g >= at) && p.maths_grade?.is_some_and(|g| g >= at)))
        }
        _ => None,
    }
}

/// The phonics screening check's expected standard (32 out of 40 every year since 2012).
pub const PHONICS_PASS: u8 = 32;

/// Measures pupil data can give, with whether each is a percentage.
pub const MEASURES: &[(&str, bool)] = &[
    ("ks2_rwm_expected", true),
    ("ks2_rwm_higher", true),
    ("ks2_read_expected", true),
    ("ks2_writ_expected", true),
    ("ks2_mat_expected", true),
    ("ks2_gps_expected", true),
    ("ks2_read_avg_score", false),
    ("ks2_mat_avg_score", false),
    ("ks2_gps_avg_score", false),
    ("ks2_read_progress", false),
    ("ks2_writ_progress", false),
    ("ks2_mat_progress", false),
    ("ks1_read_expected", true),
    ("ks1_writ_expected", true),
    ("ks1_mat_expected", true),
    ("phonics_expected", true),
    ("ks4_attainment8", false),
    ("ks4_em_grade5", true),
    ("ks4_em_grade4", true),
];

fn is_percent(measure: &str) -> Result<bool, ConfigError> {
    MEASURES.iter().find(|m| m.0 == measure).map(|m| m.1).ok_or_else(|| ConfigError::new("--measure", format!("{measure:?} cannot be computed from pupil data: use one of {}", MEASURES.iter().map(|m| m.0).collect::<Vec<_>>().join(", "))))
}

/// Where schools belong: URN -> (school name, LA code), LA code -> name, URN -> partnership.
#[derive(Debug, Clone, Default)]
pub struct Places {
    pub schools: HashMap<u32, (String, Option<String>)>,
    pub las: HashMap<String, String>,
    pub partnerships: HashMap<u32, String>,
}

impl Places {
    /// Names and LAs from the store's schools.
    pub fn from_schools(schools: &[crate::store::schema::SchoolRow]) -> Places {
        let mut p = Places::default();
        for s in schools {
            if let Ok(urn) = s.urn.parse::<u32>() {
                if let (Some(code), Some(name)) = (&s.la_code, &s.la_name) {
                    p.las.insert(code.clone(), name.clone());
                }
                p.schools.insert(urn, (s.name.clone().unwrap_or_default(), s.la_code.clone()));
            }
        }
        p
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    School,
    Partnership,
    La,
}

pub struct PupilQuery<'q> {
    pub measure: &'q str,
    pub group: GroupSpec,
    pub level: Unit,
    /// The year asked about, and the years before it for the trend (oldest first).
    pub years: Vec<i32>,
    /// Only these units (URNs, LA codes or partnership names); empty = all.
    pub only: Vec<String>,
    pub threshold: u64,
}

/// One row of `attain gaps --pupils` (JSON field names are fixed). Withheld figures are
/// `null` with `status` saying why; table and CSV output print them as `c`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PupilGapRow {
    pub code: String,
    pub name: String,
    pub level: String,
    pub year: i32,
    pub measure: String,
    pub group: String,
    pub comparison: String,
    /// Pupils in the group (in the measure's cohort).
    pub cohort: Option<u64>,
    pub value: Option<f64>,
    pub comparison_cohort: Option<u64>,
    pub comparison_value: Option<f64>,
    pub gap: Option<f64>,
    pub gap_ci: Option<(f64, f64)>,
    pub significance: String,
    /// `ok`, `suppressed_small` (1 to threshold pupils), `suppressed_complement` (the
    /// comparison group is that small, so the group would give it away) or
    /// `suppressed_secondary` (withheld so that another withheld figure cannot be recovered).
    pub status: String,
    pub trend: String,
    pub previous_gaps: Vec<(i32, Option<f64>)>,
}

impl PupilGapRow {
    pub fn suppressed(&self) -> bool {
        self.status != "ok"
    }
}

#[derive(Default, Clone, Copy)]
struct Acc {
    n: u64,
    sum: f64,
    sumsq: f64,
}

impl Acc {
    fn add(&mut self, v: f64) {
        self.n += 1;
        self.sum += v;
        self.sumsq += v * v;
    }
    fn merge(&mut self, o: &Acc) {
        self.n += o.n;
        self.sum += o.sum;
        self.sumsq += o.sumsq;
    }
    fn mean(&self) -> Option<f64> {
        (self.n > 0).then(|| self.sum / self.n as f64)
    }
    fn var(&self) -> Option<f64> {
        (self.n > 1).then(|| (self.sumsq - self.sum * self.sum / self.n as f64) / (self.n as f64 - 1.0)).map(|v| v.max(0.0))
    }
}

fn unit_of(level: Unit, p: &Pupil, places: &Places) -> Option<String> {
    match level {
        Unit::School => Some(p.urn.to_string()),
        Unit::La => Some(places.schools.get(&p.urn).and_then(|s| s.1.clone()).unwrap_or_else(|| "all".into())),
        Unit::Partnership => places.partnerships.get(&p.urn).cloned(),
    }
}

/// Cells of one year: unit -> group-dimension cell -> accumulator.
type Cells = BTreeMap<String, BTreeMap<Vec<u32>, Acc>>;

fn tabulate(pupils: &[Pupil], q: &PupilQuery, year: i32, means: Option<&PriorMeans>, places: &Places) -> Cells {
    let dims = q.group.dims();
    let mut cells: Cells = BTreeMap::new();
    for p in pupils.iter().filter(|p| p.year == year) {
        let Some(v) = contribution(q.measure, p, means) else { continue };
        let Some(unit) = unit_of(q.level, p, places) else { continue };
        let key: Vec<u32> = dims.iter().map(|d| value_on(*d, p)).collect();
        cells.entry(unit).or_default().entry(key).or_default().add(v);
    }
    cells
}

/// Disclosure control over a year's table: the units form one more dimension (their
/// totals, the LA's figure, are shown elsewhere), so secondary suppression also runs
/// across schools. Returns withheld (unit, cell) pairs.
fn withheld(cells: &Cells, q: &PupilQuery) -> HashMap<(String, Vec<u32>), Reason> {
    let units: Vec<&String> = cells.keys().collect();
    let index: HashMap<&String, u32> = units.iter().enumerate().map(|(i, u)| (*u, i as u32)).collect();
    let mut flat: BTreeMap<Vec<u32>, u64> = BTreeMap::new();
    for (u, cs) in cells {
        for (k, a) in cs {
            let mut key = vec![index[u]];
            key.extend(k);
            flat.insert(key, a.n);
        }
    }
    let s = disclosure::suppress(&flat, q.threshold);
    s.into_iter().map(|(k, r)| ((units[k[0] as usize].clone(), k[1..].to_vec()), r)).collect()
}

fn sub(total: &Acc, part: &Acc) -> Acc {
    Acc { n: total.n - part.n, sum: total.sum - part.sum, sumsq: total.sumsq - part.sumsq }
}

/// One unit's figures for one year, after disclosure control.
struct YearFigure {
    group: Acc,
    comparison: Option<Acc>,
    status: &'static str,
}

fn year_figures(pupils: &[Pupil], q: &PupilQuery, year: i32, means: Option<&PriorMeans>, places: &Places) -> BTreeMap<String, YearFigure> {
    let cells = tabulate(pupils, q, year, means, places);
    let hidden = withheld(&cells, q);
    let cell = q.group.cell();
    let mut out = BTreeMap::new();
    for (unit, cs) in &cells {
        let Some(g) = cs.get(&cell).copied() else { continue };
        let mut total = Acc::default();
        cs.values().for_each(|a| total.merge(a));
        let comparison = (!q.group.parts.is_empty()).then(|| sub(&total, &g));
        // The most direct reason first: the group is small, its comparison is small, or
        // it was withheld to protect another figure.
        let status = match hidden.get(&(unit.clone(), cell.clone())) {
            Some(Reason::Small) => "suppressed_small",
            _ if comparison.is_some_and(|c| c.n >= 1 && c.n <= q.threshold) => "suppressed_complement",
            Some(Reason::Secondary) => "suppressed_secondary",
            None => "ok",
        };
        out.insert(unit.clone(), YearFigure { group: g, comparison, status });
    }
    out
}

/// The gap and its 95% interval: Newcombe's for percentages, a normal interval from the
/// pupils' own spread for scores.
fn gap_of(g: &Acc, c: &Acc, percent: bool) -> Option<(f64, Option<(f64, f64)>)> {
    let (gm, cm) = (g.mean()?, c.mean()?);
    if percent {
        let (gp, cp) = (100.0 * gm, 100.0 * cm);
        Some((gp - cp, newcombe(gp, g.n as f64, cp, c.n as f64)))
    } else {
        let raw = gm - cm;
        let se = match (g.var(), c.var()) {
            (Some(v1), Some(v2)) => Some((v1 / g.n as f64 + v2 / c.n as f64).sqrt()),
            _ => None,
        };
        Some((raw, se.map(|se| (raw - 1.96 * se, raw + 1.96 * se))))
    }
}

/// Gap rows for the last year of `q.years`, with the gaps of the years before for the trend.
pub fn gap_rows(pupils: &[Pupil], q: &PupilQuery, means: Option<&PriorMeans>, places: &Places) -> Result<Vec<PupilGapRow>, ConfigError> {
    let percent = is_percent(q.measure)?;
    let Some(&year) = q.years.last() else { return Ok(vec![]) };
    let dps = if percent { 1 } else { 2 };
    let scale = if percent { 100.0 } else { 1.0 };
    let per_year: BTreeMap<i32, BTreeMap<String, YearFigure>> = q.years.iter().map(|&y| (y, year_figures(pupils, q, y, means, places))).collect();
    let shown_gap = |f: &YearFigure| -> Option<f64> { if f.status != "ok" { return None } gap_of(&f.group, f.comparison.as_ref()?, percent).map(|g| round_half_away(g.0, dps)) };
    let comparison = if q.group.parts.is_empty() { String::new() } else { format!("other pupils ({})", q.level_name()) };
    let mut rows = Vec::new();
    for (unit, f) in &per_year[&year] {
        if !q.only.is_empty() && !q.only.contains(unit) {
            continue;
        }
        let ok = f.status == "ok";
        let c = f.comparison.filter(|_| ok);
        let gap = if ok { f.comparison.as_ref().and_then(|c| gap_of(&f.group, c, percent)) } else { None };
        let history: Vec<(i32, Option<f64>)> = q.years.iter().map(|y| (*y, per_year[y].get(unit).and_then(|f| shown_gap(f)))).collect();
        let (trend, _) = gap_trend(&history);
        let significance = match &gap {
            Some((_, ci)) => gap_significance(*ci),
            None => Significance::NotAssessed,
        };
        rows.push(PupilGapRow {
            code: unit.clone(),
            name: q.unit_name(unit, places),
            level: q.level_name().to_string(),
            year,
            measure: q.measure.to_string(),
            group: q.group.id.clone(),
            comparison: comparison.clone(),
            cohort: ok.then_some(f.group.n),
            value: if ok { f.group.mean().map(|m| round_half_away(scale * m, dps)) } else { None },
            comparison_cohort: c.map(|c| c.n),
            comparison_value: c.and_then(|c| c.mean()).map(|m| round_half_away(scale * m, dps)),
            gap: gap.map(|g| round_half_away(g.0, dps)),
            gap_ci: gap.and_then(|g| g.1).map(|(a, b)| (round_half_away(a, dps), round_half_away(b, dps))),
            significance: significance.label().to_string(),
            status: f.status.to_string(),
            trend: if ok { trend } else { String::new() },
            previous_gaps: history,
        });
    }
    // Widest gaps (most negative) first; withheld rows last.
    rows.sort_by(|a, b| a.gap.unwrap_or(f64::INFINITY).total_cmp(&b.gap.unwrap_or(f64::INFINITY)).then(a.code.cmp(&b.code)));
    Ok(rows)
}

/// Units whose gap was among the `widest` widest in every year of the trend window
/// ("the widest disadvantaged gap in writing three years running").
pub fn widest_running(rows: Vec<PupilGapRow>, widest: usize) -> Vec<PupilGapRow> {
    let years: BTreeSet<i32> = rows.iter().flat_map(|r| r.previous_gaps.iter().map(|g| g.0)).collect();
    let mut keep: Option<BTreeSet<String>> = None;
    for y in years {
        let mut gaps: Vec<(f64, &String)> = rows.iter().filter_map(|r| r.previous_gaps.iter().find(|g| g.0 == y).and_then(|g| g.1).map(|g| (g, &r.code))).collect();
        gaps.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(b.1)));
        let top: BTreeSet<String> = gaps.into_iter().take(widest).map(|g| g.1.clone()).collect();
        keep = Some(match keep {
            None => top,
            Some(k) => k.intersection(&top).cloned().collect(),
        });
    }
    let keep = keep.unwrap_or_default();
    rows.into_iter().filter(|r| keep.contains(&r.code)).collect()
}

impl PupilQuery<'_> {
    fn level_name(&self) -> &'static str {
        match self.level {
            Unit::School => "school",
            Unit::Partnership => "partnership",
            Unit::La => "la",
        }
    }
    fn unit_name(&self, unit: &str, places: &Places) -> String {
        match self.level {
            Unit::School => unit.parse::<u32>().ok().and_then(|u| places.schools.get(&u)).map(|s| s.0.clone()).unwrap_or_default(),
            Unit::La => places.las.get(unit).cloned().unwrap_or_else(|| if unit == "all" { "All pupils in the files".into() } else { String::new() }),
            Unit::Partnership => unit.to_string(),
        }
    }
}
