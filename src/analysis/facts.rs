//! Facts about a school that categorisation rules test: its Ofsted position under either
//! framework (the OEIF grade, or the report card's areas and safeguarding) and how long ago
//! it was inspected, and for each outcome measure its value, the national figure, the
//! difference from national, the change over three years, whether it declined in each of
//! those years, and (for headline attainment) the disadvantaged gap.
//!
//! A fact the store cannot give (no row, a withheld value, a year missing from a trend, a
//! three-year change across a series break) is `None`: the rules engine records it as
//! "no data", it never counts as passing or failing.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::Serialize;

use super::comparators::AreaRows;
use super::data::Data;
use super::gaps::{gap_row, Against, GapSource, GapSpec};
use super::inspection::{SchoolInspections, REPORT_CARD_AREAS};
use super::lineage::Lineage;
use super::rank::Polarity;
use super::series_breaks::comparable;
use crate::dates::days_from_civil;
use crate::error::StoreError;
use crate::number;
use crate::store::frame::ResultRecord;
use crate::store::schema::{framework, Level};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FactKind {
    Number,
    Bool,
    /// One word of a fixed list (`inspection_framework`: `oeif`, `report_card`).
    Word(&'static [&'static str]),
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(untagged)]
pub enum FactValue {
    Num(f64),
    Bool(bool),
    Word(&'static str),
}

impl std::fmt::Display for FactValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FactValue::Num(x) => write!(f, "{}", number::round(*x, 2)),
            FactValue::Bool(b) => write!(f, "{b}"),
            FactValue::Word(w) => write!(f, "{w}"),
        }
    }
}

/// The values of `inspection_framework`.
pub const FRAMEWORKS: &[&str] = &[framework::OEIF, framework::REPORT_CARD];

/// Outcome measures with facts, and whether they have a disadvantaged gap.
pub const MEASURES: &[(&str, bool)] = &[
    ("ks2_rwm_expected", true),
    ("ks2_read_progress", false),
    ("ks2_writ_progress", false),
    ("ks2_mat_progress", false),
    ("ks4_attainment8", true),
    ("ks4_progress8", true),
    ("ks4_em_grade4", false),
    ("absence_overall", false),
    ("absence_persistent", false),
];

/// What a fact is derived from a measure by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Derived {
    Value,
    National,
    VsNational,
    Change3y,
    Declining3y,
    Disadvantaged,
    DisadvantagedGap,
}

const SUFFIXES: &[(&str, Derived, bool)] = &[
    ("_national", Derived::National, false),
    ("_vs_national", Derived::VsNational, false),
    ("_change_3y", Derived::Change3y, false),
    ("_declining_3y", Derived::Declining3y, false),
    ("_disadvantaged_gap", Derived::DisadvantagedGap, true),
    ("_disadvantaged", Derived::Disadvantaged, true),
];

/// Every fact name, with what it means (for `--help`-style listings and error messages).
pub fn catalogue() -> Vec<(String, FactKind, String)> {
    let mut v: Vec<(String, FactKind, String)> = vec![
        ("ofsted_grade".to_string(), FactKind::Number, "overall effectiveness of the latest graded inspection when it \
            was under the previous framework (OEIF), 1 outstanding - 4 inadequate; no data once a report card \
            replaces it".to_string()),
        ("years_since_inspection".to_string(), FactKind::Number, "years from the latest graded inspection (either \
            framework) to 31 August of the year".to_string()),
        ("inspection_framework".to_string(), FactKind::Word(FRAMEWORKS), "the framework of the latest graded \
            inspection: oeif or report_card".to_string()),
        ("report_card_lowest_area".to_string(), FactKind::Number, "the weakest evaluation area of the latest report \
            card, 1 exceptional - 5 urgent improvement (safeguarding aside)".to_string()),
        ("safeguarding_met".to_string(), FactKind::Bool, "safeguarding of the latest graded inspection: report card \
            standards met, or OEIF safeguarding effective".to_string()),
        ("report_card_expected_or_better".to_string(), FactKind::Bool, "attain's definition: every evaluation area of \
            the latest report card at expected standard or better and safeguarding met".to_string()),
    ];
    for (id, name) in REPORT_CARD_AREAS {
        v.push((
            format!("report_card_{id}"),
            FactKind::Number,
            format!("{name} in the latest report card, 1 exceptional - 5 urgent improvement"),
        ));
    }
    for (m, gap) in MEASURES {
        v.push((m.to_string(), FactKind::Number, format!("the school's {m}")));
        v.push((
            format!("{m}_national"),
            FactKind::Number,
            format!("England's {m} (state-funded, the school's phase where published by phase)"),
        ));
        v.push((
            format!("{m}_vs_national"),
            FactKind::Number,
            format!("school minus England for {m}"),
        ));
        v.push((
            format!("{m}_change_3y"),
            FactKind::Number,
            format!("{m} this year minus two years before (no data across a series break)"),
        ));
        v.push((
            format!("{m}_declining_3y"),
            FactKind::Bool,
            format!("{m} worse in each of the last two years (no data across a series break)"),
        ));
        if *gap {
            v.push((
                format!("{m}_disadvantaged"),
                FactKind::Number,
                format!("{m} of the school's disadvantaged pupils"),
            ));
            v.push((
                format!("{m}_disadvantaged_gap"),
                FactKind::Number,
                format!("school disadvantaged minus England's other pupils for {m} (DfE's DIFFN)"),
            ));
        }
    }
    v
}

