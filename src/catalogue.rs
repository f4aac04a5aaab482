//! The measure catalogue: everything that changes from year to year, kept as
//! data (TOML under `catalogue/`), not code.
//!
//! * `catalogue/measures.toml`: canonical measures (id, description, unit, polarity, key stage).
//! * `catalogue/groups.toml`: canonical pupil groups.
//! * `catalogue/datasets/*.toml`: how to recognise each file family by its
//!   header, and which source column becomes which measure and group in which years.
//!
//! The shipped catalogue is compiled into the binary so `attain` works from any
//! directory; `--catalogue DIR` (or `ATTAIN_CATALOGUE`) reads an edited copy instead.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::ConfigError;

/// One or several alternative column names (header drift between years).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(untagged)]
pub enum Names {
    One(String),
    Many(Vec<String>),
}

impl Names {
    pub fn list(&self) -> Vec<&str> {
        match self {
            Names::One(s) => vec![s.as_str()],
            Names::Many(v) => v.iter().map(String::as_str).collect(),
        }
    }
    pub fn first(&self) -> &str {
        match self {
            Names::One(s) => s,
            Names::Many(v) => v.first().map(String::as_str).unwrap_or(""),
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Measure {
    pub id: String,
    pub key_stage: String,
    pub description: String,
    /// percent | score | progress | count | grade | rate | days
    pub unit: String,
    /// high | low | none: is a higher value better?
    pub polarity: String,
    #[serde(default)]
    pub dps: u32,
    /// Which pupils a figure is about, and so what weights an aggregate (for people).
    #[serde(default)]
    pub cohort: String,
    /// How school figures combine into an LA figure: weighted_mean | sum | none.
    #[serde(default = "default_aggregate")]
    pub aggregate: String,
    #[serde(default)]
    pub headline: bool,
    /// Short label for tables and charts.
    #[serde(default)]
    pub label: String,
    /// The values a school's figure (and so an agreed target) can take, `[min, max]`.
    /// Percentages default to 0-100; other units have no range unless one is given.
    #[serde(default)]
    pub range: Option<[f64; 2]>,
    /// Whole numbers only (default: the unit's `integer`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub integer: Option<bool>,
    /// A known oddity of DfE's own files that puts published values outside `range`: those
    /// are read as published, with a note quoting this, instead of refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub range_oddity: Option<String>,
}

/// What every measure of a unit can hold unless the measure says otherwise
/// (`[units.percent]` in `catalogue/measures.toml`).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct UnitRule {
    #[serde(default)]
    pub range: Option<[f64; 2]>,
    #[serde(default)]
    pub integer: bool,
}

/// The values a published figure of a measure can take, checked as files are read.
#[derive(Debug, Clone)]
pub struct ValueRule {
    pub min: f64,
    pub max: f64,
    pub integer: bool,
    pub oddity: Option<String>,
}

fn default_aggregate() -> String {
    "weighted_mean".into()
}

impl Measure {
    pub fn high_is_good(&self) -> Option<bool> {
        match self.polarity.as_str() {
            "high" => Some(true),
            "low" => Some(false),
            _ => None,
        }
    }
    /// `range`, or 0-100 for a percentage.
    pub fn value_range(&self) -> Option<(f64, f64)> {
        match (self.range, self.unit.as_str()) {
            (Some([lo, hi]), _) => Some((lo, hi)),
            (None, "percent") => Some((0.0, 100.0)),
            _ => None,
        }
    }
    pub fn short_label(&self) -> &str {
        if self.label.is_empty() {
            &self.description
        } else {
            &self.label
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Group {
    pub id: String,
    /// Short name for print (booklet tables, chart legends).
    pub label: String,
    pub description: String,
    /// The group's complement, where one exists (disadvantaged <-> not_disadvantaged).
    #[serde(default)]
    pub complement: Option<String>,
    /// Which pupils of a pupil-level file the group holds (docs/pupil-data.md); none for
    /// groups that exist only in published data.
    #[serde(default)]
    pub pupils: Option<PupilDef>,
    /// What a combined group may not repeat (default: the dimension of `pupils`).
    #[serde(default)]
    pub kind: Option<String>,
}

/// A pupil group's definition over the pupil file's dimensions.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(untagged, deny_unknown_fields)]
pub enum PupilDef {
    Values {
        dimension: String,
        values: Vec<String>,
    },
    AnyOf {
        any_of: Vec<String>,
    },
    Not {
        not: String,
    },
    Everyone {
        everyone: bool,
    },
}

/// A pupil characteristic and every value it can take (its groups make up all pupils).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PupilDimension {
    pub id: String,
    pub values: Vec<String>,
}

/// A level pupil-level figures are given for, and the levels it lies within (nearest first):
/// catalogue/groups.toml's `[[level]]`, spelt as `crate::level::Level` spells them.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LevelNesting {
    pub id: crate::level::Level,
    #[serde(default)]
    pub within: Vec<crate::level::Level>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Relations {
    /// What `a+b` means; only "intersection" is understood.
    #[serde(default)]
    pub combine: Option<String>,
}

/// How to recognise a file family from a header row.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Recognise {
    /// Every one of these columns must be present (case-insensitive).
    #[serde(default)]
    pub all_of: Vec<String>,
    /// At least one of these must be present, if any are listed.
    #[serde(default)]
    pub any_of: Vec<String>,
    /// None of these may be present.
    #[serde(default)]
    pub none_of: Vec<String>,
    /// For workbooks: the file must have a sheet with this name.
    #[serde(default)]
    pub sheet: Option<String>,
    /// For parquet files: columns of the parquet schema.
    #[serde(default)]
    pub parquet: bool,
}

/// How rows are told apart: school, LA, national (performance tables).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Records {
    /// The column that says what a row is (RECTYPE, or URN/LA holding "NAT").
    pub column: Option<Names>,
    #[serde(default)]
    pub school: Vec<String>,
    #[serde(default)]
    pub la: Vec<String>,
    #[serde(default)]
    pub national_all: Vec<String>,
    #[serde(default)]
    pub national_state: Vec<String>,
    /// What rows whose record column matches nothing are: "school" or "skip".
    #[serde(default = "default_other")]
    pub other: String,
    /// A column whose value splits rows by phase (census ESTAB = PRI/SEC/SPE on NAT rows, SCHOOLTYPE on schools).
    #[serde(default)]
    pub phase_columns: Vec<String>,
    #[serde(default)]
    pub phase_values: BTreeMap<String, String>,
    /// A column whose value marks non-state-funded schools (SCHOOLTYPE, NFTYPE).
    #[serde(default)]
    pub scope_columns: Vec<String>,
    #[serde(default)]
    pub scope_values: BTreeMap<String, String>,
    /// Rows that are not national and whose column holds one of these values are LA rows:
    /// the per-LA absence download's `919,PRI,,5.4,13.4` (an LA code, a phase code in ESTAB,
    /// no URN).
    #[serde(default)]
    pub la_row_markers: BTreeMap<String, Vec<String>>,
    /// On LA rows, the columns that may hold the LA code, in order; the first holding a
    /// three-digit code wins. The 2024 per-LA census shifts its LA rows
    /// (`LA,State-funded primary,PRI,919,...`): the code sits under SCHOOLTYPE.
    #[serde(default)]
    pub la_code_columns: Vec<String>,
}

fn default_other() -> String {
    "school".into()
}

/// Key columns that identify the row's body.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Keys {
    pub urn: Option<Names>,
    pub la: Option<Names>,
    pub estab: Option<Names>,
    pub name: Option<Names>,
    pub school_type: Option<Names>,
    pub region: Option<Names>,
    pub la_name: Option<Names>,
    pub new_la_code: Option<Names>,
    pub region_name: Option<Names>,
    pub level: Option<Names>,
    pub time_period: Option<Names>,
    pub version: Option<Names>,
    /// The academy a school became (`URN_AC`): a link to the school's successor.
    pub successor_urn: Option<Names>,
    /// The date that academy opened (`OPEN_AC`, YYYYMMDD).
    pub successor_open: Option<Names>,
}

/// How to find the year of a file from its content.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct YearRule {
    /// Column patterns with `{yy}` for prior-year copies (PTRWM_EXP_18 in the 2019 file):
    /// the file's year is the newest such suffix plus one.
    #[serde(default)]
    pub prior_year_columns: Vec<String>,
}

