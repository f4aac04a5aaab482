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

use super::disclosure::{self, Figure, Tree, Types};
use super::pupil_groups::{GroupDefs, TypeSpace};
use super::series_breaks::SeriesOf;
use super::significance::{gap_significance, newcombe, Significance};
use super::trend::gap_trend;
use crate::catalogue::Catalogue;
use crate::error::{ConfigError, IngestError};
use crate::ingest::pupils::{KeyStage, Phonics, Pupil, Test, TA_EXPECTED, TA_NOT_COUNTED};
use crate::level::Level;
use crate::number;

/// A group or a combination of groups, e.g. `disadvantaged+boys` (the pupils in both).
/// Groups and how they relate are the catalogue's (catalogue/groups.toml).
#[derive(Debug, Clone, PartialEq)]
pub struct GroupSpec {
    pub id: String,
    /// The groups combined (none for `all`).
    pub parts: Vec<String>,
}

/// Every group id pupil data can answer for.
pub fn group_ids() -> Vec<&'static str> {
    GroupDefs::builtin().ids()
}

impl GroupSpec {
    pub fn parse(id: &str) -> Result<GroupSpec, ConfigError> {
        let defs = GroupDefs::builtin();
        let mut parts: Vec<String> = Vec::new();
        let mut kinds: Vec<&str> = Vec::new();
        for atom in id.split('+').map(str::trim) {
            if atom == "all" {
                continue;
            }
            let Some(kind) = defs.kind(atom) else {
                return Err(ConfigError::new(
                    "--group",
                    format!(
                        "unknown pupil group {atom:?}: use one of {} or a \
                    combination such as disadvantaged+boys",
                        group_ids().join(", ")
                    ),
                ));
            };
            if kinds.contains(&kind) {
                return Err(ConfigError::new(
                    "--group",
                    format!(
                        "{id:?} combines two groups of the same kind \
                    ({atom:?}); a pupil is in only one of them"
                    ),
                ));
            }
            kinds.push(kind);
            parts.push(atom.to_string());
        }
        parts.sort();
        Ok(GroupSpec {
            id: id.to_string(),
            parts,
        })
    }

    /// The id the type space understands (`all` for no parts).
    fn key(&self) -> String {
        if self.parts.is_empty() {
            "all".into()
        } else {
            self.parts.join("+")
        }
    }

    pub fn label(&self, cat: &crate::catalogue::Catalogue) -> String {
        if self.parts.is_empty() {
            return "All pupils".into();
        }
        self.id
            .split('+')
            .map(|g| {
                cat.group(g)
                    .map(|g| g.label.clone())
                    .unwrap_or_else(|| g.to_string())
            })
            .collect::<Vec<_>>()
            .join(" + ")
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
        let mut rdr = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .from_path(path)
            .map_err(|e| IngestError::at_file(path, e.to_string()))?;
        let headers: Vec<String> = rdr
            .headers()
            .map_err(|e| IngestError::at_file(path, e.to_string()))?
            .iter()
            .map(|h| h.trim_start_matches('\u{feff}').to_ascii_lowercase())
            .collect();
        let want = [
            "year",
            "ks1_aps_from",
            "ks1_aps_to",
            "reading",
            "writing",
            "maths",
        ];
        let idx: Vec<usize> = want
            .iter()
            .map(|w| {
                headers.iter().position(|h| h == w).ok_or_else(|| {
                    IngestError::at(
                        path,
                        1,
                        Some(w),
                        format!(
                            "the prior-attainment means need the columns {}",
                            want.join(",")
                        ),
                    )
                })
            })
            .collect::<Result<_, _>>()?;
        for (i, rec) in rdr.records().enumerate() {
            let line = i as u64 + 2;
            let rec = rec.map_err(|e| IngestError::at(path, line, None, e.to_string()))?;
            let num = |k: usize| -> Result<f64, IngestError> {
                let raw = rec.get(idx[k]).unwrap_or("");
                raw.parse::<f64>()
                    .ok()
                    .filter(|v| v.is_finite())
                    .ok_or_else(|| {
                        IngestError::at(
                            path,
                            line,
                            Some(want[k]),
                            format!("{raw:?} is not a number"),
                        )
                    })
            };
            let year = num(0)? as i32;
            means.bands.entry(year).or_default().push((
                num(1)?,
                num(2)?,
                [num(3)?, num(4)?, num(5)?],
            ));
        }
        means.nominal = match nominal {
            Some(n) => {
                let text = std::fs::read_to_string(n)
                    .map_err(|e| IngestError::at_file(n, e.to_string()))?;
                parse_nominal(&text).map_err(|e| IngestError::at_file(n, e))?
            }
            None => builtin_nominal(),
        };
        Ok(means)
    }