pub fn kind(fact: &str) -> Option<FactKind> {
    catalogue()
        .into_iter()
        .find(|(n, _, _)| n == fact)
        .map(|(_, k, _)| k)
}

fn parse(fact: &str) -> Option<(&'static str, Derived)> {
    for &(m, gap) in MEASURES {
        if fact == m {
            return Some((m, Derived::Value));
        }
        if let Some(rest) = fact.strip_prefix(m) {
            for (suf, d, needs_gap) in SUFFIXES {
                if rest == *suf && (!needs_gap || gap) {
                    return Some((m, *d));
                }
            }
        }
    }
    None
}

/// Facts shown beside a fact in the evidence, so a reader sees where a difference came from.
pub fn supporting(fact: &str) -> Vec<String> {
    match parse(fact) {
        Some((m, Derived::VsNational)) => vec![m.to_string(), format!("{m}_national")],
        Some((m, Derived::DisadvantagedGap)) => vec![format!("{m}_disadvantaged")],
        _ => vec![],
    }
}

/// Everything needed to answer facts for schools in one year, read once.
pub struct FactTable {
    pub year: i32,
    /// (measure, group, year) -> URN -> value
    school: HashMap<(String, String, i32), BTreeMap<String, ResultRecord>>,
    /// England's state-funded rows of the measures, chosen as every comparator is
    /// (`analysis::comparators`, docs/methods.md).
    england: AreaRows,
    /// (measure, URN) -> the disadvantaged gap against England's other pupils, from the one
    /// gap computation (`gaps::gap_row`) that `attain gaps` and the booklet print.
    disadvantaged_gaps: HashMap<(String, String), Option<f64>>,
    /// Measure -> the decimals DfE publishes it at (differences are rounded there).
    dps: HashMap<String, u32>,
    polarity: HashMap<String, Polarity>,
    /// Measure -> whether its school figures two years back compare with this year's
    /// (`series_breaks`): three-year facts across a break are no data, never computed.
    comparable_3y: HashMap<String, bool>,
    /// Each school's inspections on or before 31 August of the year (either framework).
    inspections: HashMap<String, SchoolInspections>,
    /// URN -> where figures not its own came from ("ks2_rwm_expected 2018: predecessor
    /// school: NAME (URN)"), for three-year facts taken through its predecessor.
    borrowed: HashMap<String, Vec<String>>,
    /// 31 August of the year, days since 1970-01-01.
    pub reference_day: i64,
}

impl FactTable {
    /// Read what the `facts` need for `year`.
    pub fn load(data: &Data, year: i32, facts: &BTreeSet<String>) -> Result<FactTable, StoreError> {
        let reference_day = days_from_civil(year as i64, 8, 31);
        let mut t = FactTable {
            year,
            school: HashMap::new(),
            england: AreaRows::default(),
            disadvantaged_gaps: HashMap::new(),
            dps: HashMap::new(),
            polarity: HashMap::new(),
            comparable_3y: HashMap::new(),
            inspections: HashMap::new(),
            borrowed: HashMap::new(),
            reference_day,
        };
        if facts.iter().any(|f| is_inspection_fact(f)) {
            t.inspections = data.school_inspections(Some(reference_day))?;
        }
        let mut needed: BTreeSet<(&str, Derived)> = BTreeSet::new();
        for f in facts {
            if let Some(p) = parse(f) {
                needed.insert(p);
            }
        }
        let load_school = |t: &mut FactTable, m: &str, g: &str, y: i32| -> Result<(), StoreError> {
            let key = (m.to_string(), g.to_string(), y);
            if let std::collections::hash_map::Entry::Vacant(e) = t.school.entry(key) {
                e.insert(data.best(m, g, y, Level::School, None)?);
            }
            Ok(())
        };
        let mut lineage: Option<Lineage> = None;
        let mut england_rows = Vec::new();
        let mut england_read: BTreeSet<(&str, &str)> = BTreeSet::new();
        for (m, d) in &needed {
            t.dps
                .insert(m.to_string(), number::dps_of(data.catalogue.measure(m)));
            if let Some(p) = data.polarity(m)? {
                t.polarity.insert(m.to_string(), p);
            }
            match d {
                Derived::Value | Derived::National | Derived::VsNational => {
                    load_school(&mut t, m, "all", year)?
                }
                Derived::Change3y | Derived::Declining3y => {
                    t.comparable_3y.insert(
                        m.to_string(),
                        comparable(data.catalogue, m, "all", "school", year - 2, year),
                    );
                    for y in year - 2..=year {
                        load_school(&mut t, m, "all", y)?;
                    }
                    if lineage.is_none() {
                        lineage = Some(Lineage::load(data)?);
                    }
                    if let Some(l) = &lineage {
                        t.fill_through_predecessors(data, l, m)?;
                    }
                }
                Derived::Disadvantaged | Derived::DisadvantagedGap => {
                    load_school(&mut t, m, "disadvantaged", year)?
                }
            }
            let group = match d {
                Derived::National | Derived::VsNational => Some("all"),
                Derived::DisadvantagedGap => Some("not_disadvantaged"),
                _ => None,
            };
            if let Some(g) = group {
                if england_read.insert((m, g)) {
                    england_rows.extend(data.england_rows(m, g, year)?);
                }
            }
        }
        t.england = AreaRows::new(data, england_rows);
        for (m, d) in &needed {
            if *d == Derived::DisadvantagedGap {
                t.fill_disadvantaged_gaps(data, m);
            }
        }
        Ok(t)
    }

