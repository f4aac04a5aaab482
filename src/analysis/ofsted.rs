//! Ofsted standing: for every LA, the % of schools judged good or outstanding and the %
//! of pupils attending them, ranked among LAs (LAIT's method: ties share the best rank),
//! by phase, with the region and England beside it.
//!
//! * Schools: every school in the Ofsted snapshot (the latest-inspection workbook) with a
//!   graded inspection (overall effectiveness 1-4). Good or better = grade 1 or 2.
//! * The workbook has no LA: a school's LA and its pupils (NOR) come from the school census,
//!   matched by URN. Schools in one file and not the other are counted and reported, never
//!   guessed. A matched school without a pupil count (NOR "NA") counts in the school
//!   percentage but not the pupil percentage.
//! * Phase is Ofsted's phase of the inspection: primary = "Primary", secondary =
//!   "Secondary", all = every phase in the workbook (also special, nursery, PRU).
//! * Census pairing: a snapshot at the end of academic year Y (31 July Y) is weighted by the
//!   census of January Y+1, the first census after it; the January Y census if the store
//!   has no Y+1 census.
//! * Percentages are rounded to 1 dp (half away from zero) and ranked at that precision.
//!
//! Both frameworks (attain's definitions, labelled so in the output): each school counts
//! under the framework of its latest graded inspection in the snapshot. "Good or better"
//! covers schools whose latest graded inspection was under the previous framework (OEIF)
//! with an overall grade 1-4; a report card supersedes the OEIF grade. For report-card
//! schools, "expected or better" = every graded evaluation area at expected standard or
//! better and safeguarding met. OEIF inspections "Not judged" and schools with no graded
//! inspection in the snapshot are counted, in neither percentage.
//! * A snapshot that names each school's LA (the report-card file's LAESTAB) is weighted by
//!   its own LA and pupil numbers when the store has no census to pair it with.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::Serialize;

use super::data::Data;
use super::inspection::{latest_by_school, SchoolInspections};
use super::rank::{ranks, Polarity};
use crate::dates::{academic_year_of, iso_from_days};
use crate::error::{ConfigError, StoreError};
use crate::number;
use crate::store::frame::{self, InspectionRecord, JudgementRecord, ResultFilter};
use crate::store::schema::Level;
use crate::store::schema::SchoolRow;

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    clap::ValueEnum,
    Serialize,
    serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    Primary,
    Secondary,
    All,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Primary => "primary",
            Phase::Secondary => "secondary",
            Phase::All => "all",
        }
    }
    /// Does a school of this Ofsted phase ("Primary", "Secondary", "Special", "Nursery", "PRU") count?
    pub fn includes_ofsted(self, ofsted_phase: Option<&str>) -> bool {
        let p = ofsted_phase.unwrap_or("").trim().to_ascii_lowercase();
        match self {
            Phase::All => true,
            Phase::Primary => p == "primary",
            Phase::Secondary => p == "secondary",
        }
    }
    /// Does a census school of this store phase (primary, secondary, special, nursery, ap, all) count?
    pub fn includes_census(self, census_phase: &str) -> bool {
        match self {
            Phase::All => true,
            p => census_phase == p.as_str(),
        }
    }
}