    /// National means from tables already in memory (the demo generator's own).
    pub fn from_bands(bands: BTreeMap<i32, Vec<(f64, f64, [f64; 3])>>) -> PriorMeans {
        PriorMeans {
            bands,
            nominal: builtin_nominal(),
        }
    }

    pub fn band_means(&self, year: i32, aps: f64) -> Option<[f64; 3]> {
        self.bands
            .get(&year)?
            .iter()
            .find(|(lo, hi, _)| aps >= *lo && aps < *hi)
            .map(|b| b.2)
    }

    pub fn writing_nominal(&self, year: i32, ta: &str) -> Option<f64> {
        // The latest table at or before the year.
        self.nominal
            .range(..=year)
            .next_back()
            .and_then(|(_, m)| m.get(ta).copied())
    }
}

const BUILTIN_NOMINAL: &str = include_str!("../../catalogue/ks2_writing_nominal.toml");

fn parse_nominal(text: &str) -> Result<BTreeMap<i32, BTreeMap<String, f64>>, String> {
    let t: BTreeMap<String, BTreeMap<String, f64>> =
        toml::from_str(text).map_err(|e| e.to_string())?;
    t.into_iter()
        .map(|(y, m)| {
            y.parse::<i32>()
                .map(|y| (y, m))
                .map_err(|_| format!("[{y}] is not a year"))
        })
        .collect()
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
            Some(flag(
                exp(p.reading, 100)? && exp(p.maths, 100)? && TA_EXPECTED.contains(&w),
            ))
        }
        (KeyStage::Ks2, "ks2_rwm_higher") => {
            let w = ta(p.writing)?;
            Some(flag(
                exp(p.reading, 110)? && exp(p.maths, 110)? && w == "GDS",
            ))
        }
        (KeyStage::Ks2, "ks2_read_expected") => exp(p.reading, 100).map(flag),
        (KeyStage::Ks2, "ks2_mat_expected") => exp(p.maths, 100).map(flag),
        (KeyStage::Ks2, "ks2_gps_expected") => exp(p.gps, 100).map(flag),
        (KeyStage::Ks2, "ks2_writ_expected") => {
            ta(p.writing).map(|w| flag(TA_EXPECTED.contains(&w)))
        }
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
        (KeyStage::Ks1, "ks1_read_expected") => {
            ta(p.ks1_reading).map(|c| flag(TA_EXPECTED.contains(&c)))
        }
        (KeyStage::Ks1, "ks1_writ_expected") => {
            ta(p.ks1_writing).map(|c| flag(TA_EXPECTED.contains(&c)))
        }
        (KeyStage::Ks1, "ks1_mat_expected") => {
            ta(p.ks1_maths).map(|c| flag(TA_EXPECTED.contains(&c)))
        }
        (KeyStage::Ks1, "phonics_expected") => match p.phonics? {
            Phonics::Mark(m) => Some(flag(m >= PHONICS_PASS)),
            Phonics::Absent => Some(0.0),
            Phonics::Disapplied => None,
        },
        (KeyStage::Ks4, "ks4_attainment8") => p.att8,
        (KeyStage::Ks4, "ks4_em_grade5" | "ks4_em_grade4") => {
            let at = if measure == "ks4_em_grade5" { 5 } else { 4 };
            Some(flag(
                p.english_grade?.is_some_and(|g| g >= at)
                    && p.maths_grade?.is_some_and(|g| g >= at),
            ))
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
    MEASURES
        .iter()
        .find(|m| m.0 == measure)
        .map(|m| m.1)
        .ok_or_else(|| {
            ConfigError::new(
                "--measure",
                format!(
                    "{measure:?} cannot be computed from pupil data: use one of {}",
                    MEASURES.iter().map(|m| m.0).collect::<Vec<_>>().join(", ")
                ),
            )
        })
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
                p.schools
                    .insert(urn, (s.name.clone().unwrap_or_default(), s.la_code.clone()));
            }
        }
        p
    }
}

#[derive(Debug, Clone)]
pub struct PupilQuery<'q> {
    pub measure: &'q str,
    pub group: GroupSpec,
    pub level: Level,
    /// The year asked about, and the years before it for the trend (oldest first).
    pub years: Vec<i32>,
    /// Only these units (URNs, LA codes or partnership names); empty = all.
    pub only: Vec<String>,
    /// Only this LA's schools (or this LA, at LA level).
    pub la: Option<String>,
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
    /// `suppressed_secondary` (withheld so that no figure about 1 to threshold pupils can
    /// be worked out by subtracting figures released with it, or released before).
    pub status: String,
    pub trend: String,
    pub previous_gaps: Vec<(i32, Option<f64>)>,
    /// The LA the unit lies within (a school's LA, a partnership's, the LA itself), and a
    /// school's partnership: what lets `attain audit` see which figures are parts of which.
    pub la: Option<String>,
    pub partnership: Option<String>,
}