    /// The two earlier years of a measure for schools with a figure this year and none of
    /// their own then (academy converters): their predecessors' figures, or the prior-year
    /// columns, as `Lineage::resolve` orders them.
    fn fill_through_predecessors(
        &mut self,
        data: &Data,
        lineage: &Lineage,
        m: &str,
    ) -> Result<(), StoreError> {
        let key = |y: i32| (m.to_string(), "all".to_string(), y);
        let current: Vec<String> = match self.school.get(&key(self.year)) {
            Some(v) => v.keys().cloned().collect(),
            None => return Ok(()),
        };
        for y in self.year - 2..self.year {
            let mut rows: Option<BTreeMap<String, crate::store::frame::ResultRecord>> = None;
            for urn in &current {
                if self
                    .school
                    .get(&key(y))
                    .is_some_and(|v| v.contains_key(urn))
                {
                    continue;
                }
                if rows.is_none() {
                    rows = Some(data.best(m, "all", y, Level::School, None)?);
                }
                let own = rows.as_ref().expect("read above");
                let p = lineage.resolve(urn, m, "all", y, |c| Ok(own.get(c).cloned()))?;
                if let (Some(r), Some(label)) = (p.record, p.label) {
                    self.school
                        .entry(key(y))
                        .or_default()
                        .insert(urn.clone(), r);
                    self.borrowed
                        .entry(urn.clone())
                        .or_default()
                        .push(format!("{m} {y}: {label}"));
                }
            }
        }
        Ok(())
    }

    /// Where a school's figures that are not its own came from (empty for most schools).
    pub fn borrowed(&self, urn: &str) -> &[String] {
        self.borrowed.get(urn).map(Vec::as_slice).unwrap_or(&[])
    }

    fn comparable_3y(&self, m: &str) -> bool {
        self.comparable_3y.get(m).copied().unwrap_or(false)
    }

    fn record(&self, m: &str, g: &str, y: i32, urn: &str) -> Option<&ResultRecord> {
        self.school
            .get(&(m.to_string(), g.to_string(), y))?
            .get(urn)
    }

    fn value(&self, m: &str, g: &str, y: i32, urn: &str) -> Option<f64> {
        self.record(m, g, y, urn)?.value
    }

    /// England's figure for the school's phase where the file splits by phase (absence), else all phases.
    fn national(&self, m: &str, g: &str, phase: &str) -> Option<f64> {
        self.england.england(m, g, self.year, phase)?.value
    }

    /// `a - b` at the measure's published decimals, as the booklet prints the difference.
    fn difference(&self, m: &str, a: f64, b: f64) -> f64 {
        number::difference(
            a,
            b,
            self.dps.get(m).copied().unwrap_or(number::DEFAULT_DPS),
        )
    }

    /// Each school's disadvantaged gap this year, by the one gap computation.
    fn fill_disadvantaged_gaps(&mut self, data: &Data, m: &str) {
        let spec = GapSpec {
            measure: m,
            group: "disadvantaged",
            against: Against::National,
            level: Level::School,
            year: self.year,
            trend_years: 1,
        };
        let urns: Vec<String> = self
            .school
            .get(&(m.to_string(), "disadvantaged".to_string(), self.year))
            .map(|rows| rows.keys().cloned().collect())
            .unwrap_or_default();
        let source = FactGaps {
            table: self,
            measure: m,
        };
        let gaps: Vec<(String, Option<f64>)> = urns
            .into_iter()
            .map(|urn| {
                let gap = gap_row(data.catalogue, &source, &spec, &urn, String::new(), None)
                    .and_then(|row| row.gap);
                (urn, gap)
            })
            .collect();
        for (urn, gap) in gaps {
            self.disadvantaged_gaps.insert((m.to_string(), urn), gap);
        }
    }

