//! The canonical store: what each table holds. The parquet files under the
//! store directory have exactly these columns (see docs/store.md).

use std::sync::Arc;

use crate::value::Status;

/// Which kind of body a result is about (one enum for every layer: `crate::level`).
pub use crate::level::Level;

/// The code used for England in every national row (LAIT uses 970 for the same thing).
pub const ENGLAND: &str = "E92000001";

/// One figure from one source row: the `results` table.
#[derive(Debug, Clone)]
pub struct ResultRow {
    /// Summer-end academic year: 2019 = 2018/19.
    pub year: i32,
    pub level: Level,
    /// URN for schools, 3-digit LA code for LAs, region code, `E92000001` for England.
    pub code: String,
    /// The LA a school belongs to (for LA rows, the LA itself).
    pub la_code: Option<String>,
    /// Which schools a national or LA figure covers: `state_funded` or `all_schools`.
    pub scope: &'static str,
    /// `all`, `primary`, `secondary`, `special`, `ap` (census and absence split national rows by phase).
    pub phase: &'static str,
    pub key_stage: Arc<str>,
    pub measure: Arc<str>,
    pub group: Arc<str>,
    pub value: Option<f64>,
    /// The pupils the figure is about (denominator), where the file gives it.
    pub cohort: Option<f64>,
    /// The numerator, where the file gives it unrounded (EES t_ columns).
    pub numerator: Option<f64>,
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
    pub status: Status,
    /// provisional / revised / final / unknown
    pub version: Arc<str>,
    /// The catalogue dataset the row came through.
    pub dataset: Arc<str>,
    pub source_column: Arc<str>,
    pub source_file: Arc<str>,
    pub source_row: u64,
}

/// One school: the `schools` table.
#[derive(Debug, Clone, Default)]
pub struct SchoolRow {
    pub urn: String,
    pub name: Option<String>,
    pub la_code: Option<String>,
    pub la_name: Option<String>,
    pub estab: Option<String>,
    /// primary / secondary / all-through / special / nursery / 16 plus / ap / unknown
    pub phase: Option<String>,
    /// The establishment type's name ("Academy (converter)"), from the catalogue's names
    /// where the file gives a code or GIAS's words (`catalogue/school_types.toml`).
    pub school_type: Option<String>,
    /// The performance tables' code for the type (NFTYPE: `ACC`), where the catalogue knows it.
    pub school_type_code: Option<String>,
    /// LA maintained (true) or academy, free school, independent (false).
    pub la_maintained: Option<bool>,
    pub status: Option<String>,
    /// Street, locality and third address line, joined with ", ".
    pub address: Option<String>,
    pub town: Option<String>,
    pub postcode: Option<String>,
    pub low_age: Option<i32>,
    pub high_age: Option<i32>,
    /// Days since 1970-01-01 (performance tables give the open date only if on or after
    /// 12 September 2018).
    pub open_date: Option<i64>,
    pub close_date: Option<i64>,
    pub religious_character: Option<String>,
    pub gender: Option<String>,
    /// As published ("Non-selective", "Selective", "Not applicable" is left out).
    pub admissions_policy: Option<String>,
    pub trust: Option<String>,
    pub pupils: Option<f64>,
    /// Most recent academic year any source describes the school in (for precedence).
    pub as_of_year: i32,
    /// How authoritative the source is for descriptive fields (GIAS highest).
    pub precedence: u8,
    pub source_file: String,
}

/// One statistical-neighbour link: the `neighbours` table.
#[derive(Debug, Clone)]
pub struct NeighbourRow {
    pub model: i32,
    pub la_code: String,
    pub la_name: Option<String>,
    pub position: i32,
    pub neighbour_code: String,
    /// very close / close / somewhat close / not close (normalised case and spaces)
    pub closeness: Option<String>,
    pub source_file: String,
}

/// Ofsted's frameworks, as the `framework` column names them.
pub mod framework {
    /// A graded inspection with an overall effectiveness judgement on the 1-4 scale
    /// (outstanding, good, requires improvement, inadequate): Ofsted's "OEIF" grades up to
    /// November 2025, and the older workbooks' grades, which use the same scale and words.
    pub const OEIF: &str = "oeif";
    /// A report-card inspection (from 10 November 2025): evaluation areas on a five-point
    /// scale and safeguarding met / not met, no overall grade.
    pub const REPORT_CARD: &str = "report_card";
    /// An ungraded (section 8) inspection: an outcome sentence ("School remains Good"), no grades.
    pub const UNGRADED: &str = "ungraded";
}

/// One Ofsted inspection of one school as a file gives it: the `inspections` table. A file
/// may give several for a school (its latest report card, latest OEIF graded and latest
/// ungraded inspection); the graded areas are in `inspection_judgements`.
#[derive(Debug, Clone)]
pub struct InspectionRow {
    pub urn: String,
    /// The school's LA where the file says (the report-card file's LAESTAB); None otherwise.
    pub la_code: Option<String>,
    /// `oeif`, `report_card` or `ungraded` (see [`framework`]).
    pub framework: &'static str,
    /// Ofsted's inspection type as published ("S5 Inspection" ...), where given.
    pub inspection_type: Option<String>,
    /// Days since 1970-01-01 (the inspection's start date).
    pub inspection_date: Option<i64>,
    pub publication_date: Option<i64>,
    /// 1 outstanding, 2 good, 3 requires improvement, 4 inadequate (OEIF only; None when
    /// Ofsted gave no overall grade, e.g. "Not judged").
    pub overall_effectiveness: Option<i32>,
    /// The outcome in Ofsted's words: "Good", "Not judged", "School remains Good" ...; None
    /// for report cards (their outcome is the areas).
    pub outcome: Option<String>,
    pub ofsted_phase: Option<String>,
    /// Pupils on roll as the inspection file gives them (the report-card file's
    /// "Total number of pupils"); None where the file has none.
    pub pupils: Option<f64>,
    pub source_file: String,
    pub source_row: u64,
}

