//! Agreed targets: checking a school's return cell by cell, and each target against the
//! result the school then got. The same `against` serves `attain targets compare` and the
//! booklet's "Last year's targets" section.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use serde::Serialize;

use super::data::Data;
use super::rank::Polarity;
use crate::catalogue::{Catalogue, Measure};
use crate::error::StoreError;
use crate::ingest::target_return::{layout, CellValue, FormCell, TargetReturn};
use crate::number;
use crate::store::frame::{ResultFilter, ResultRecord};
use crate::store::schema::{Level, SchoolRow, TargetRow};
use crate::year::academic_label;

/// One thing wrong with a return, at a cell where there is one.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Problem {
    pub file: String,
    pub sheet: Option<String>,
    pub cell: Option<String>,
    /// The URN as written on the form, and the measure the problem is about, where known.
    pub urn: Option<String>,
    pub measure: Option<String>,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(s) = &self.sheet {
            write!(f, ", sheet {s}")?;
        }
        if let Some(c) = &self.cell {
            write!(f, ", cell {c}")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// What a return is checked against.
pub struct Expect<'a> {
    /// The results year the targets must be for.
    pub year: i32,
    pub schools: &'a HashMap<String, SchoolRow>,
    pub catalogue: &'a Catalogue,
    /// URN -> the measures its form has (those with a figure for the school in `year - 1`).
    pub form_measures: &'a HashMap<String, Vec<String>>,
}

/// A URN as written: digits only (a number cell or text).
fn urn_of(v: &CellValue) -> Option<String> {
    let t = v.text();
    (!t.is_empty() && t.len() <= 8 && t.bytes().all(|b| b.is_ascii_digit())).then_some(t)
}

/// Names compared as letters and digits only, ignoring case ("St Mary's" = "ST MARYS").
fn same_name(a: &str, b: &str) -> bool {
    let norm = |s: &str| {
        s.chars()
            .filter(|c| c.is_alphanumeric())
            .flat_map(char::to_lowercase)
            .collect::<String>()
    };
    norm(a) == norm(b)
}

/// A target as typed: a number, or text holding one (`65`, `65%` for percentages).
fn number_of(v: &CellValue, percent: bool) -> Option<f64> {
    match v {
        CellValue::Number(n) if n.is_finite() => Some(*n),
        CellValue::Text(t) => {
            let t = t.trim();
            let t = if percent {
                t.strip_suffix('%').unwrap_or(t).trim_end()
            } else {
                t
            };
            t.parse::<f64>().ok().filter(|n| n.is_finite())
        }
        _ => None,
    }
}