    /// The value of `fact` for a school; `None` when the store cannot say.
    pub fn get(&self, urn: &str, phase: &str, fact: &str) -> Option<FactValue> {
        if is_inspection_fact(fact) {
            return self.inspection_fact(urn, fact);
        }
        let (m, d) = parse(fact)?;
        let y = self.year;
        let num = |v: Option<f64>| v.map(FactValue::Num);
        match d {
            Derived::Value => num(self.value(m, "all", y, urn)),
            Derived::National => num(self.national(m, "all", phase)),
            Derived::VsNational => num(Some(self.difference(
                m,
                self.value(m, "all", y, urn)?,
                self.national(m, "all", phase)?,
            ))),
            Derived::Change3y | Derived::Declining3y if !self.comparable_3y(m) => None,
            Derived::Change3y => num(Some(self.difference(
                m,
                self.value(m, "all", y, urn)?,
                self.value(m, "all", y - 2, urn)?,
            ))),
            Derived::Declining3y => {
                let pol = *self.polarity.get(m)?;
                let (a, b, c) = (
                    self.value(m, "all", y - 2, urn)?,
                    self.value(m, "all", y - 1, urn)?,
                    self.value(m, "all", y, urn)?,
                );
                Some(FactValue::Bool(pol.better(a, b) && pol.better(b, c)))
            }
            Derived::Disadvantaged => num(self.value(m, "disadvantaged", y, urn)),
            Derived::DisadvantagedGap => num(*self
                .disadvantaged_gaps
                .get(&(m.to_string(), urn.to_string()))?),
        }
    }
}

fn is_inspection_fact(f: &str) -> bool {
    matches!(
        f,
        "ofsted_grade" | "years_since_inspection" | "inspection_framework" | "safeguarding_met"
    ) || f.starts_with("report_card_")
}

impl FactTable {
    /// Ofsted facts. A report card replaces the OEIF grade (`ofsted_grade` is then no data);
    /// report-card facts are no data for a school whose latest graded inspection was OEIF.
    fn inspection_fact(&self, urn: &str, fact: &str) -> Option<FactValue> {
        let s = self.inspections.get(urn)?;
        let latest = s.latest_graded.as_ref()?;
        let num = |v: Option<i32>| v.map(|g| FactValue::Num(g as f64));
        match fact {
            "ofsted_grade" => num(s.oeif_grade()),
            "years_since_inspection" => Some(FactValue::Num(number::round(
                (self.reference_day - latest.date) as f64 / 365.25,
                1,
            ))),
            "inspection_framework" => FRAMEWORKS
                .iter()
                .copied()
                .find(|f| *f == latest.framework)
                .map(FactValue::Word),
            "safeguarding_met" => latest.safeguarding_met().map(FactValue::Bool),
            "report_card_lowest_area" => num(s.report_card()?.lowest_area()),
            "report_card_expected_or_better" => s
                .report_card()?
                .report_card_expected_or_better()
                .map(FactValue::Bool),
            other => num(s
                .report_card()?
                .grade_of(other.strip_prefix("report_card_")?)),
        }
    }
}

/// The fact table's rows as a gap's figures (`gaps::GapSource`).
struct FactGaps<'t> {
    table: &'t FactTable,
    measure: &'t str,
}

impl GapSource for FactGaps<'_> {
    fn own(&self, group: &str, year: i32, code: &str) -> Option<&ResultRecord> {
        self.table.record(self.measure, group, year, code)
    }
    fn england_rows(&self) -> (&AreaRows, &str) {
        (&self.table.england, self.measure)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fact_names_parse() {
        assert_eq!(
            parse("ks2_rwm_expected_vs_national"),
            Some(("ks2_rwm_expected", Derived::VsNational))
        );
        assert_eq!(
            parse("ks2_rwm_expected_disadvantaged_gap"),
            Some(("ks2_rwm_expected", Derived::DisadvantagedGap))
        );
        assert_eq!(
            parse("ks2_read_progress_disadvantaged_gap"),
            None,
            "no gap fact for progress"
        );
        assert_eq!(kind("ks4_progress8_declining_3y"), Some(FactKind::Bool));
        assert_eq!(kind("ofsted_grade"), Some(FactKind::Number));
        assert_eq!(kind("ks2_rwm"), None);
        assert_eq!(kind("report_card_inclusion"), Some(FactKind::Number));
        assert_eq!(
            kind("inspection_framework"),
            Some(FactKind::Word(FRAMEWORKS))
        );
    }
}