/// A header signature known to belong to one year's edition of a file family.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Edition {
    pub year: i32,
    #[serde(default)]
    pub all_of: Vec<String>,
    #[serde(default)]
    pub none_of: Vec<String>,
    #[serde(default)]
    pub note: String,
}

/// One source column mapped to a measure and group.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ColumnMap {
    pub source: Names,
    pub measure: String,
    #[serde(default = "default_group")]
    pub group: String,
    /// The count column that is this figure's cohort (denominator).
    #[serde(default)]
    pub cohort: Option<Names>,
    /// The count column that is this figure's numerator.
    #[serde(default)]
    pub numerator: Option<Names>,
    /// Lower and upper confidence limits.
    #[serde(default)]
    pub ci: Option<[String; 2]>,
    /// value = numerator / cohort * scale, when the file has no ready-made value column
    /// (then `source` names the numerator).
    #[serde(default)]
    pub ratio_scale: Option<f64>,
    /// Inclusive year range this mapping applies to (default: all years).
    #[serde(default)]
    pub years: Option<[i32; 2]>,
    /// Only for these record levels (school, la, national); default all.
    #[serde(default)]
    pub levels: Vec<String>,
}

fn default_group() -> String {
    "all".into()
}

impl ColumnMap {
    pub fn applies_to(&self, year: i32) -> bool {
        match self.years {
            Some([a, b]) => year >= a && year <= b,
            None => true,
        }
    }
}

/// A rule for tidy (EES) files: rows whose filter columns match become a group.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct GroupRule {
    /// column -> value (case-insensitive); every other filter column must be its total value.
    #[serde(rename = "when")]
    pub when: BTreeMap<String, Names>,
    pub group: String,
    /// Phase this slice is about (absence files split by phase).
    #[serde(default)]
    pub phase: Option<String>,
}

/// Tidy-file settings (Explore Education Statistics).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Tidy {
    /// Filter columns: each row is one combination of their values.
    #[serde(default)]
    pub filters: Vec<Names>,
    /// The value of a filter column that means "everyone".
    #[serde(default = "default_total")]
    pub total: Vec<String>,
    #[serde(default)]
    pub groups: Vec<GroupRule>,
    /// Map geographic_level values to levels.
    #[serde(default)]
    pub levels: BTreeMap<String, String>,
}