/// "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "101st", "111th" ...
pub fn ordinal(n: usize) -> String {
    let suffix = match (n % 100, n % 10) {
        (11..=13, _) => "th",
        (_, 1) => "st",
        (_, 2) => "nd",
        (_, 3) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

/// One Ofsted latest-inspection file in the store.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Snapshot {
    pub source_file: String,
    /// The academic year (summer-end) of the latest inspection in the file.
    pub year: i32,
    /// The date of the latest inspection in the file (the snapshot is "as at" about then).
    pub latest_inspection: Option<String>,
    pub schools: usize,
    /// The LAs the file's own rows name (empty: the file names none, as the national
    /// latest-inspection workbook; its schools' LAs come from the census).
    pub las: Vec<String>,
}

impl Snapshot {
    /// Can the snapshot answer for `la` (or, without one, rank LAs against each other)?
    /// A file that names one LA only is that LA's own extract: it ranks nothing.
    pub fn covers(&self, la: Option<&str>) -> bool {
        match la {
            Some(la) => self.las.is_empty() || self.las.iter().any(|l| l == la),
            None => self.las.len() != 1,
        }
    }
}

pub fn snapshots(inspections: &[InspectionRecord]) -> Vec<Snapshot> {
    // Per file: the latest inspection date, its schools and the LAs it names.
    type FileSpan<'a> = (Option<i64>, BTreeSet<&'a str>, BTreeSet<&'a str>);
    let mut by_file: BTreeMap<&str, FileSpan> = BTreeMap::new();
    for i in inspections {
        let e = by_file.entry(i.source_file.as_str()).or_default();
        e.0 = e.0.max(i.inspection_date);
        e.1.insert(i.urn.as_str());
        if let Some(la) = &i.la_code {
            e.2.insert(la.as_str());
        }
    }
    let mut v: Vec<Snapshot> = by_file
        .into_iter()
        .filter_map(|(f, (d, urns, las))| {
            Some(Snapshot {
                source_file: f.to_string(),
                year: academic_year_of(d?),
                latest_inspection: d.map(iso_from_days),
                schools: urns.len(),
                las: las.into_iter().map(str::to_string).collect(),
            })
        })
        .collect();
    v.sort_by(|a, b| {
        a.year
            .cmp(&b.year)
            .then(a.latest_inspection.cmp(&b.latest_inspection))
    });
    v
}

/// A school in the census: its LA, phase and pupils on roll.
#[derive(Debug, Clone, PartialEq)]
pub struct CensusSchool {
    pub urn: String,
    pub la_code: String,
    /// The store's census phase: primary, secondary, special, nursery, ap, all.
    pub phase: String,
    pub pupils: Option<f64>,
}

/// How the inspection file and the census were matched (by URN), and what did not match.
#[derive(Debug, Clone, Serialize, PartialEq, Default)]
pub struct MatchReport {
    pub snapshot: String,
    pub snapshot_year: i32,
    /// The January census the snapshot was paired with (None: the snapshot's own LA and pupils).
    pub census_year: Option<i32>,
    pub matched_by: String,
    pub ofsted_schools: usize,
    /// Schools without an OEIF overall grade 1-4 as their latest graded inspection.
    pub ofsted_ungraded: usize,
    /// Schools by the framework of their latest graded inspection in the snapshot.
    pub under_oeif: usize,
    pub oeif_not_judged: usize,
    pub under_report_card: usize,
    pub no_graded_inspection: usize,
    pub census_schools: usize,
    pub matched: usize,
    pub matched_without_pupils: usize,
    pub ofsted_not_in_census: usize,
    /// By Ofsted phase.
    pub ofsted_not_in_census_by_phase: BTreeMap<String, usize>,
    pub census_not_in_ofsted: usize,
    /// By census phase.
    pub census_not_in_ofsted_by_phase: BTreeMap<String, usize>,
    /// Matched schools whose Ofsted phase (primary/secondary) differs from the census phase.
    pub phase_disagreements: usize,
}

impl MatchReport {
    pub fn lines(&self) -> Vec<String> {
        let by = |m: &BTreeMap<String, usize>| {
            m.iter()
                .map(|(k, v)| format!("{k} {v}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let census = match self.census_year {
            Some(y) => format!("matched to the January {y} census by {}", self.matched_by),
            None => format!("weighted by {}", self.matched_by),
        };
        vec![
            format!("Ofsted snapshot {} (year {}) {census}", self.snapshot, self.snapshot_year),
            format!(
                "{} inspected schools ({} without a grade), {} census schools (independent \
                 schools excluded): {} matched, {} matched without a pupil count",
                self.ofsted_schools,
                self.ofsted_ungraded,
                self.census_schools,
                self.matched,
                self.matched_without_pupils
            ),
            format!(
                "latest graded inspection by framework: {} under OEIF with a grade, {} OEIF not judged, {} under \
                    report cards, {} with no graded inspection in the snapshot",
                self.under_oeif, self.oeif_not_judged, self.under_report_card, self.no_graded_inspection
            ),
            format!("not matched: {} inspected schools not in the census ({}), not \
                counted", self.ofsted_not_in_census, by(&self.ofsted_not_in_census_by_phase)),
            format!("not matched: {} census schools with no inspection in the snapshot \
                ({})", self.census_not_in_ofsted, by(&self.census_not_in_ofsted_by_phase)),
            format!("{} matched schools have a different phase in the census; Ofsted's phase is \
                used", self.phase_disagreements),
        ]
    }
}

/// Counts for one area and phase.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tally {
    pub schools: usize,
    pub schools_good: usize,
    pub schools_ri_or_inadequate: usize,
    pub pupils: f64,
    pub pupils_good: f64,
    pub pupils_ri_or_inadequate: f64,
    pub schools_without_pupils: usize,
    pub oeif_not_judged: usize,
    pub no_graded_inspection: usize,
    /// Report-card schools whose outcome under attain's definition is known.
    pub report_card_schools: usize,
    pub report_card_ok: usize,
    pub report_card_pupils: f64,
    pub report_card_pupils_ok: f64,
}

impl Tally {
    /// A school by the framework of its latest graded inspection.
    pub fn count(&mut self, standing: &Standing, pupils: Option<f64>) {
        match standing {
            Standing::Oeif(g) => self.add(*g, pupils),
            Standing::OeifNotJudged => self.oeif_not_judged += 1,
            Standing::ReportCard(ok) => self.add_report_card(*ok, pupils),
            Standing::NoGraded => self.no_graded_inspection += 1,
        }
    }
    pub fn add_report_card(&mut self, ok: Option<bool>, pupils: Option<f64>) {
        let Some(ok) = ok else { return };
        self.report_card_schools += 1;
        self.report_card_ok += ok as usize;
        if let Some(n) = pupils {
            self.report_card_pupils += n;
            if ok {
                self.report_card_pupils_ok += n;
            }
        }
    }
    pub fn pct_report_card_schools(&self) -> Option<f64> {
        pct1(self.report_card_ok as f64, self.report_card_schools as f64)
    }
    pub fn pct_report_card_pupils(&self) -> Option<f64> {
        pct1(self.report_card_pupils_ok, self.report_card_pupils)
    }
    pub fn add(&mut self, grade: i32, pupils: Option<f64>) {
        self.schools += 1;
        let good = grade <= 2;
        if good {
            self.schools_good += 1;
        } else {
            self.schools_ri_or_inadequate += 1;
        }
        match pupils {
            Some(n) => {
                self.pupils += n;
                if good {
                    self.pupils_good += n;
                } else {
                    self.pupils_ri_or_inadequate += n;
                }
            }
            None => self.schools_without_pupils += 1,
        }
    }
    pub fn pct_schools(&self) -> Option<f64> {
        pct1(self.schools_good as f64, self.schools as f64)
    }
    pub fn pct_pupils(&self) -> Option<f64> {
        pct1(self.pupils_good, self.pupils)
    }
}

/// `num` as a percentage of `den`, 1 dp half away from zero; None when `den` is 0.
fn pct1(num: f64, den: f64) -> Option<f64> {
    (den > 0.0).then(|| number::round(100.0 * num / den, 1))
}

/// One LA and phase in `attain ofsted` (JSON field names are fixed).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct OfstedRow {
    pub la_code: String,
    pub la_name: String,
    pub phase: String,
    /// Schools with a graded inspection, matched to the census.
    pub schools: usize,
    pub schools_good_or_better: usize,
    pub pct_schools_good_or_better: Option<f64>,
    pub rank_schools: Option<usize>,
    /// Pupils (census NOR) in those schools.
    pub pupils: u64,
    pub pupils_good_or_better: u64,
    pub pct_pupils_good_or_better: Option<f64>,
    pub rank_pupils: Option<usize>,
    /// LAs ranked (LAs with at least one graded school in the phase).
    pub of: usize,
    /// LAs ranked on pupils (fewer than `of` only if an LA's schools all lack pupil counts).
    pub of_pupils: usize,
    pub schools_ri_or_inadequate: usize,
    pub pupils_in_ri_or_inadequate: u64,
    pub schools_without_pupil_numbers: usize,
    /// Census schools of the LA and phase with no inspection in the snapshot.
    pub census_schools_not_inspected: usize,
    pub region: Option<String>,
    pub region_pct_schools_good_or_better: Option<f64>,
    pub region_pct_pupils_good_or_better: Option<f64>,
    pub england_pct_schools_good_or_better: Option<f64>,
    pub england_pct_pupils_good_or_better: Option<f64>,
    pub snapshot_year: i32,
    /// None: weighted by the snapshot's own LA and pupil numbers (no census paired).
    pub census_year: Option<i32>,
    pub sentence: String,
    /// Schools by the framework of their latest graded inspection (attain's definitions):
    /// `schools` above are those under OEIF with a grade 1-4.
    pub schools_oeif_not_judged: usize,
    pub schools_report_card: usize,
    pub schools_no_graded_inspection: usize,
    /// Report-card schools with every evaluation area at expected standard or better and
    /// safeguarding met (attain's definition), and their pupils.
    pub schools_report_card_expected_or_better: usize,
    pub pct_schools_report_card_expected_or_better: Option<f64>,
    pub pupils_report_card: u64,
    pub pupils_report_card_expected_or_better: u64,
    pub pct_pupils_report_card_expected_or_better: Option<f64>,
    pub england_pct_schools_report_card_expected_or_better: Option<f64>,
    pub england_pct_pupils_report_card_expected_or_better: Option<f64>,
    /// The report-card aim in words, with the counts under each framework.
    pub sentence_frameworks: String,
    /// attain's definitions of the two aims.
    pub definition_good_or_better: String,
    pub definition_report_card: String,
}

/// attain's definition of the OEIF aim (not Ofsted's or DfE's).
pub const DEFINITION_GOOD_OR_BETTER: &str = "attain's definition: schools whose latest graded inspection was under \
    Ofsted's previous framework (OEIF) with overall effectiveness 1 outstanding or 2 good, of those with a grade 1-4; \
    a report card supersedes the grade, and 'Not judged' is not a grade";
/// attain's definition of the report-card aim (not Ofsted's or DfE's).
pub const DEFINITION_REPORT_CARD: &str = "attain's definition: schools whose latest graded inspection was a report \
    card with every evaluation area graded at expected standard or better (exceptional, strong standard or expected \
    standard) and safeguarding standards met, of the schools inspected under report cards";

/// A school's place in the aims, by the framework of its latest graded inspection.
#[derive(Debug, Clone, PartialEq)]
pub enum Standing {
    /// OEIF overall effectiveness 1-4.
    Oeif(i32),
    /// An OEIF graded inspection without an overall grade ("Not judged").
    OeifNotJudged,
    /// A report card: every area expected or better and safeguarding met (None: not decidable).
    ReportCard(Option<bool>),
    /// In the snapshot, with no graded inspection in it (an ungraded inspection at most).
    NoGraded,
}

impl Standing {
    pub fn of(s: &SchoolInspections) -> Standing {
        match (&s.latest_graded, s.oeif_grade()) {
            (None, _) => Standing::NoGraded,
            (Some(i), _) if i.is_report_card() => {
                Standing::ReportCard(i.report_card_expected_or_better())
            }
            (Some(_), Some(g)) => Standing::Oeif(g),
            (Some(_), None) => Standing::OeifNotJudged,
        }
    }
    pub fn grade(&self) -> Option<i32> {
        match self {
            Standing::Oeif(g) => Some(*g),
            _ => None,
        }
    }
}

/// A school in the snapshot, by its latest graded inspection.
#[derive(Debug, Clone, PartialEq)]
pub struct Judged {
    pub urn: String,
    pub standing: Standing,
    pub ofsted_phase: Option<String>,
}

/// The arithmetic, over rows already read. Every LA in the census gets a row per phase.
pub fn standing(
    judged: &[Judged],
    census: &[CensusSchool],
    regions: &BTreeMap<String, String>,
    name: &dyn Fn(&str) -> String,
    phases: &[Phase],
) -> (Vec<OfstedRow>, MatchReport) {
    let by_urn: HashMap<&str, &CensusSchool> = census.iter().map(|c| (c.urn.as_str(), c)).collect();
    let inspected: BTreeSet<&str> = judged.iter().map(|j| j.urn.as_str()).collect();
    let mut m = MatchReport {
        matched_by: "URN".into(),
        ofsted_schools: judged.len(),
        census_schools: census.len(),
        ..Default::default()
    };
    for j in judged {
        match j.standing {
            Standing::Oeif(_) => m.under_oeif += 1,
            Standing::OeifNotJudged => m.oeif_not_judged += 1,
            Standing::ReportCard(_) => m.under_report_card += 1,
            Standing::NoGraded => m.no_graded_inspection += 1,
        }
        if j.standing.grade().is_none() {
            m.ofsted_ungraded += 1;
        }
        match by_urn.get(j.urn.as_str()) {
            Some(c) => {
                m.matched += 1;
                if c.pupils.is_none() {
                    m.matched_without_pupils += 1;
                }
                let op = j.ofsted_phase.as_deref().unwrap_or("").to_ascii_lowercase();
                if (op == "primary"
                    || op == "secondary"
                    || c.phase == "primary"
                    || c.phase == "secondary")
                    && op != c.phase
                {
                    m.phase_disagreements += 1;
                }
            }
            None => {
                m.ofsted_not_in_census += 1;
                *m.ofsted_not_in_census_by_phase
                    .entry(j.ofsted_phase.clone().unwrap_or_else(|| "unknown".into()))
                    .or_default() += 1;
            }
        }
    }
    for c in census
        .iter()
        .filter(|c| !inspected.contains(c.urn.as_str()))
    {
        m.census_not_in_ofsted += 1;
        *m.census_not_in_ofsted_by_phase
            .entry(c.phase.clone())
            .or_default() += 1;
    }
    let las: BTreeSet<&str> = census.iter().map(|c| c.la_code.as_str()).collect();
    let mut rows = Vec::new();
    for &phase in phases {
        let mut la_tally: BTreeMap<&str, Tally> =
            las.iter().map(|l| (*l, Tally::default())).collect();
        let mut region_tally: BTreeMap<&str, Tally> = BTreeMap::new();
        let mut england = Tally::default();
        let mut not_inspected: BTreeMap<&str, usize> = BTreeMap::new();
        for j in judged
            .iter()
            .filter(|j| phase.includes_ofsted(j.ofsted_phase.as_deref()))
        {
            let Some(c) = by_urn.get(j.urn.as_str()) else {
                continue;
            };
            la_tally
                .entry(c.la_code.as_str())
                .or_default()
                .count(&j.standing, c.pupils);
            if let Some(r) = regions.get(&c.la_code) {
                region_tally
                    .entry(r.as_str())
                    .or_default()
                    .count(&j.standing, c.pupils);
            }
            england.count(&j.standing, c.pupils);
        }
        for c in census
            .iter()
            .filter(|c| phase.includes_census(&c.phase) && !inspected.contains(c.urn.as_str()))
        {
            *not_inspected.entry(c.la_code.as_str()).or_default() += 1;
        }
        let school_pcts: Vec<Option<f64>> = la_tally.values().map(Tally::pct_schools).collect();
        let pupil_pcts: Vec<Option<f64>> = la_tally.values().map(Tally::pct_pupils).collect();
        let rank_s = ranks(&school_pcts, Polarity::High);
        let rank_p = ranks(&pupil_pcts, Polarity::High);
        let of = school_pcts.iter().flatten().count();
        let of_pupils = pupil_pcts.iter().flatten().count();
        for (i, (la, t)) in la_tally.iter().enumerate() {
            let region = regions.get(*la).cloned();
            let rt = region.as_deref().and_then(|r| region_tally.get(r));
            let mut row = OfstedRow {
                la_code: la.to_string(),
                la_name: name(la),
                phase: phase.as_str().into(),
                schools: t.schools,
                schools_good_or_better: t.schools_good,
                pct_schools_good_or_better: school_pcts[i],
                rank_schools: rank_s[i],
                pupils: t.pupils.round() as u64,
                pupils_good_or_better: t.pupils_good.round() as u64,
                pct_pupils_good_or_better: pupil_pcts[i],
                rank_pupils: rank_p[i],
                of,
                of_pupils,
                schools_ri_or_inadequate: t.schools_ri_or_inadequate,
                pupils_in_ri_or_inadequate: t.pupils_ri_or_inadequate.round() as u64,
                schools_without_pupil_numbers: t.schools_without_pupils,
                census_schools_not_inspected: not_inspected.get(la).copied().unwrap_or(0),
                region,
                region_pct_schools_good_or_better: rt.and_then(Tally::pct_schools),
                region_pct_pupils_good_or_better: rt.and_then(Tally::pct_pupils),
                england_pct_schools_good_or_better: england.pct_schools(),
                england_pct_pupils_good_or_better: england.pct_pupils(),
                snapshot_year: 0,
                census_year: None,
                sentence: String::new(),
                schools_oeif_not_judged: t.oeif_not_judged,
                schools_report_card: t.report_card_schools,
                schools_no_graded_inspection: t.no_graded_inspection,
                schools_report_card_expected_or_better: t.report_card_ok,
                pct_schools_report_card_expected_or_better: t.pct_report_card_schools(),
                pupils_report_card: t.report_card_pupils.round() as u64,
                pupils_report_card_expected_or_better: t.report_card_pupils_ok.round() as u64,
                pct_pupils_report_card_expected_or_better: t.pct_report_card_pupils(),
                england_pct_schools_report_card_expected_or_better: england
                    .pct_report_card_schools(),
                england_pct_pupils_report_card_expected_or_better: england.pct_report_card_pupils(),
                sentence_frameworks: String::new(),
                definition_good_or_better: DEFINITION_GOOD_OR_BETTER.into(),
                definition_report_card: DEFINITION_REPORT_CARD.into(),
            };
            row.sentence = sentence(&row);
            row.sentence_frameworks = sentence_frameworks(&row);
            rows.push(row);
        }
    }
    (rows, m)
}

/// The councils' wording: "Hampshire: 93.8% of primary schools are good or outstanding —
/// ranks 19th of 151; 94.1% of pupils attend one — ranks 12th of 151 (South East 90.2%, England 86.3%)."
pub fn sentence(r: &OfstedRow) -> String {
    let pct = |v: Option<f64>| {
        v.map(|x| format!("{x:.1}%"))
            .unwrap_or_else(|| "no data".into())
    };
    let rank = |k: Option<usize>, of: usize| {
        k.map(|k| format!(" — ranks {} of {of}", ordinal(k)))
            .unwrap_or_default()
    };
    let who = if r.la_name.is_empty() {
        r.la_code.clone()
    } else {
        r.la_name.clone()
    };
    let kind = if r.phase == "all" {
        String::new()
    } else {
        format!("{} ", r.phase)
    };
    if r.schools == 0 {
        return format!(
            "{who}: no {kind}schools with a graded inspection in the snapshot, so no rank."
        );
    }
    let beside = |s: Option<f64>| {
        let mut parts = Vec::new();
        if let Some(reg) = &r.region {
            parts.push(format!("{reg} {}", pct(s)));
        }
        parts
    };
    let mut school_ctx = beside(r.region_pct_schools_good_or_better);
    school_ctx.push(format!(
        "England {}",
        pct(r.england_pct_schools_good_or_better)
    ));
    let mut pupil_ctx = beside(r.region_pct_pupils_good_or_better);
    pupil_ctx.push(format!(
        "England {}",
        pct(r.england_pct_pupils_good_or_better)
    ));
    format!(
        "{who}: {} of {kind}schools are good or outstanding{} ({}); {} of pupils attend them{} ({}); {} pupils are in \
            schools that require improvement or are inadequate.",
        pct(r.pct_schools_good_or_better),
        rank(r.rank_schools, r.of),
        school_ctx.join(", "),
        pct(r.pct_pupils_good_or_better),
        rank(r.rank_pupils, r.of_pupils),
        pupil_ctx.join(", "),
        r.pupils_in_ri_or_inadequate
    )
}

/// The report-card aim and the counts under each framework: "Leeds: of 279 schools, 128
/// were last graded under OEIF, 40 OEIF not judged, 2 under report cards, 109 with no graded
/// inspection; 0 of the 2 report-card schools (0.0%) ... (attain's definition)."
pub fn sentence_frameworks(r: &OfstedRow) -> String {
    let who = if r.la_name.is_empty() {
        r.la_code.clone()
    } else {
        r.la_name.clone()
    };
    let kind = if r.phase == "all" {
        String::new()
    } else {
        format!("{} ", r.phase)
    };
    let total = r.schools
        + r.schools_oeif_not_judged
        + r.schools_report_card
        + r.schools_no_graded_inspection;
    let counts = format!(
        "{who}: of {total} {kind}schools in the snapshot, {} were last graded under OEIF (overall effectiveness 1-4), \
            {} under OEIF without an overall grade (not judged), {} under report cards, and {} have no graded \
            inspection in it",
        r.schools, r.schools_oeif_not_judged, r.schools_report_card, r.schools_no_graded_inspection
    );
    let pct = |v: Option<f64>| {
        v.map(|x| format!("{x:.1}%"))
            .unwrap_or_else(|| "no data".into())
    };
    if r.schools_report_card == 0 {
        return format!("{counts}.");
    }
    format!(
        "{counts}. Under report cards, {} of {} schools ({}) have every evaluation area at expected standard or \
            better and safeguarding met, with {} of pupils in them (England {}) (attain's definition).",
        r.schools_report_card_expected_or_better,
        r.schools_report_card,
        pct(r.pct_schools_report_card_expected_or_better),
        pct(r.pct_pupils_report_card_expected_or_better),
        pct(r.england_pct_schools_report_card_expected_or_better)
    )
}

/// Everything `attain ofsted` prints.
#[derive(Debug, Clone, Serialize)]
pub struct OfstedReport {
    pub rows: Vec<OfstedRow>,
    pub matching: MatchReport,
}

/// The catalogue datasets whose files are Ofsted snapshots: the latest-inspection workbook
/// and the report-card management information.
pub const SNAPSHOT_DATASETS: [&str; 2] = ["ofsted_schools", "ofsted_report_cards"];

/// Read the snapshot for `year` (default the latest that covers `la`; without `la`, the
/// latest that is not one LA's own extract) and its census, and rank every LA.
pub fn ofsted(
    data: &Data,
    year: Option<i32>,
    la: Option<&str>,
    phases: &[Phase],
) -> anyhow::Result<OfstedReport> {
    let inspections = data.inspections()?;
    if inspections.is_empty() {
        return Err(StoreError::Missing {
            dir: data.store.dir.clone(),
            table: "inspections",
        }
        .into());
    }
    // Only Ofsted's own files are snapshots: GIAS extracts also give each school's latest
    // inspection, but for the LAs they cover and the day they were taken.
    let datasets = data.source_datasets()?;
    let inspections: Vec<InspectionRecord> = inspections
        .into_iter()
        .filter(|i| {
            datasets
                .get(&i.source_file)
                .is_some_and(|d| SNAPSHOT_DATASETS.contains(&d.as_str()))
        })
        .collect();
    let snaps = snapshots(&inspections);
    let available = || {
        snaps
            .iter()
            .map(|s| format!("{} ({})", s.year, s.source_file))
            .collect::<Vec<_>>()
            .join(", ")
    };
    // The latest snapshot of the year (any year without --year) that covers `la`, else the latest.
    let candidates: Vec<&Snapshot> = snaps
        .iter()
        .filter(|s| year.is_none_or(|y| s.year == y))
        .collect();
    let snap = candidates
        .iter()
        .rev()
        .find(|s| s.covers(la))
        .or(candidates.last())
        .copied()
        .ok_or_else(|| match year {
            Some(y) => ConfigError::new(
                "--year",
                format!(
                    "no Ofsted snapshot for {y} in the store; it has {}",
                    available()
                ),
            ),
            None => ConfigError::new(
                "--year",
                "no Ofsted snapshot with inspection dates in the store",
            ),
        })?;
    let file_rows: Vec<InspectionRecord> = inspections
        .into_iter()
        .filter(|i| i.source_file == snap.source_file)
        .collect();
    let judgements: Vec<JudgementRecord> = data
        .judgements()?
        .into_iter()
        .filter(|j| j.source_file == snap.source_file)
        .collect();
    // Each school's latest graded inspection in the snapshot, under either framework.
    let schools = latest_by_school(&file_rows, &judgements, None);
    let mut first: BTreeMap<&str, &InspectionRecord> = BTreeMap::new();
    for i in &file_rows {
        first.entry(i.urn.as_str()).or_insert(i);
    }
    let mut judged: Vec<Judged> = first
        .iter()
        .map(|(urn, i)| {
            let s = schools.get(*urn).cloned().unwrap_or_default();
            Judged {
                urn: urn.to_string(),
                standing: Standing::of(&s),
                ofsted_phase: i.ofsted_phase.clone(),
            }
        })
        .collect();
    // Schools the report-card file lists with no inspection at all (new schools): in the
    // snapshot, with no graded inspection. The file's school rows hold them.
    let listed: Vec<SchoolRow> = if data.store.table_path("school_records").exists() {
        frame::schools_from_frame(&data.store.read("school_records")?)?
            .into_iter()
            .filter(|s| s.source_file == snap.source_file)
            .collect()
    } else {
        vec![]
    };
    for s in listed
        .iter()
        .filter(|s| !first.contains_key(s.urn.as_str()))
    {
        judged.push(Judged {
            urn: s.urn.clone(),
            standing: Standing::NoGraded,
            ofsted_phase: s.phase.clone(),
        });
    }
    let census_years = data.years("census_pupils", Level::School)?;
    let census_year = [snap.year + 1, snap.year]
        .into_iter()
        .find(|y| census_years.contains(y));
    let (census, matched_by) = match census_year {
        Some(y) => (census_schools(data, y)?, "URN".to_string()),
        // The report-card file names each school's LA and pupils: with no census to pair, it is its own.
        None if !snap.las.is_empty() => (
            own_census(&first, &listed),
            format!(
                "the snapshot's own LA (LAESTAB) and \
            pupil numbers (Total number of pupils): the store has no January {} or {} \
            census",
                snap.year + 1,
                snap.year
            ),
        ),
        None => {
            return Err(ConfigError::new(
                "--year",
                format!(
                    "the Ofsted snapshot of {} needs the January {} (or {}) \
                school census in the store; it has census years \
                {:?}",
                    snap.year,
                    snap.year + 1,
                    snap.year,
                    census_years
                ),
            )
            .into());
        }
    };
    let regions = data.la_regions()?;
    let (mut rows, mut matching) = standing(&judged, &census, &regions, &|c| data.name(c), phases);
    for r in &mut rows {
        r.snapshot_year = snap.year;
        r.census_year = census_year;
    }
    matching.snapshot = snap.source_file.clone();
    matching.snapshot_year = snap.year;
    matching.census_year = census_year;
    matching.matched_by = matched_by;
    Ok(OfstedReport { rows, matching })
}

/// The snapshot's schools as their own census: LA from LAESTAB, phase from Ofsted's phase,
/// pupils as the file gives them.
fn own_census(
    first: &BTreeMap<&str, &InspectionRecord>,
    listed: &[SchoolRow],
) -> Vec<CensusSchool> {
    let uninspected = listed
        .iter()
        .filter(|s| !first.contains_key(s.urn.as_str()))
        .filter_map(|s| {
            Some(CensusSchool {
                urn: s.urn.clone(),
                la_code: s.la_code.clone()?,
                phase: s.phase.clone().unwrap_or_else(|| "all".into()),
                pupils: s.pupils,
            })
        });
    first
        .iter()
        .filter_map(|(urn, i)| {
            Some(CensusSchool {
                urn: urn.to_string(),
                la_code: i.la_code.clone()?,
                phase: i
                    .ofsted_phase
                    .as_deref()
                    .and_then(crate::ingest::ofsted::store_phase)
                    .unwrap_or("all")
                    .into(),
                pupils: i.pupils,
            })
        })
        .chain(uninspected)
        .collect()
}

/// Census schools of a year (January census), independent schools left out: Ofsted's
/// school inspections under this framework cover state-funded and non-maintained special schools.
fn census_schools(data: &Data, year: i32) -> Result<Vec<CensusSchool>, StoreError> {
    let rows = data.query(&ResultFilter {
        measure: Some("census_pupils".into()),
        group: Some("all".into()),
        level: Some(Level::School),
        year: Some(year),
        ..Default::default()
    })?;
    let mut out: BTreeMap<String, CensusSchool> = BTreeMap::new();
    for r in rows.into_iter().filter(|r| r.scope != "independent") {
        let Some(la) = r.la_code.clone() else {
            continue;
        };
        let e = out.entry(r.code.clone()).or_insert(CensusSchool {
            urn: r.code.clone(),
            la_code: la,
            phase: r.phase.clone(),
            pupils: None,
        });
        e.pupils = e.pupils.or(r.value);
    }
    Ok(out.into_values().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinals() {
        let cases = [
            (1, "1st"),
            (2, "2nd"),
            (3, "3rd"),
            (4, "4th"),
            (10, "10th"),
            (11, "11th"),
            (12, "12th"),
            (13, "13th"),
            (14, "14th"),
            (21, "21st"),
            (22, "22nd"),
            (23, "23rd"),
            (101, "101st"),
            (102, "102nd"),
            (111, "111th"),
            (112, "112th"),
            (113, "113th"),
            (121, "121st"),
            (151, "151st"),
            (0, "0th"),
        ];
        for (n, want) in cases {
            assert_eq!(ordinal(n), want, "{n}");
        }
    }

    fn j(urn: &str, g: Option<i32>, p: &str) -> Judged {
        Judged {
            urn: urn.into(),
            standing: g.map(Standing::Oeif).unwrap_or(Standing::NoGraded),
            ofsted_phase: Some(p.into()),
        }
    }
    fn c(urn: &str, la: &str, p: &str, n: Option<f64>) -> CensusSchool {
        CensusSchool {
            urn: urn.into(),
            la_code: la.into(),
            phase: p.into(),
            pupils: n,
        }
    }

    #[test]
    fn ties_share_a_rank_and_an_la_with_no_inspected_schools_is_unranked() {
        // LA 100: 2 of 2 good (100%); LA 200: 1 of 2 (50%); LA 300: 1 of 2 (50%, tie);
        // LA 400: a census school never inspected; one inspected school is not in the census.
        let judged = vec![
            j("1", Some(1), "Primary"),
            j("2", Some(2), "Primary"),
            j("3", Some(2), "Primary"),
            j("4", Some(3), "Primary"),
            j("5", Some(4), "Primary"),
            j("6", Some(2), "Primary"),
            j("9", Some(2), "Primary"),
            j("10", None, "Primary"),
        ];
        let census = vec![
            c("1", "100", "primary", Some(100.0)),
            c("2", "100", "primary", None),
            c("3", "200", "primary", Some(300.0)),
            c("4", "200", "primary", Some(100.0)),
            c("5", "300", "primary", Some(50.0)),
            c("6", "300", "primary", Some(150.0)),
            c("7", "400", "primary", Some(80.0)),
        ];
        let regions: BTreeMap<String, String> =
            [("100", "North"), ("200", "North"), ("300", "South")]
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect();
        let (rows, m) = standing(
            &judged,
            &census,
            &regions,
            &|c| format!("LA {c}"),
            &[Phase::Primary],
        );
        let get = |la: &str| rows.iter().find(|r| r.la_code == la).unwrap();
        assert_eq!(
            (
                get("100").pct_schools_good_or_better,
                get("100").rank_schools
            ),
            (Some(100.0), Some(1))
        );
        assert_eq!(
            (get("200").rank_schools, get("300").rank_schools),
            (Some(2), Some(2)),
            "ties share the best rank"
        );
        assert_eq!(get("100").of, 3);
        // Pupils: LA 100 has one school without NOR, so 100 of 100 pupils; LA 200 300/400 = 75%; LA 300 150/200 = 75%.
        assert_eq!(get("100").schools_without_pupil_numbers, 1);
        assert_eq!(
            (
                get("200").pct_pupils_good_or_better,
                get("300").pct_pupils_good_or_better
            ),
            (Some(75.0), Some(75.0))
        );
        assert_eq!(
            (
                get("200").pupils_in_ri_or_inadequate,
                get("300").pupils_in_ri_or_inadequate
            ),
            (100, 50)
        );
        let none = get("400");
        assert_eq!(
            (
                none.schools,
                none.pct_schools_good_or_better,
                none.rank_schools,
                none.rank_pupils
            ),
            (0, None, None, None)
        );
        assert_eq!(none.census_schools_not_inspected, 1);
        assert!(
            none.sentence
                .contains("no primary schools with a graded inspection"),
            "{}",
            none.sentence
        );
        // Region North = LAs 100 + 200: 3 of 4 schools; England 4 of 6 graded matched schools.
        assert_eq!(get("200").region_pct_schools_good_or_better, Some(75.0));
        assert_eq!(get("100").england_pct_schools_good_or_better, Some(66.7));
        assert_eq!(
            (
                m.matched,
                m.ofsted_not_in_census,
                m.census_not_in_ofsted,
                m.ofsted_ungraded,
                m.matched_without_pupils
            ),
            (6, 2, 1, 1, 1)
        );
        let s = &get("200").sentence;
        assert!(
            s.starts_with(
                "LA 200: 50.0% of primary schools are good or outstanding — ranks 2nd of 3 (North \
            75.0%, England 66.7%)"
            ),
            "{s}"
        );
    }

    #[test]
    fn phases_follow_ofsted() {
        let judged = vec![
            j("1", Some(1), "Primary"),
            j("2", Some(4), "Secondary"),
            j("3", Some(2), "Special"),
        ];
        let census = vec![
            c("1", "100", "secondary", Some(10.0)),
            c("2", "100", "secondary", Some(10.0)),
            c("3", "100", "special", Some(10.0)),
        ];
        let (rows, m) = standing(
            &judged,
            &census,
            &BTreeMap::new(),
            &|_| String::new(),
            &[Phase::Primary, Phase::Secondary, Phase::All],
        );
        let count = |p: &str| rows.iter().find(|r| r.phase == p).unwrap().schools;
        assert_eq!(
            (count("primary"), count("secondary"), count("all")),
            (1, 1, 3)
        );
        assert_eq!(m.phase_disagreements, 1);
        assert_eq!(
            rows.iter()
                .find(|r| r.phase == "all")
                .unwrap()
                .pct_schools_good_or_better,
            Some(66.7)
        );
    }

    #[test]
    fn report_card_schools_count_under_their_own_framework() {
        let judged = vec![
            j("1", Some(2), "Primary"),
            Judged {
                urn: "2".into(),
                standing: Standing::ReportCard(Some(true)),
                ofsted_phase: Some("Primary".into()),
            },
            Judged {
                urn: "3".into(),
                standing: Standing::ReportCard(Some(false)),
                ofsted_phase: Some("Primary".into()),
            },
            Judged {
                urn: "4".into(),
                standing: Standing::OeifNotJudged,
                ofsted_phase: Some("Primary".into()),
            },
            j("5", None, "Primary"),
        ];
        let census: Vec<CensusSchool> = (1..=5)
            .map(|u| c(&u.to_string(), "100", "primary", Some(100.0 * u as f64)))
            .collect();
        let (rows, m) = standing(
            &judged,
            &census,
            &BTreeMap::new(),
            &|_| "LA".into(),
            &[Phase::Primary],
        );
        let r = &rows[0];
        assert_eq!(
            (
                r.schools,
                r.schools_report_card,
                r.schools_oeif_not_judged,
                r.schools_no_graded_inspection
            ),
            (1, 2, 1, 1)
        );
        assert_eq!(
            (
                r.schools_report_card_expected_or_better,
                r.pct_schools_report_card_expected_or_better
            ),
            (1, Some(50.0))
        );
        // Pupils: 200 of 500 in report-card schools meet the definition.
        assert_eq!(
            (
                r.pupils_report_card,
                r.pct_pupils_report_card_expected_or_better
            ),
            (500, Some(40.0))
        );
        assert_eq!(
            r.census_schools_not_inspected, 0,
            "a report-card school is inspected"
        );
        assert!(
            r.sentence_frameworks.contains("1 of 2 schools (50.0%)")
                && r.sentence_frameworks.contains("attain's definition"),
            "{}",
            r.sentence_frameworks
        );
        assert_eq!(
            (
                m.under_oeif,
                m.under_report_card,
                m.oeif_not_judged,
                m.no_graded_inspection
            ),
            (1, 2, 1, 1)
        );
    }
}