/// Check one return. Every problem is reported; the targets come back only if there are none.
pub fn check(ret: &TargetReturn, expect: &Expect) -> Result<Vec<TargetRow>, Vec<Problem>> {
    let file = crate::ingest::display_path(&ret.file);
    let mut problems = Vec::new();
    let urn_text = ret
        .urn
        .as_ref()
        .map(|c| c.value.text())
        .filter(|t| !t.is_empty());
    let mut problem = |cell: Option<&FormCell>, measure: Option<&str>, message: String| {
        problems.push(Problem {
            file: file.clone(),
            sheet: Some(ret.sheet.clone()),
            cell: cell.map(|c| c.cell.clone()),
            urn: urn_text.clone(),
            measure: measure.map(str::to_string),
            message,
        })
    };
    let missing_label = |name: &str| {
        format!("no {name:?} label in column A: not a targets form from `attain targets forms`")
    };

    // The school: a URN in the store, and the school the form names.
    let mut school: Option<&SchoolRow> = None;
    match &ret.urn {
        None => problem(None, None, missing_label(layout::URN)),
        Some(c) => match urn_of(&c.value) {
            None if c.value == CellValue::Empty => problem(Some(c), None, "no URN".into()),
            None => problem(Some(c), None, format!("{:?} is not a URN", c.value.text())),
            Some(urn) => match expect.schools.get(&urn) {
                None => problem(
                    Some(c),
                    None,
                    format!("URN {urn} is not a school in the store"),
                ),
                Some(s) => {
                    let named = ret
                        .school
                        .as_ref()
                        .map(|n| n.value.text())
                        .unwrap_or_default();
                    let known = s.name.clone().unwrap_or_default();
                    if !named.is_empty() && !known.is_empty() && !same_name(&named, &known) {
                        let at = ret
                            .school
                            .as_ref()
                            .map(|n| n.cell.clone())
                            .unwrap_or_default();
                        problem(
                            Some(c),
                            None,
                            format!("URN {urn} is {known} in the store, not {named} (cell {at})"),
                        );
                    } else {
                        school = Some(s);
                    }
                }
            },
        },
    }

    // The year the targets are for.
    match &ret.year {
        None => problem(None, None, missing_label(layout::FOR_YEAR)),
        Some(c) => {
            let year = match &c.value {
                CellValue::Number(n) if n.fract() == 0.0 => Some(*n as i32),
                CellValue::Text(t) => crate::year::parse_year_label(t),
                _ => None,
            };
            match year {
                None => problem(
                    Some(c),
                    None,
                    format!(
                        "{:?} is not a year (the form says e.g. {})",
                        c.value.text(),
                        academic_label(expect.year)
                    ),
                ),
                Some(y) if y != expect.year => problem(
                    Some(c),
                    None,
                    format!(
                        "the form is for {} targets; this import is for {} (--year {})",
                        academic_label(y),
                        academic_label(expect.year),
                        expect.year
                    ),
                ),
                Some(_) => {}
            }
        }
    }

    // The measures: each once, each in the form, each with a number in range.
    let form = school.and_then(|s| expect.form_measures.get(&s.urn));
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    let mut targets = Vec::new();
    for row in &ret.rows {
        let id = row.measure.value.text();
        if id.is_empty() {
            problem(
                Some(&row.measure),
                None,
                format!(
                    "no measure id for the agreed target in cell {}",
                    row.agreed.cell
                ),
            );
            continue;
        }
        let meas = expect.catalogue.measure(&id);
        let in_form = match form {
            Some(f) => f.contains(&id),
            None => meas.is_some(),
        };
        if !in_form {
            problem(
                Some(&row.measure),
                Some(&id),
                format!("measure {id} is not in the form"),
            );
            continue;
        }
        if let Some(first) = seen.get(&id) {
            problem(
                Some(&row.measure),
                Some(&id),
                format!("measure {id} is listed twice (also cell {first})"),
            );
            continue;
        }
        seen.insert(id.clone(), row.measure.cell.clone());
        let Some(meas) = meas else { continue };
        let percent = meas.unit == "percent";
        let value = match &row.agreed.value {
            CellValue::Empty => {
                problem(
                    Some(&row.agreed),
                    Some(&id),
                    format!("no agreed target for {id}"),
                );
                continue;
            }
            v => match number_of(v, percent) {
                Some(n) => n,
                None => {
                    problem(
                        Some(&row.agreed),
                        Some(&id),
                        format!("agreed target {:?} for {id} is not a number", v.text()),
                    );
                    continue;
                }
            },
        };
        if let Some((lo, hi)) = meas.value_range() {
            if value < lo || value > hi {
                problem(
                    Some(&row.agreed),
                    Some(&id),
                    format!(
                        "agreed target {} for {id} is outside {} to {}, the range of the measure",
                        fmt_num(value),
                        fmt_num(lo),
                        fmt_num(hi)
                    ),
                );
                continue;
            }
        }
        // Typing "65%" into a spreadsheet stores 0.65.
        if percent && value > 0.0 && value < 1.0 {
            problem(
                Some(&row.agreed),
                Some(&id),
                format!(
                    "agreed target {} for {id} looks like a fraction: enter \
                percentages as numbers (65 for 65%)",
                    fmt_num(value)
                ),
            );
            continue;
        }
        if let Some(s) = school {
            targets.push(TargetRow {
                urn: s.urn.clone(),
                la_code: s.la_code.clone(),
                year: expect.year,
                measure: id,
                target: value,
                source_file: file.clone(),
                source_sheet: ret.sheet.clone(),
                source_cell: row.agreed.cell.clone(),
            });
        }
    }
    for m in form.into_iter().flatten() {
        if !seen.contains_key(m) {
            problem(
                None,
                Some(m),
                format!("no row for measure {m}, which the form has: no agreed target for it"),
            );
        }
    }
    if problems.is_empty() {
        Ok(targets)
    } else {
        Err(problems)
    }
}

/// A number as typed: no trailing zeros.
fn fmt_num(v: f64) -> String {
    let s = format!("{v}");
    s.strip_suffix(".0").map(str::to_string).unwrap_or(s)
}

/// A target against the result: the result (if published), the difference (result minus
/// target, at the measure's precision) and `met`, `not met` or `no result` (with the
/// status token when the figure was withheld, e.g. `no result (SUPP)`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Achieved {
    pub actual: Option<f64>,
    pub difference: Option<f64>,
    pub outcome: String,
}

pub fn against(measure: Option<&Measure>, target: f64, actual: Option<&ResultRecord>) -> Achieved {
    let dps = measure.map(|m| m.dps).unwrap_or(1);
    let low_is_good =
        measure.and_then(|m| Polarity::from_catalogue(&m.polarity)) == Some(Polarity::Low);
    match actual.and_then(|r| r.value) {
        Some(v) => {
            let difference = number::round(v - target, dps);
            let met = if low_is_good {
                difference <= 0.0
            } else {
                difference >= 0.0
            };
            Achieved {
                actual: Some(v),
                difference: Some(difference + 0.0),
                outcome: if met { "met" } else { "not met" }.into(),
            }
        }
        None => {
            let token = actual
                .map(|r| r.status.as_str())
                .filter(|s| !matches!(*s, "ok" | "blank" | ""));
            Achieved {
                actual: None,
                difference: None,
                outcome: token
                    .map(|t| format!("no result ({t})"))
                    .unwrap_or_else(|| "no result".into()),
            }
        }
    }
}