fn default_total() -> Vec<String> {
    vec!["Total".into()]
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Dataset {
    pub id: String,
    /// Which reader handles the family (see `ingest::readers`).
    pub reader: String,
    pub description: String,
    #[serde(default)]
    pub key_stage: String,
    /// Lower numbers are tried first when several families could match.
    #[serde(default = "default_priority")]
    pub priority: i32,
    pub recognise: Recognise,
    /// Why a recognised file yields no results (metadata, notes).
    #[serde(default)]
    pub skip_reason: Option<String>,
    #[serde(default)]
    pub records: Records,
    #[serde(default)]
    pub keys: Keys,
    #[serde(default)]
    pub year: YearRule,
    #[serde(default, rename = "edition")]
    pub editions: Vec<Edition>,
    #[serde(default, rename = "column")]
    pub columns: Vec<ColumnMap>,
    #[serde(default)]
    pub tidy: Tidy,
    /// Free-form reader settings (e.g. LAIT short-desc to measure maps).
    #[serde(default)]
    pub settings: BTreeMap<String, toml::Value>,
    /// Map for readers that translate source codes to measure+group (LAIT short descriptions).
    #[serde(default, rename = "code")]
    pub codes: Vec<CodeMap>,
}

fn default_priority() -> i32 {
    50
}

/// A source code (e.g. LAIT `Short Desc`) mapped to a canonical measure and group.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CodeMap {
    pub source: String,
    pub measure: String,
    #[serde(default = "default_group")]
    pub group: String,
}

/// Establishment type codes: which are LA maintained.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SchoolTypes {
    pub maintained: Vec<String>,
    pub academy: Vec<String>,
    pub independent: Vec<String>,
    /// Special-school type codes: their figures are compared with special schools'.
    #[serde(default)]
    pub special: Vec<String>,
    #[serde(default)]
    pub names: BTreeMap<String, String>,
    /// The store's phase ids in words ("all_through" -> "All-through"), for print.
    #[serde(default)]
    pub phases: BTreeMap<String, String>,
    /// Other names of a code (GIAS's words: "Academy converter" for ACC).
    #[serde(default)]
    pub aliases: BTreeMap<String, Vec<String>>,
}

impl SchoolTypes {
    /// The code of a type given by code or by name ("Community school" counts as CY).
    fn code<'t>(&'t self, text: &'t str) -> &'t str {
        let c = text.trim();
        self.names
            .iter()
            .find(|(_, name)| name.eq_ignore_ascii_case(c))
            .map(|(code, _)| code.as_str())
            .or_else(|| {
                self.aliases
                    .iter()
                    .find(|(_, names)| names.iter().any(|n| n.eq_ignore_ascii_case(c)))
                    .map(|(code, _)| code.as_str())
            })
            .unwrap_or(c)
    }

    /// The type in words for print: the name of a type code ("CY" -> "Community school"),
    /// or the text as given where it is already a name (GIAS writes types in words).
    pub fn name<'t>(&'t self, text: &'t str) -> &'t str {
        let c = text.trim();
        self.names
            .iter()
            .find(|(code, _)| code.eq_ignore_ascii_case(c))
            .map(|(_, name)| name.as_str())
            .unwrap_or(c)
    }

    /// A phase id in words for print ("primary" -> "Primary"); an id the catalogue does not
    /// name is printed with its first letter capitalised and underscores as spaces.
    pub fn phase_name(&self, phase: &str) -> String {
        match self.phases.get(phase.trim()) {
            Some(name) => name.clone(),
            None => {
                let words = phase.trim().replace('_', " ");
                let mut c = words.chars();
                c.next()
                    .map(|f| f.to_uppercase().chain(c).collect())
                    .unwrap_or_default()
            }
        }
    }

    fn is_code(&self, c: &str) -> bool {
        self.maintained
            .iter()
            .chain(&self.academy)
            .chain(&self.independent)
            .chain(self.names.keys())
            .any(|k| k.eq_ignore_ascii_case(c))
    }

    /// A type given by code or name as (name, code): `ACC` -> ("Academy (converter)",
    /// Some("ACC")); "Academy converter" (GIAS) -> ("Academy (converter)", Some("ACC")); a
    /// name the catalogue does not know stays as given, with no code.
    pub fn name_and_code(&self, text: &str) -> (String, Option<String>) {
        let c = self.code(text);
        if !self.is_code(c) {
            return (text.trim().to_string(), None);
        }
        let code = c.to_ascii_uppercase();
        let name = self
            .names
            .get(&code)
            .cloned()
            .unwrap_or_else(|| text.trim().to_string());
        (name, Some(code))
    }

    /// `maintained`, `academy` or `independent`, by the catalogue's lists.
    pub fn category(&self, text: &str) -> Option<String> {
        let c = self.code(text);
        let has = |l: &[String]| l.iter().any(|m| m.eq_ignore_ascii_case(c));
        [
            ("maintained", &self.maintained),
            ("academy", &self.academy),
            ("independent", &self.independent),
        ]
        .into_iter()
        .find(|(_, l)| has(l))
        .map(|(n, _)| n.to_string())
    }