/// One graded area of one inspection: the `inspection_judgements` table.
#[derive(Debug, Clone)]
pub struct JudgementRow {
    pub urn: String,
    /// The framework and date of the inspection it belongs to (with `source_file` and
    /// `source_row`, the key of its `inspections` row).
    pub framework: &'static str,
    pub inspection_date: Option<i64>,
    /// `inclusion`, `curriculum_and_teaching`, ... (report cards), `quality_of_education`,
    /// ... (OEIF), `safeguarding` (both).
    pub area: String,
    /// Ordinal, 1 best: report cards 1 exceptional - 5 urgent improvement; OEIF 1 outstanding
    /// - 4 inadequate; safeguarding 1 met (effective) / 2 not met (not effective).
    pub grade: i32,
    /// The grade in Ofsted's words ("Expected standard", "Met", "2").
    pub grade_label: String,
    pub judgement_date: Option<i64>,
    pub source_file: String,
    pub source_row: u64,
    pub source_column: String,
}

/// Names and regions of LAs and regions: the `areas` table.
#[derive(Debug, Clone)]
pub struct AreaRow {
    pub level: Level,
    pub code: String,
    pub name: String,
    pub new_code: Option<String>,
    pub region_code: Option<String>,
    pub region_name: Option<String>,
    pub source_file: String,
}

/// Metadata about measures that came with data rather than from the catalogue (LAIT's dictionary).
#[derive(Debug, Clone)]
pub struct MeasureMetaRow {
    pub measure: String,
    pub description: String,
    pub polarity: Option<String>,
    pub topic: Option<String>,
    pub year_type: Option<String>,
    /// Decimal places the figures are published at (LAIT: its dictionary's `dps`, or the
    /// one decimal place LAIT shows where the dictionary has none).
    pub dps: Option<i32>,
    /// LAIT gives the measure no quartile band (`No_Quartile` = N: the LAs' range is too narrow).
    pub no_quartile: bool,
    pub source_file: String,
}

/// What one file contributed.
#[derive(Debug, Clone)]
pub struct SourceRow {
    pub source_file: String,
    pub sha256: String,
    pub dataset: String,
    pub year: Option<i32>,
    pub year_from: String,
    pub version: String,
    pub rows: u64,
}

/// Where a link between two schools was read.
pub mod link_source {
    /// GIAS's `Linked establishments` column ("115864 Predecessor").
    pub const GIAS: &str = "gias";
    /// A performance-tables school row's `URN_AC`: the academy the school became.
    pub const URN_AC: &str = "urn_ac";
}

/// One link from a school to another (its predecessor, successor ...): the `school_links`
/// table. `link_type` is GIAS's word for what `linked_urn` is to `urn` ("Predecessor",
/// "Predecessor - amalgamated", "Successor", "Merged - change in age range" ...).
#[derive(Debug, Clone, PartialEq)]
pub struct LinkRow {
    pub urn: String,
    pub linked_urn: String,
    pub link_type: String,
    /// Days since 1970-01-01: when the link took effect (a converter's open date, a closed
    /// school's close date, `OPEN_AC`), where the file says.
    pub link_date: Option<i64>,
    /// `gias` or `urn_ac` (see [`link_source`]).
    pub source: &'static str,
    pub source_file: String,
    pub source_row: u64,
}

/// Everything read from one file, before it is merged into the store.
#[derive(Debug, Default)]
pub struct Batch {
    pub results: Vec<ResultRow>,
    /// Figures of earlier years a file repeats in its prior-year columns (`PTRWM_EXP_18` in
    /// the 2019 file), `year` being the figure's year: the `prior_year_results` table.
    pub prior_results: Vec<ResultRow>,
    pub links: Vec<LinkRow>,
    pub schools: Vec<SchoolRow>,
    pub neighbours: Vec<NeighbourRow>,
    pub inspections: Vec<InspectionRow>,
    pub judgements: Vec<JudgementRow>,
    pub areas: Vec<AreaRow>,
    pub measures: Vec<MeasureMetaRow>,
    pub sources: Vec<SourceRow>,
}

impl Batch {
    pub fn append(&mut self, mut other: Batch) {
        self.results.append(&mut other.results);
        self.prior_results.append(&mut other.prior_results);
        self.links.append(&mut other.links);
        self.schools.append(&mut other.schools);
        self.neighbours.append(&mut other.neighbours);
        self.inspections.append(&mut other.inspections);
        self.judgements.append(&mut other.judgements);
        self.areas.append(&mut other.areas);
        self.measures.append(&mut other.measures);
        self.sources.append(&mut other.sources);
    }
}

/// One agreed target from a school's return: the `targets` table. Written by
/// `attain targets import`, never by ingest; a later import for the same school, year and
/// measure replaces it.
#[derive(Debug, Clone, PartialEq)]
pub struct TargetRow {
    pub urn: String,
    /// The school's LA when the return was imported.
    pub la_code: Option<String>,
    /// The results year the target is for (2019 = 2018/19).
    pub year: i32,
    pub measure: String,
    pub target: f64,
    /// Where it was read: the return, its sheet and the agreed-target cell (e.g. `M12`).
    pub source_file: String,
    pub source_sheet: String,
    pub source_cell: String,
}

pub const TABLES: [&str; 14] = [
    "results",
    "prior_year_results",
    "school_links",
    "schools",
    "neighbours",
    "inspections",
    "inspection_judgements",
    "areas",
    "measures",
    "sources",
    "measure_labels",
    "group_labels",
    "area_labels",
    "school_type_labels",
];