/// Every school's figure for a measure and year (state-funded, all pupils), one source
/// chosen as the booklet chooses it.
pub fn school_figures(
    data: &Data,
    measure: &str,
    year: i32,
) -> Result<BTreeMap<String, ResultRecord>, StoreError> {
    let f = ResultFilter {
        measure: Some(measure.into()),
        group: Some("all".into()),
        year: Some(year),
        level: Some(Level::School),
        scope: Some("state_funded".into()),
        ..Default::default()
    };
    Ok(data.pick(data.query(&f)?))
}

/// One stored target with the school's result.
#[derive(Debug, Clone, Serialize)]
pub struct TargetOutcome {
    pub urn: String,
    pub school: String,
    pub la_code: String,
    pub year: i32,
    pub measure: String,
    pub target: f64,
    pub actual: Option<f64>,
    pub difference: Option<f64>,
    pub outcome: String,
    /// The return the target was read from, and its cell.
    pub source: String,
}

/// Each target against the school's result for its year.
pub fn compare(data: &Data, targets: &[TargetRow]) -> Result<Vec<TargetOutcome>, StoreError> {
    let mut figures: HashMap<(String, i32), BTreeMap<String, ResultRecord>> = HashMap::new();
    let mut out = Vec::new();
    for t in targets {
        let key = (t.measure.clone(), t.year);
        if !figures.contains_key(&key) {
            figures.insert(key.clone(), school_figures(data, &t.measure, t.year)?);
        }
        let a = against(
            data.catalogue.measure(&t.measure),
            t.target,
            figures[&key].get(&t.urn),
        );
        out.push(TargetOutcome {
            urn: t.urn.clone(),
            school: data.name(&t.urn),
            la_code: t.la_code.clone().unwrap_or_default(),
            year: t.year,
            measure: t.measure.clone(),
            target: t.target,
            actual: a.actual,
            difference: a.difference,
            outcome: a.outcome,
            source: format!(
                "{}, sheet {}, cell {}",
                t.source_file, t.source_sheet, t.source_cell
            ),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(value: Option<f64>, status: &str) -> ResultRecord {
        ResultRecord {
            year: 2019,
            level: "school".into(),
            code: "100001".into(),
            la_code: None,
            scope: "state_funded".into(),
            phase: "all".into(),
            measure: "ks2_rwm_expected".into(),
            group: "all".into(),
            value,
            cohort: None,
            numerator: None,
            ci_low: None,
            ci_high: None,
            status: status.into(),
            version: "final".into(),
            dataset: "x".into(),
            source_column: "x".into(),
            source_file: "x".into(),
            source_row: 1,
        }
    }

    #[test]
    fn targets_against_results() {
        let cat = Catalogue::builtin();
        let rwm = cat.measure("ks2_rwm_expected");
        assert_eq!(
            against(rwm, 70.0, Some(&rec(Some(72.0), "ok"))),
            Achieved {
                actual: Some(72.0),
                difference: Some(2.0),
                outcome: "met".into()
            }
        );
        assert_eq!(
            against(rwm, 70.0, Some(&rec(Some(70.0), "ok"))).outcome,
            "met",
            "reaching the target meets it"
        );
        assert_eq!(
            against(rwm, 70.0, Some(&rec(Some(69.0), "ok"))).difference,
            Some(-1.0)
        );
        assert_eq!(
            against(rwm, 70.0, Some(&rec(None, "SUPP"))).outcome,
            "no result (SUPP)"
        );
        assert_eq!(against(rwm, 70.0, None).outcome, "no result");
        // Lower is better for absence: under the target meets it.
        let abs = cat.measure("absence_overall");
        assert_eq!(
            against(abs, 4.0, Some(&rec(Some(3.8), "ok"))).outcome,
            "met"
        );
        assert_eq!(
            against(abs, 4.0, Some(&rec(Some(4.1), "ok"))).outcome,
            "not met"
        );
        // Progress 8 to two places: -0.1 against -0.12 is 0.02 above.
        assert_eq!(
            against(
                cat.measure("ks4_progress8"),
                -0.12,
                Some(&rec(Some(-0.1), "ok"))
            )
            .difference,
            Some(0.02)
        );
    }

    #[test]
    fn numbers_and_names_as_typed() {
        assert_eq!(number_of(&CellValue::Text("65%".into()), true), Some(65.0));
        assert_eq!(number_of(&CellValue::Text("65%".into()), false), None);
        assert_eq!(number_of(&CellValue::Text("sixty".into()), true), None);
        assert_eq!(number_of(&CellValue::Number(47.5), false), Some(47.5));
        assert!(same_name(
            "St Mary's C of E Primary",
            "ST MARYS C OF E PRIMARY"
        ));
        assert!(!same_name("Oak Primary", "Ash Primary"));
        assert_eq!(urn_of(&CellValue::Number(116215.0)), Some("116215".into()));
        assert_eq!(urn_of(&CellValue::Text("11621x".into())), None);
        assert_eq!(fmt_num(140.0), "140");
        assert_eq!(fmt_num(0.65), "0.65");
    }
}