    /// A special school's type: a special type code, or a type name that says so (GIAS
    /// names types in words: "Foundation special school", "Free schools special").
    pub fn is_special(&self, text: &str) -> bool {
        let c = self.code(text);
        self.special.iter().any(|m| m.eq_ignore_ascii_case(c))
            || text.to_ascii_lowercase().contains("special")
    }

    /// Some(true) for LA-maintained type codes, Some(false) for academies and independents.
    pub fn la_maintained(&self, code: &str) -> Option<bool> {
        let c = self.code(code);
        if self.maintained.iter().any(|m| m.eq_ignore_ascii_case(c)) {
            Some(true)
        } else if self
            .academy
            .iter()
            .chain(&self.independent)
            .any(|m| m.eq_ignore_ascii_case(c))
        {
            Some(false)
        } else {
            None
        }
    }
}

/// A break in a time series (catalogue/breaks.toml).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SeriesBreak {
    #[serde(default)]
    pub key_stages: Vec<String>,
    #[serde(default)]
    pub measures: Vec<String>,
    /// Only these pupil groups (default: every group): prior-attainment bands need a prior
    /// assessment that some cohorts never sat.
    #[serde(default)]
    pub groups: Vec<String>,
    /// Only figures at these levels (`school`, `la`, `national`; default: every level): DfE
    /// published 2021/22 KS2 results for LAs and England but not by school.
    #[serde(default)]
    pub levels: Vec<String>,
    pub years: Vec<i32>,
    /// no_data | not_comparable | standalone (`analysis::series_breaks` says what each means)
    pub kind: String,
    pub note: String,
}

#[derive(Debug, Deserialize)]
struct BreaksFile {
    #[serde(rename = "break")]
    breaks: Vec<SeriesBreak>,
}

#[derive(Debug, Deserialize)]
struct MeasuresFile {
    #[serde(default)]
    units: BTreeMap<String, UnitRule>,
    measure: Vec<Measure>,
}

#[derive(Debug, Deserialize)]
struct GroupsFile {
    group: Vec<Group>,
    #[serde(default)]
    dimension: Vec<PupilDimension>,
    #[serde(default)]
    level: Vec<LevelNesting>,
    #[serde(default)]
    relations: Relations,
}

/// The booklet's contents (catalogue/booklet.toml): sections, their measures and
/// comparators, charts, targets and gap pairs.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BookletContents {
    #[serde(rename = "section")]
    pub sections: Vec<BookletSection>,
    #[serde(rename = "gap", default)]
    pub gaps: Vec<BookletGap>,
    #[serde(default)]
    pub pupil_gaps: BookletPupilGaps,
    #[serde(default)]
    pub summary: BookletSummary,
    #[serde(default)]
    pub small_cohorts: SmallCohorts,
}

/// Page one's headline measures (`[summary]`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BookletSummary {
    #[serde(default)]
    pub headline: Vec<String>,
}

/// When a figure is about few pupils, and where its three-year figure comes from.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmallCohorts {
    /// A figure about fewer pupils than this gets its three-year figure beside it (0: never).
    #[serde(default)]
    pub below: f64,
    /// One-year measure -> DfE's three-year measure (the files' `_3YR` columns).
    #[serde(default)]
    pub published: BTreeMap<String, String>,
}

/// The rules behind page one's strengths and areas to investigate
/// (catalogue/summary_rules.toml, docs/summary_rules.md).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SummaryRules {
    /// At most this many sentences of each kind.
    #[serde(default = "six")]
    pub max: usize,
    #[serde(rename = "rule", default)]
    pub rules: Vec<SummaryRule>,
}