impl PupilGapRow {
    pub fn suppressed(&self) -> bool {
        self.status != "ok"
    }
}

/// A figure already released into an output tree (a line of the ledger,
/// src/analysis/ledger.rs): its group and comparison at one unit in one year.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, serde::Deserialize)]
pub struct Released {
    pub measure: String,
    pub year: i32,
    pub level: String,
    pub unit: String,
    pub group: String,
}

/// What rows release: each shown row's year, and each year of its trend whose gap is shown.
pub fn released_by(rows: &[PupilGapRow]) -> Vec<Released> {
    let mut out = BTreeSet::new();
    for r in rows {
        let r_at = |year: i32| Released {
            measure: r.measure.clone(),
            year,
            level: r.level.clone(),
            unit: r.code.clone(),
            group: r.group.clone(),
        };
        if !r.suppressed() {
            out.insert(r_at(r.year));
        }
        for (y, g) in &r.previous_gaps {
            if g.is_some() {
                out.insert(r_at(*y));
            }
        }
    }
    out.into_iter().collect()
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
    fn mean(&self) -> Option<f64> {
        (self.n > 0).then(|| self.sum / self.n as f64)
    }
    fn var(&self) -> Option<f64> {
        (self.n > 1)
            .then(|| (self.sumsq - self.sum * self.sum / self.n as f64) / (self.n as f64 - 1.0))
            .map(|v| v.max(0.0))
    }
}

fn la_of(urn: u32, places: &Places) -> String {
    places
        .schools
        .get(&urn)
        .and_then(|s| s.1.clone())
        .unwrap_or_else(|| "all".into())
}

fn unit_of(level: Level, urn: u32, places: &Places) -> Option<String> {
    match level {
        Level::School => Some(urn.to_string()),
        Level::La => Some(la_of(urn, places)),
        Level::Partnership => places.partnerships.get(&urn).cloned(),
        // Not levels of pupil data (refused by `gap_tables`).
        Level::Region | Level::National => None,
    }
}

/// A partnership's LA, where all its schools are in one.
fn partnership_la(name: &str, places: &Places) -> Option<String> {
    let las: BTreeSet<String> = places
        .partnerships
        .iter()
        .filter(|(_, p)| p.as_str() == name)
        .map(|(u, _)| la_of(*u, places))
        .collect();
    (las.len() == 1).then(|| las.into_iter().next().unwrap_or_default())
}

fn sub(total: &Acc, part: &Acc) -> Acc {
    Acc {
        n: total.n - part.n,
        sum: total.sum - part.sum,
        sumsq: total.sumsq - part.sumsq,
    }
}

/// One unit's figures for one year of one query, and whether they may be shown.
struct Fig {
    q: usize,
    year: i32,
    unit: String,
    group: Acc,
    total: Acc,
    status: &'static str,
}

/// Units as the disclosure check's tree: school within partnership (where mapped) or LA,
/// partnership within its LA, as the catalogue's `[[level]]` says.
struct Units<'p> {
    places: &'p Places,
    levels: &'p [crate::catalogue::LevelNesting],
    ids: HashMap<(Level, String), usize>,
    parent: Vec<Option<usize>>,
    /// Pupil types counted per unit: (type, pupils).
    counts: Vec<HashMap<u16, u64>>,
}