fn six() -> usize {
    6
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SummaryRule {
    pub id: String,
    /// strength or area.
    pub kind: String,
    /// significantly_above, significantly_below, top_fifth, bottom_fifth, rising, falling.
    pub test: String,
    /// The test holds in at least `in` of the last `of` years.
    #[serde(rename = "in")]
    pub in_years: usize,
    pub of: usize,
    pub measures: Vec<String>,
    #[serde(default = "all_group")]
    pub group: String,
    pub sentence: String,
}

fn all_group() -> String {
    "all".into()
}

/// The placeholders a rule's sentence may use.
pub const SENTENCE_FIELDS: [&str; 5] = ["group", "measure", "figures", "among", "years"];

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BookletSection {
    pub id: String,
    /// context, key_stage, attendance or table.
    pub kind: String,
    pub title: String,
    pub measures: Vec<String>,
    /// Comparators printed: la, england, neighbours, percentile, significance.
    #[serde(default)]
    pub compare: Vec<String>,
    #[serde(default)]
    pub charts: Vec<String>,
    #[serde(default)]
    pub targets: Vec<String>,
    #[serde(default)]
    pub gaps: Vec<String>,
    /// Pupil groups each measure is printed for (empty: all pupils).
    #[serde(default)]
    pub groups: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BookletGap {
    pub group: String,
    /// within or national.
    pub against: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BookletPupilGaps {
    #[serde(default)]
    pub measures: Vec<String>,
    #[serde(default)]
    pub groups: Vec<String>,
}

impl BookletContents {
    /// Every measure the booklet prints, in section order, each once.
    pub fn measures(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for s in &self.sections {
            for m in s
                .measures
                .iter()
                .chain(&s.charts)
                .chain(&s.targets)
                .chain(&s.gaps)
            {
                if !out.contains(&m.as_str()) {
                    out.push(m);
                }
            }
        }
        out
    }

    pub fn section(&self, id: &str) -> Option<&BookletSection> {
        self.sections.iter().find(|s| s.id == id)
    }

    /// The measures with suggested targets (and a target-form row), in section order.
    pub fn target_measures(&self) -> Vec<&str> {
        self.sections
            .iter()
            .flat_map(|s| s.targets.iter().map(String::as_str))
            .collect()
    }
}

/// The whole catalogue, validated.
#[derive(Debug, Clone)]
pub struct Catalogue {
    pub measures: Vec<Measure>,
    pub groups: Vec<Group>,
    /// Pupil-level dimensions and the nesting of levels (catalogue/groups.toml).
    pub pupil_dimensions: Vec<PupilDimension>,
    pub levels: Vec<LevelNesting>,
    pub relations: Relations,
    pub datasets: Vec<Dataset>,
    pub school_types: SchoolTypes,
    pub breaks: Vec<SeriesBreak>,
    by_measure: HashMap<String, usize>,
    pub origin: String,
    /// sha256 of every catalogue file's text: a pipeline stage reruns when the catalogue changes.
    pub fingerprint: String,
    /// Default ranges by unit (`[units.*]` in measures.toml).
    pub units: BTreeMap<String, UnitRule>,
    pub booklet: BookletContents,
    pub summary_rules: SummaryRules,
}

/// The shipped catalogue, compiled in.
const BUILTIN_MEASURES: &str = include_str!("../catalogue/measures.toml");
const BUILTIN_GROUPS: &str = include_str!("../catalogue/groups.toml");
const BUILTIN_SCHOOL_TYPES: &str = include_str!("../catalogue/school_types.toml");
const BUILTIN_BREAKS: &str = include_str!("../catalogue/breaks.toml");
const BUILTIN_BOOKLET: &str = include_str!("../catalogue/booklet.toml");
const BUILTIN_SUMMARY_RULES: &str = include_str!("../catalogue/summary_rules.toml");
const BUILTIN_DATASETS: &[(&str, &str)] = &include!(concat!(env!("OUT_DIR"), "/datasets.rs"));

impl Catalogue {
    /// The values a measure's published figures can take: its own `range` (and `integer`),
    /// else its unit's. `None`: not checked.
    pub fn value_rule(&self, measure: &str) -> Option<ValueRule> {
        let m = self.measures.get(*self.by_measure.get(measure)?)?;
        let unit = self.units.get(&m.unit);
        let [min, max] = m.range.or(unit.and_then(|u| u.range))?;
        let integer = m.integer.unwrap_or(unit.is_some_and(|u| u.integer));
        Some(ValueRule {
            min,
            max,
            integer,
            oddity: m.range_oddity.clone(),
        })
    }

    /// The catalogue compiled into the binary.
    /// The shipped catalogue, parsed once (for code without a store's catalogue at hand).
    pub fn shipped() -> &'static Catalogue {
        static CAT: std::sync::OnceLock<Catalogue> = std::sync::OnceLock::new();
        CAT.get_or_init(Catalogue::builtin)
    }

    pub fn builtin() -> Catalogue {
        let datasets = BUILTIN_DATASETS
            .iter()
            .map(|(n, t)| (n.to_string(), t.to_string()))
            .collect();
        Catalogue::parse(
            BUILTIN_MEASURES,
            BUILTIN_GROUPS,
            BUILTIN_SCHOOL_TYPES,
            BUILTIN_BREAKS,
            BUILTIN_BOOKLET,
            BUILTIN_SUMMARY_RULES,
            datasets,
            "built-in catalogue".into(),
        )
        .expect("the shipped catalogue is valid (checked by tests)")
    }

    /// `dir` if given, else `ATTAIN_CATALOGUE`, else the built-in one.
    pub fn load(dir: Option<&Path>) -> Result<Catalogue, ConfigError> {
        let env_dir = std::env::var_os("ATTAIN_CATALOGUE").map(PathBuf::from);
        match dir.map(Path::to_path_buf).or(env_dir) {
            Some(d) => Catalogue::from_dir(&d),
            None => Ok(Catalogue::builtin()),
        }
    }

    pub fn from_dir(dir: &Path) -> Result<Catalogue, ConfigError> {
        let read = |p: PathBuf| {
            std::fs::read_to_string(&p)
                .map_err(|e| ConfigError::new(p.display().to_string(), e.to_string()))
        };
        let measures = read(dir.join("measures.toml"))?;
        let groups = read(dir.join("groups.toml"))?;
        let types = read(dir.join("school_types.toml"))?;
        let breaks = read(dir.join("breaks.toml"))?;
        // A catalogue directory from before booklet.toml existed keeps the shipped contents.
        let booklet_path = dir.join("booklet.toml");
        let booklet = if booklet_path.exists() {
            read(booklet_path)?
        } else {
            BUILTIN_BOOKLET.to_string()
        };
        let rules_path = dir.join("summary_rules.toml");
        let summary_rules = if rules_path.exists() {
            read(rules_path)?
        } else {
            BUILTIN_SUMMARY_RULES.to_string()
        };
        let mut datasets = Vec::new();
        let ddir = dir.join("datasets");
        let mut entries: Vec<PathBuf> = std::fs::read_dir(&ddir)
            .map_err(|e| ConfigError::new(ddir.display().to_string(), e.to_string()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        entries.sort();
        for p in entries {
            datasets.push((p.display().to_string(), read(p)?));
        }
        Catalogue::parse(
            &measures,
            &groups,
            &types,
            &breaks,
            &booklet,
            &summary_rules,
            datasets,
            dir.display().to_string(),
        )
    }

    // One text per catalogue file: a struct would only rename them.
    #[allow(clippy::too_many_arguments)]
    fn parse(
        measures: &str,
        groups: &str,
        types: &str,
        breaks: &str,
        booklet: &str,
        summary_rules: &str,
        datasets: Vec<(String, String)>,
        origin: String,
    ) -> Result<Catalogue, ConfigError> {
        let fingerprint = {
            use sha2::{Digest, Sha256};
            let mut h = Sha256::new();
            for text in [measures, groups, types, breaks, booklet, summary_rules]
                .into_iter()
                .chain(datasets.iter().map(|(_, t)| t.as_str()))
            {
                h.update((text.len() as u64).to_le_bytes());
                h.update(text.as_bytes());
            }
            h.finalize().iter().map(|b| format!("{b:02x}")).collect()
        };
        let m: MeasuresFile = toml::from_str(measures)
            .map_err(|e| ConfigError::new("catalogue/measures.toml", e.to_string()))?;
        let g: GroupsFile = toml::from_str(groups)
            .map_err(|e| ConfigError::new("catalogue/groups.toml", e.to_string()))?;
        let school_types: SchoolTypes = toml::from_str(types)
            .map_err(|e| ConfigError::new("catalogue/school_types.toml", e.to_string()))?;
        let breaks: BreaksFile = toml::from_str(breaks)
            .map_err(|e| ConfigError::new("catalogue/breaks.toml", e.to_string()))?;
        let booklet: BookletContents = toml::from_str(booklet)
            .map_err(|e| ConfigError::new("catalogue/booklet.toml", e.to_string()))?;
        let summary_rules: SummaryRules = toml::from_str(summary_rules)
            .map_err(|e| ConfigError::new("catalogue/summary_rules.toml", e.to_string()))?;
        let mut ds = Vec::new();
        for (name, text) in datasets {
            let d: Dataset =
                toml::from_str(&text).map_err(|e| ConfigError::new(name.clone(), e.to_string()))?;
            ds.push(d);
        }
        ds.sort_by(|a, b| a.priority.cmp(&b.priority).then(a.id.cmp(&b.id)));
        let by_measure = m
            .measure
            .iter()
            .enumerate()
            .map(|(i, x)| (x.id.clone(), i))
            .collect();
        let cat = Catalogue {
            measures: m.measure,
            groups: g.group,
            pupil_dimensions: g.dimension,
            levels: g.level,
            relations: g.relations,
            datasets: ds,
            school_types,
            breaks: breaks.breaks,
            by_measure,
            origin,
            fingerprint,
            units: m.units,
            booklet,
            summary_rules,
        };
        cat.validate()?;
        Ok(cat)
    }

    /// Every mapping must name a measure and group that exist; ids must be unique.
    fn validate(&self) -> Result<(), ConfigError> {
        let mut seen = std::collections::HashSet::new();
        for m in &self.measures {
            if !seen.insert(&m.id) {
                return Err(ConfigError::new(
                    "catalogue/measures.toml",
                    format!("measure {} is defined twice", m.id),
                ));
            }
            if !matches!(m.polarity.as_str(), "high" | "low" | "none") {
                return Err(ConfigError::new(
                    "catalogue/measures.toml",
                    format!("measure {}: polarity must be high, low or none", m.id),
                ));
            }
            if let Some([lo, hi]) = m.range {
                // Written so that NaN bounds fail too.
                #[allow(clippy::neg_cmp_op_on_partial_ord)]
                if !(lo < hi) {
                    return Err(ConfigError::new(
                        "catalogue/measures.toml",
                        format!("measure {}: range must be [min, max] with min < max", m.id),
                    ));
                }
            }
        }
        // Pupil-group definitions and relations (disclosure control relies on them).
        crate::analysis::pupil_groups::GroupDefs::from_catalogue(self)?;
        let groups: std::collections::HashSet<&str> =
            self.groups.iter().map(|g| g.id.as_str()).collect();
        // A misspelt id in breaks.toml would silently drop the reason a figure is missing.
        for b in &self.breaks {
            let what = |m: String| {
                ConfigError::new(
                    "catalogue/breaks.toml",
                    format!("break \"{}\": {m}", b.note),
                )
            };
            if !matches!(b.kind.as_str(), "no_data" | "not_comparable" | "standalone") {
                return Err(what(format!(
                    "kind must be no_data, not_comparable or standalone, not {:?}",
                    b.kind
                )));
            }
            if let Some(m) = b
                .measures
                .iter()
                .find(|m| !self.by_measure.contains_key(m.as_str()))
            {
                return Err(what(format!("unknown measure {m}")));
            }
            if let Some(g) = b.groups.iter().find(|g| !groups.contains(g.as_str())) {
                return Err(what(format!("unknown group {g}")));
            }
            if let Some(l) = b
                .levels
                .iter()
                .find(|l| !matches!(l.as_str(), "school" | "la" | "national"))
            {
                return Err(what(format!(
                    "level must be school, la or national, not {l:?}"
                )));
            }
        }
        self.validate_booklet(&groups)?;
        self.validate_summary_rules(&groups)?;
        let mut ids = std::collections::HashSet::new();
        for d in &self.datasets {
            let file = format!("catalogue/datasets/{}.toml", d.id);
            if !ids.insert(&d.id) {
                return Err(ConfigError::new(
                    file,
                    format!("dataset id {} is used twice", d.id),
                ));
            }
            let check = |measure: &str, group: &str, what: &str| -> Result<(), ConfigError> {
                if !self.by_measure.contains_key(measure) {
                    return Err(ConfigError::new(
                        file.clone(),
                        format!("{what}: unknown measure {measure}"),
                    ));
                }
                if !groups.contains(group) {
                    return Err(ConfigError::new(
                        file.clone(),
                        format!("{what}: unknown group {group}"),
                    ));
                }
                Ok(())
            };
            for c in &d.columns {
                check(
                    &c.measure,
                    &c.group,
                    &format!("column {}", c.source.first()),
                )?;
            }
            for c in &d.codes {
                check(&c.measure, &c.group, &format!("code {}", c.source))?;
            }
            for r in &d.tidy.groups {
                if !groups.contains(r.group.as_str()) {
                    return Err(ConfigError::new(
                        file.clone(),
                        format!("tidy group rule: unknown group {}", r.group),
                    ));
                }
            }
        }
        Ok(())
    }

    /// summary_rules.toml names measures, groups, tests and placeholders that exist.
    fn validate_summary_rules(
        &self,
        groups: &std::collections::HashSet<&str>,
    ) -> Result<(), ConfigError> {
        for r in &self.summary_rules.rules {
            let err = |m: String| {
                ConfigError::new(
                    "catalogue/summary_rules.toml",
                    format!("rule {}: {m}", r.id),
                )
            };
            if !matches!(r.kind.as_str(), "strength" | "area") {
                return Err(err(format!(
                    "kind must be strength or area, not {:?}",
                    r.kind
                )));
            }
            if !matches!(
                r.test.as_str(),
                "significantly_above"
                    | "significantly_below"
                    | "top_fifth"
                    | "bottom_fifth"
                    | "rising"
                    | "falling"
            ) {
                return Err(err(format!(
                    "test must be significantly_above, significantly_below, top_fifth, bottom_fifth, rising or \
                        falling, not {:?}",
                    r.test
                )));
            }
            if r.of == 0 || r.of > 3 || r.in_years == 0 || r.in_years > r.of {
                return Err(err(format!(
                    "in = {} of = {}: need 1 <= in <= of <= 3 (the booklet's three years)",
                    r.in_years, r.of
                )));
            }
            if let Some(m) = r
                .measures
                .iter()
                .find(|m| !self.by_measure.contains_key(m.as_str()))
            {
                return Err(err(format!("unknown measure {m}")));
            }
            if !groups.contains(r.group.as_str()) {
                return Err(err(format!("unknown group {}", r.group)));
            }
            let mut rest = r.sentence.as_str();
            while let Some(open) = rest.find('{') {
                let close = rest[open..]
                    .find('}')
                    .ok_or_else(|| err("sentence: unclosed {".into()))?;
                let field = &rest[open + 1..open + close];
                if !SENTENCE_FIELDS.contains(&field) {
                    return Err(err(format!(
                        "sentence: unknown placeholder {{{field}}} (known: {})",
                        SENTENCE_FIELDS.join(", ")
                    )));
                }
                rest = &rest[open + close + 1..];
            }
        }
        Ok(())
    }

    /// booklet.toml names measures and groups that exist, and kinds the templates know.
    fn validate_booklet(
        &self,
        groups: &std::collections::HashSet<&str>,
    ) -> Result<(), ConfigError> {
        let err = |m: String| ConfigError::new("catalogue/booklet.toml", m);
        for s in &self.booklet.sections {
            if !matches!(
                s.kind.as_str(),
                "context" | "key_stage" | "attendance" | "table"
            ) {
                return Err(err(format!(
                    "section {}: kind must be context, key_stage, attendance or table, not {:?}",
                    s.id, s.kind
                )));
            }
            for m in s
                .measures
                .iter()
                .chain(&s.charts)
                .chain(&s.targets)
                .chain(&s.gaps)
            {
                if !self.by_measure.contains_key(m.as_str()) {
                    return Err(err(format!("section {}: unknown measure {m}", s.id)));
                }
            }
            if let Some(c) = s.compare.iter().find(|c| {
                !matches!(
                    c.as_str(),
                    "la" | "england" | "neighbours" | "percentile" | "significance"
                )
            }) {
                return Err(err(format!(
                    "section {}: compare must list la, england, neighbours, percentile or significance, not {c:?}",
                    s.id
                )));
            }
        }
        for g in &self.booklet.gaps {
            if !groups.contains(g.group.as_str()) {
                return Err(err(format!("gap: unknown group {}", g.group)));
            }
            if !matches!(g.against.as_str(), "within" | "national") {
                return Err(err(format!(
                    "gap {}: against must be within or national, not {:?}",
                    g.group, g.against
                )));
            }
        }
        for s in &self.booklet.sections {
            if let Some(g) = s.groups.iter().find(|g| !groups.contains(g.as_str())) {
                return Err(err(format!("section {}: unknown group {g}", s.id)));
            }
        }
        for m in &self.booklet.summary.headline {
            if !self.by_measure.contains_key(m.as_str()) {
                return Err(err(format!("summary: unknown measure {m}")));
            }
        }
        for (one, three) in &self.booklet.small_cohorts.published {
            for m in [one, three] {
                if !self.by_measure.contains_key(m.as_str()) {
                    return Err(err(format!("small_cohorts: unknown measure {m}")));
                }
            }
        }
        for m in &self.booklet.pupil_gaps.measures {
            if !self.by_measure.contains_key(m.as_str()) {
                return Err(err(format!("pupil_gaps: unknown measure {m}")));
            }
        }
        for g in self
            .booklet
            .pupil_gaps
            .groups
            .iter()
            .flat_map(|g| g.split('+'))
        {
            if !groups.contains(g) {
                return Err(err(format!("pupil_gaps: unknown group {g}")));
            }
        }
        Ok(())
    }

    pub fn measure(&self, id: &str) -> Option<&Measure> {
        self.by_measure.get(id).map(|&i| &self.measures[i])
    }

    pub fn group(&self, id: &str) -> Option<&Group> {
        self.groups.iter().find(|g| g.id == id)
    }

    /// The breaks that apply to a measure in a year (for all pupils, at every level).
    pub fn breaks_for(&self, measure: &str, year: i32) -> Vec<&SeriesBreak> {
        self.breaks_for_group(measure, "all", year, None)
    }

    /// The breaks that apply to a measure for one pupil group in a year, at one level
    /// (`school`, `la`, `national`), or with `None` only those that apply at every level.
    pub fn breaks_for_group(
        &self,
        measure: &str,
        group: &str,
        year: i32,
        level: Option<&str>,
    ) -> Vec<&SeriesBreak> {
        let ks = self
            .measure(measure)
            .map(|m| m.key_stage.as_str())
            .unwrap_or("");
        let matches = |b: &&SeriesBreak| {
            b.measures.iter().any(|m| m == measure) || b.key_stages.iter().any(|k| k == ks)
        };
        let at_level = |b: &&SeriesBreak| {
            b.levels.is_empty() || level.is_some_and(|l| b.levels.iter().any(|x| x == l))
        };
        self.breaks
            .iter()
            .filter(|b| {
                b.years.contains(&year)
                    && matches(b)
                    && (b.groups.is_empty() || b.groups.iter().any(|g| g == group))
                    && at_level(b)
            })
            .collect()
    }

    pub fn dataset(&self, id: &str) -> Option<&Dataset> {
        self.datasets.iter().find(|d| d.id == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_catalogue_is_valid_and_matches_the_directory() {
        let builtin = Catalogue::builtin();
        let from_dir =
            Catalogue::from_dir(Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/catalogue")))
                .unwrap();
        assert_eq!(builtin.datasets.len(), from_dir.datasets.len());
        assert!(builtin
            .measure("ks2_rwm_expected")
            .unwrap()
            .high_is_good()
            .unwrap());
        assert_eq!(
            builtin
                .measure("absence_persistent")
                .unwrap()
                .high_is_good(),
            Some(false)
        );
        assert_eq!(builtin.school_types.la_maintained("CY"), Some(true));
        assert_eq!(builtin.school_types.la_maintained("ACC"), Some(false));
        assert_eq!(builtin.school_types.la_maintained("ZZZ"), None);
        assert_eq!(builtin.school_types.name("CY"), "Community school");
        assert_eq!(
            builtin.school_types.phase_name("all_through"),
            "All-through"
        );
        assert_eq!(
            builtin.school_types.phase_name("middle_school"),
            "Middle school"
        );
        assert_eq!(
            builtin.school_types.name("Foundation school"),
            "Foundation school"
        );
        // Every type code the lists know has a name to print.
        let st = &builtin.school_types;
        for code in st
            .maintained
            .iter()
            .chain(&st.academy)
            .chain(&st.independent)
        {
            assert!(
                st.names.contains_key(code),
                "{code} has no name in school_types.toml"
            );
        }
    }

    #[test]
    fn a_mapping_to_an_unknown_measure_is_rejected() {
        let bad = r#"
id = "x"
reader = "performance_table"
description = "x"
[recognise]
all_of = ["A"]
[[column]]
source = "A"
measure = "no_such_measure"
"#;
        let err = Catalogue::parse(
            BUILTIN_MEASURES,
            BUILTIN_GROUPS,
            BUILTIN_SCHOOL_TYPES,
            BUILTIN_BREAKS,
            BUILTIN_BOOKLET,
            BUILTIN_SUMMARY_RULES,
            vec![("bad.toml".into(), bad.into())],
            "test".into(),
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("unknown measure no_such_measure"),
            "{err}"
        );
    }
}