impl<'p> Units<'p> {
    fn new(places: &'p Places) -> Units<'p> {
        // Node 0 is everything, which no output gives.
        Units {
            places,
            levels: &GroupDefs::builtin().levels,
            ids: HashMap::new(),
            parent: vec![None],
            counts: vec![HashMap::new()],
        }
    }

    /// The unit a unit lies directly within: the first of its level's `within` that applies.
    fn parent_of(&mut self, level: Level, code: &str) -> usize {
        let within: Vec<Level> = self
            .levels
            .iter()
            .find(|l| l.id == level)
            .map(|l| l.within.clone())
            .unwrap_or_default();
        for w in within {
            match (level, w) {
                (Level::School, Level::Partnership) => {
                    if let Some(p) = code
                        .parse::<u32>()
                        .ok()
                        .and_then(|u| self.places.partnerships.get(&u))
                        .cloned()
                    {
                        return self.node(Level::Partnership, &p);
                    }
                }
                (Level::School, Level::La) => {
                    let la = code
                        .parse::<u32>()
                        .map(|u| la_of(u, self.places))
                        .unwrap_or_else(|_| "all".into());
                    return self.node(Level::La, &la);
                }
                (Level::Partnership, Level::La) => {
                    if let Some(la) = partnership_la(code, self.places) {
                        return self.node(Level::La, &la);
                    }
                }
                _ => {}
            }
        }
        0
    }

    fn node(&mut self, level: Level, code: &str) -> usize {
        let l = level;
        if let Some(&n) = self.ids.get(&(l, code.to_string())) {
            return n;
        }
        let parent = self.parent_of(l, code);
        let n = self.parent.len();
        self.parent.push(Some(parent));
        self.counts.push(HashMap::new());
        self.ids.insert((l, code.to_string()), n);
        n
    }

    fn count_pupil(&mut self, urn: u32, ty: u16) {
        let mut n = Some(self.node(Level::School, &urn.to_string()));
        while let Some(x) = n {
            *self.counts[x].entry(ty).or_default() += 1;
            n = self.parent[x];
        }
    }

    fn count(&self, node: usize, types: &Types) -> u64 {
        self.counts[node]
            .iter()
            .filter(|(t, _)| types.has(**t as usize))
            .map(|(_, n)| n)
            .sum()
    }

    fn ancestors(&self, node: usize) -> Vec<usize> {
        let mut out = Vec::new();
        let mut n = self.parent[node];
        while let Some(x) = n.filter(|x| *x != 0) {
            out.push(x);
            n = self.parent[x];
        }
        out
    }
}

/// A released figure the check sees, and what withholding it takes.
struct Candidate {
    node: usize,
    types: Types,
    count: u64,
    /// The figures (`Fig`s) that show it: withholding it withholds them all.
    owners: Vec<usize>,
    /// Released before (the ledger): it cannot be withdrawn.
    fixed: bool,
    /// Not released here but taken as shown elsewhere (a unit's total over the units in
    /// it, such as the LA's figure beside its schools').
    assumed: bool,
}

/// Tables released together, with disclosure control over all of them and over what the
/// ledger says was released before: no figure about 1 to threshold pupils can be worked
/// out as a difference of released figures or as a total minus its shown parts (see
/// src/analysis/disclosure.rs). Returns each query's rows, and warnings for disclosures
/// that figures released earlier already make and nothing here can undo.
pub fn gap_tables(
    pupils: &[Pupil],
    queries: &[PupilQuery],
    means: Option<&PriorMeans>,
    places: &Places,
    earlier: &[Released],
) -> Result<(Vec<Vec<PupilGapRow>>, Vec<String>), ConfigError> {
    let defs = GroupDefs::builtin();
    let threshold = queries
        .iter()
        .map(|q| q.threshold)
        .max()
        .unwrap_or(disclosure::DEFAULT_THRESHOLD);
    if let Some(q) = queries
        .iter()
        .find(|q| !Level::PUPIL_DATA.contains(&q.level))
    {
        return Err(ConfigError::new(
            "--level",
            format!(
                "pupil data is the LA's own: {} is not school, partnership or la",
                q.level.as_str()
            ),
        ));
    }
    if threshold > disclosure::MAX_THRESHOLD {
        return Err(ConfigError::new(
            "--threshold",
            format!(
                "disclosure control handles thresholds up to {}",
                disclosure::MAX_THRESHOLD
            ),
        ));
    }
    for q in queries {
        is_percent(q.measure)?;
    }
    let earlier: Vec<&Released> = earlier
        .iter()
        .filter(|r| {
            queries
                .iter()
                .any(|q| q.measure == r.measure && q.years.contains(&r.year))
                && GroupSpec::parse(&r.group).is_ok()
        })
        .collect();
    let keys: Vec<String> = queries
        .iter()
        .map(|q| q.group.key())
        .chain(earlier.iter().map(|r| {
            GroupSpec::parse(&r.group)
                .map(|g| g.key())
                .unwrap_or_default()
        }))
        .collect();
    let space = TypeSpace::new(defs, keys.iter().map(String::as_str))?;
    let all = space.all();
    let mut typesets: HashMap<String, Types> = HashMap::new();
    for k in &keys {
        typesets
            .entry(k.clone())
            .or_insert_with(|| space.group(defs, k));
    }
    let ty: Vec<u16> = pupils
        .iter()
        .map(|p| space.type_of(&defs.values_of(p)) as u16)
        .collect();

    // Every figure of every query and year, with primary suppression.
    let mut figs: Vec<Fig> = Vec::new();
    for (qi, q) in queries.iter().enumerate() {
        let Some(&last) = q.years.last() else {
            continue;
        };
        let tg = typesets[&q.group.key()];
        let keep = |unit: &str| -> bool {
            (q.only.is_empty() || q.only.iter().any(|o| o == unit))
                && match (&q.la, q.level) {
                    (None, _) | (_, Level::Partnership) => true,
                    (Some(la), Level::School) => unit.parse::<u32>().is_ok_and(|u| {
                        places.schools.get(&u).and_then(|s| s.1.as_deref()) == Some(la.as_str())
                    }),
                    (Some(la), Level::La) => unit == la,
                    (Some(_), Level::Region | Level::National) => false,
                }
        };
        let mut shown_units: Option<BTreeSet<String>> = None;
        for &year in q.years.iter().rev() {
            let mut cells: BTreeMap<String, (Acc, Acc)> = BTreeMap::new();
            for (i, p) in pupils.iter().enumerate().filter(|(_, p)| p.year == year) {
                let Some(v) = contribution(q.measure, p, means) else {
                    continue;
                };
                let Some(unit) = unit_of(q.level, p.urn, places) else {
                    continue;
                };
                let c = cells.entry(unit).or_default();
                c.1.add(v);
                if tg.has(ty[i] as usize) {
                    c.0.add(v);
                }
            }
            for (unit, (g, total)) in cells {
                // A unit has a row where the group has pupils; earlier years only for the rows.
                if g.n == 0
                    || !keep(&unit)
                    || shown_units.as_ref().is_some_and(|s| !s.contains(&unit))
                {
                    continue;
                }
                let comparison = total.n - g.n;
                let status = if g.n <= q.threshold {
                    "suppressed_small"
                } else if !q.group.parts.is_empty() && comparison >= 1 && comparison <= q.threshold
                {
                    "suppressed_complement"
                } else {
                    "ok"
                };
                figs.push(Fig {
                    q: qi,
                    year,
                    unit,
                    group: g,
                    total,
                    status,
                });
            }
            if year == last {
                shown_units = Some(
                    figs.iter()
                        .filter(|f| f.q == qi && f.year == last)
                        .map(|f| f.unit.clone())
                        .collect(),
                );
            }
        }
    }

    // Secondary suppression, jointly over every figure of one measure and year.
    let mut warnings = Vec::new();
    let pairs: BTreeSet<(&str, i32)> = figs
        .iter()
        .map(|f| (queries[f.q].measure, f.year))
        .collect();
    for (measure, year) in pairs {
        let mut units = Units::new(places);
        for (i, p) in pupils.iter().enumerate().filter(|(_, p)| p.year == year) {
            if contribution(measure, p, means).is_some() {
                units.count_pupil(p.urn, ty[i]);
            }
        }
        let mine: Vec<usize> = (0..figs.len())
            .filter(|&i| figs[i].year == year && queries[figs[i].q].measure == measure)
            .collect();
        let nodes: Vec<usize> = mine
            .iter()
            .map(|&i| units.node(queries[figs[i].q].level, &figs[i].unit))
            .collect();
        let before: Vec<(usize, Types, bool)> = earlier
            .iter()
            .filter(|r| r.measure == measure && r.year == year)
            .filter_map(|r| {
                let level = Level::parse(&r.level).filter(|l| Level::PUPIL_DATA.contains(l))?;
                let g = GroupSpec::parse(&r.group).ok()?;
                Some((
                    units.node(level, &r.unit),
                    typesets[&g.key()],
                    g.parts.is_empty(),
                ))
            })
            .collect();
        let tree = Tree::new(units.parent.clone());
        let nodes_of: HashMap<usize, usize> =
            mine.iter().copied().zip(nodes.iter().copied()).collect();
        let mut dropped: BTreeSet<(usize, Types)> = BTreeSet::new();
        let mut again: Option<BTreeSet<usize>> = None;
        let mut memo = disclosure::Memo::default();
        let mut passes = 0;
        loop {
            passes += 1;
            let mut cands: Vec<Candidate> = Vec::new();
            let mut index: HashMap<(usize, Types), usize> = HashMap::new();
            let mut add = |node: usize,
                           types: Types,
                           count: u64,
                           owner: Option<usize>,
                           fixed: bool,
                           assumed: bool| {
                let i = *index.entry((node, types)).or_insert_with(|| {
                    cands.push(Candidate {
                        node,
                        types,
                        count,
                        owners: vec![],
                        fixed: false,
                        assumed: false,
                    });
                    cands.len() - 1
                });
                let c = &mut cands[i];
                c.owners.extend(owner);
                c.fixed |= fixed;
                c.assumed |= assumed;
            };
            for (k, &fi) in mine.iter().enumerate() {
                let f = &figs[fi];
                let q = &queries[f.q];
                let tg = typesets[&q.group.key()];
                let sets: Vec<(Types, u64)> = if q.group.parts.is_empty() {
                    vec![(all, f.total.n)]
                } else {
                    vec![
                        (tg, f.group.n),
                        (all.minus(&tg), f.total.n - f.group.n),
                        (all, f.total.n),
                    ]
                };
                if f.status == "ok" {
                    for (t, n) in &sets {
                        add(nodes[k], *t, *n, Some(fi), false, false);
                    }
                }
                // A school or partnership table's totals over units are taken as shown.
                if q.level != Level::La {
                    for a in units.ancestors(nodes[k]) {
                        for (t, _) in &sets {
                            let n = units.count(a, t);
                            if n > threshold && !dropped.contains(&(a, *t)) {
                                add(a, *t, n, None, false, true);
                            }
                        }
                    }
                }
            }
            for (node, tg, everyone) in &before {
                let sets = if *everyone {
                    vec![all]
                } else {
                    vec![*tg, all.minus(tg), all]
                };
                for t in sets {
                    add(*node, t, units.count(*node, &t), None, true, false);
                }
            }
            let figures: Vec<Figure> = cands
                .iter()
                .map(|c| Figure {
                    node: c.node,
                    types: c.types,
                    count: c.count,
                })
                .collect();
            let mut by_node: HashMap<usize, Vec<usize>> = HashMap::new();
            for (i, c) in cands.iter().enumerate() {
                by_node.entry(c.node).or_default().push(i);
            }
            let found = disclosure::find_at(&tree, &figures, threshold, again.as_ref(), &mut memo);
            tracing::debug!(
                measure,
                year,
                passes,
                figures = figures.len(),
                found = found.len(),
                "joint disclosure control"
            );
            again = Some(found.iter().map(|f| cands[f.total[0]].node).collect());
            let mut changed = false;
            // Deepest units first: a school's own disclosure, once fixed, usually settles the
            // same one seen from its LA. A finding with a figure at a unit touched in this
            // pass waits for the next pass, when it may be gone.
            let depth = |mut n: usize| {
                let mut d = 0;
                while let Some(p) = tree.parent[n] {
                    d += 1;
                    n = p;
                }
                d
            };
            let mut order: Vec<&disclosure::Finding> = found.iter().collect();
            order.sort_by_key(|f| std::cmp::Reverse(depth(cands[f.total[0]].node)));
            let mut touched: BTreeSet<usize> = BTreeSet::new();
            for f in order {
                let members: Vec<usize> = f.total.iter().chain(&f.parts).copied().collect();
                if members.iter().any(|&m| touched.contains(&cands[m].node)) {
                    changed = true;
                    continue;
                }
                let open = |m: &usize| {
                    !cands[*m].fixed && (cands[*m].assumed || !cands[*m].owners.is_empty())
                };
                // Where the pupils left over are: the units within the total's whose pupils
                // the parts do not all cover. Withholding a part elsewhere would only make the
                // same subtraction take another route.
                let n = cands[f.total[0]].node;
                let tx = f
                    .total
                    .iter()
                    .fold(Types::default(), |a, &m| a.union(&cands[m].types));
                let rest = f
                    .parts
                    .iter()
                    .filter(|&&m| cands[m].node == n)
                    .fold(tx, |a, &m| a.minus(&cands[m].types));
                let mut under: BTreeMap<usize, (u64, Vec<usize>)> = BTreeMap::new();
                for &m in &f.parts {
                    let mut c = cands[m].node;
                    while tree.parent[c].is_some_and(|p| p != n) {
                        c = tree.parent[c].unwrap_or(c);
                    }
                    if c != n {
                        let e = under.entry(c).or_default();
                        e.0 += cands[m].count;
                        e.1.push(m);
                    }
                }
                let leaking: Vec<usize> = under
                    .iter()
                    .filter(|(c, (sum, _))| units.count(**c, &rest) > *sum)
                    .flat_map(|(_, (_, ms))| ms.iter().copied())
                    .chain(f.parts.iter().copied().filter(|&m| cands[m].node == n))
                    .filter(open)
                    .collect();
                // What to withhold: rows (figures' owners), or an assumed total; cheapest first.
                let mut choice: Option<(u64, u64, Vec<usize>, Option<usize>)> = None;
                let mut consider =
                    |cost: u64, size: u64, rows: Vec<usize>, assumed: Option<usize>| {
                        if choice.as_ref().is_none_or(|c| (cost, size) < (c.0, c.1)) {
                            choice = Some((cost, size, rows, assumed));
                        }
                    };
                let ok_rows = |m: usize| {
                    cands[m]
                        .owners
                        .iter()
                        .copied()
                        .filter(|&o| figs[o].status == "ok")
                        .collect::<Vec<_>>()
                };
                if leaking.iter().any(|&m| !cands[m].assumed) {
                    // The pupils left over are at units whose parts fall short (or at the
                    // total's own): withhold the cheapest part there (fewest rows, smallest group).
                    for &m in leaking.iter().filter(|&&m| !cands[m].assumed) {
                        consider(
                            cands[m].owners.len() as u64,
                            cands[m].count,
                            ok_rows(m),
                            None,
                        );
                    }
                } else {
                    // Every unit within is covered exactly, and the pupils left over are at
                    // units with nothing shown (a total minus its shown units). Withholding
                    // one part would only let another figure cover its unit: make one unit
                    // uncoverable (all its figures within the total withheld) or give up the
                    // total.
                    for &c in under.keys() {
                        let mut inside = Vec::new();
                        let mut stack = vec![c];
                        while let Some(x) = stack.pop() {
                            stack.extend(tree.children(x).iter().copied());
                            inside.extend(
                                by_node
                                    .get(&x)
                                    .into_iter()
                                    .flatten()
                                    .copied()
                                    .filter(|&m| cands[m].types.subset_of(&rest)),
                            );
                        }
                        // Figures released before stay: the unit may still be covered by them
                        // (then the next pass looks again), so such units come last.
                        let stays = inside.iter().any(|&m| {
                            cands[m].fixed || (cands[m].assumed && cands[m].owners.is_empty())
                        });
                        let rows: BTreeSet<usize> =
                            inside.iter().flat_map(|&m| ok_rows(m)).collect();
                        let size = units.count(c, &rest);
                        if !rows.is_empty() {
                            consider(
                                rows.len() as u64
                                    + if stays { 50 } else { 0 }
                                    + if size <= threshold { 1000 } else { 0 },
                                size,
                                rows.into_iter().collect(),
                                None,
                            );
                        }
                    }
                }
                for &m in &f.total {
                    if !cands[m].fixed {
                        let cost = if cands[m].assumed {
                            100
                        } else {
                            cands[m].owners.len() as u64 + 1
                        };
                        consider(
                            cost,
                            cands[m].count,
                            ok_rows(m),
                            cands[m].assumed.then_some(m),
                        );
                    }
                }
                // A total taken as shown elsewhere among the parts can be given up too.
                for &m in f
                    .parts
                    .iter()
                    .filter(|&&m| cands[m].assumed && !cands[m].fixed)
                {
                    consider(100, cands[m].count, ok_rows(m), Some(m));
                }
                match choice {
                    Some((_, _, rows, assumed)) => {
                        changed |= !rows.is_empty() || assumed.is_some();
                        for o in rows {
                            figs[o].status = "suppressed_secondary";
                            touched.insert(nodes_of[&o]);
                        }
                        if let Some(m) = assumed {
                            dropped.insert((cands[m].node, cands[m].types));
                            touched.insert(cands[m].node);
                        }
                    }
                    None => warnings.push(format!("{measure} {year}: figures released earlier into this output tree \
                        already let {} pupil(s) be worked out by subtraction; nothing released now can undo \
                        that", f.residual)),
                }
            }
            if !changed {
                break;
            }
        }
    }

    warnings.sort();
    warnings.dedup();
    // Rows, as each query asked.
    let at: HashMap<(usize, i32, &str), &Fig> = figs
        .iter()
        .map(|f| ((f.q, f.year, f.unit.as_str()), f))
        .collect();
    let mut tables = Vec::new();
    for (qi, q) in queries.iter().enumerate() {
        let percent = is_percent(q.measure)?;
        let Some(&year) = q.years.last() else {
            tables.push(vec![]);
            continue;
        };
        let dps = if percent { 1 } else { 2 };
        let scale = if percent { 100.0 } else { 1.0 };
        let comparison_of = |f: &Fig| (!q.group.parts.is_empty()).then(|| sub(&f.total, &f.group));
        let shown_gap = |f: &Fig| -> Option<f64> {
            if f.status != "ok" {
                return None;
            }
            gap_of(&f.group, &comparison_of(f)?, percent).map(|g| number::round(g.0, dps))
        };
        let comparison = if q.group.parts.is_empty() {
            String::new()
        } else {
            format!("other pupils ({})", q.level_name())
        };
        let mut rows = Vec::new();
        for f in figs.iter().filter(|f| f.q == qi && f.year == year) {
            let unit = &f.unit;
            let ok = f.status == "ok";
            let c = comparison_of(f).filter(|_| ok);
            let gap = if ok {
                comparison_of(f).and_then(|c| gap_of(&f.group, &c, percent))
            } else {
                None
            };
            let history: Vec<(i32, Option<f64>)> = q
                .years
                .iter()
                .map(|y| {
                    (
                        *y,
                        at.get(&(qi, *y, unit.as_str())).and_then(|f| shown_gap(f)),
                    )
                })
                .collect();
            // Pupil data carries no catalogue of its own: the shipped breaks decide which
            // years compare (the assessments' frameworks, not DfE's publication).
            let level = if matches!(q.level, Level::School) {
                "school"
            } else {
                "la"
            };
            let series = SeriesOf::new(Catalogue::shipped(), q.measure, q.group.id.as_str(), level);
            let (trend, _) = gap_trend(&series, &history, dps);
            let significance = match &gap {
                Some((_, ci)) => gap_significance(*ci),
                None => Significance::NotAssessed,
            };
            let (la, partnership) = match q.level {
                Level::School => unit
                    .parse::<u32>()
                    .map(|u| (Some(la_of(u, places)), places.partnerships.get(&u).cloned()))
                    .unwrap_or((None, None)),
                Level::Partnership => (partnership_la(unit, places), None),
                Level::La => (Some(unit.clone()), None),
                Level::Region | Level::National => (None, None),
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
                value: if ok {
                    f.group.mean().map(|m| number::round(scale * m, dps))
                } else {
                    None
                },
                comparison_cohort: c.map(|c| c.n),
                comparison_value: c
                    .and_then(|c| c.mean())
                    .map(|m| number::round(scale * m, dps)),
                gap: gap.map(|g| number::round(g.0, dps)),
                gap_ci: gap
                    .and_then(|g| g.1)
                    .map(|(a, b)| (number::round(a, dps), number::round(b, dps))),
                significance: significance.label().to_string(),
                status: f.status.to_string(),
                trend: if ok { trend } else { String::new() },
                previous_gaps: history,
                la,
                partnership,
            });
        }
        // Widest gaps (most negative) first; withheld rows last.
        rows.sort_by(|a, b| {
            a.gap
                .unwrap_or(f64::INFINITY)
                .total_cmp(&b.gap.unwrap_or(f64::INFINITY))
                .then(a.code.cmp(&b.code))
        });
        tables.push(rows);
    }
    Ok((tables, warnings))
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

/// Gap rows for the last year of `q.years`, with the gaps of the years before for the
/// trend: one table on its own (its totals over units taken as shown elsewhere).
pub fn gap_rows(
    pupils: &[Pupil],
    q: &PupilQuery,
    means: Option<&PriorMeans>,
    places: &Places,
) -> Result<Vec<PupilGapRow>, ConfigError> {
    Ok(
        gap_tables(pupils, std::slice::from_ref(q), means, places, &[])?
            .0
            .remove(0),
    )
}

/// Units whose gap was among the `widest` widest in every year of the trend window
/// ("the widest disadvantaged gap in writing three years running").
pub fn widest_running(rows: Vec<PupilGapRow>, widest: usize) -> Vec<PupilGapRow> {
    let years: BTreeSet<i32> = rows
        .iter()
        .flat_map(|r| r.previous_gaps.iter().map(|g| g.0))
        .collect();
    let mut keep: Option<BTreeSet<String>> = None;
    for y in years {
        let mut gaps: Vec<(f64, &String)> = rows
            .iter()
            .filter_map(|r| {
                r.previous_gaps
                    .iter()
                    .find(|g| g.0 == y)
                    .and_then(|g| g.1)
                    .map(|g| (g, &r.code))
            })
            .collect();
        gaps.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(b.1)));
        let top: BTreeSet<String> = gaps.into_iter().take(widest).map(|g| g.1.clone()).collect();
        keep = Some(match keep {
            None => top,
            Some(k) => k.intersection(&top).cloned().collect(),
        });
    }
    let keep = keep.unwrap_or_default();
    rows.into_iter()
        .filter(|r| keep.contains(&r.code))
        .collect()
}

impl PupilQuery<'_> {
    fn level_name(&self) -> &'static str {
        self.level.as_str()
    }
    fn unit_name(&self, unit: &str, places: &Places) -> String {
        match self.level {
            Level::School => unit
                .parse::<u32>()
                .ok()
                .and_then(|u| places.schools.get(&u))
                .map(|s| s.0.clone())
                .unwrap_or_default(),
            Level::La => places.las.get(unit).cloned().unwrap_or_else(|| {
                if unit == "all" {
                    "All pupils in the files".into()
                } else {
                    String::new()
                }
            }),
            Level::Partnership => unit.to_string(),
            Level::Region | Level::National => String::new(),
        }
    }
}
