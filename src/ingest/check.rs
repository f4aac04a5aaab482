//! Values checked against the catalogue as a file is read: each figure within its measure's
//! range, cohorts whole and not negative, no column a mapping reads named twice, and LA codes
//! and years that could be real. What cannot be right is an error naming the cell; what is
//! odd but may be right (a year far ahead, an LA code outside England's) is a warning.

use std::collections::HashMap;

use super::perf::{Figures, Resolved};
use super::table::{Row, Table};
use crate::catalogue::Catalogue;
use crate::error::{IngestError, IngestWarning};

/// A column the file's mappings read (value, cohort, numerator, key) whose name appears twice
/// in the header: which one holds the figures cannot be told, so neither is read.
pub fn duplicate_columns(t: &Table, read: &[String]) -> Result<(), IngestError> {
    let mut first: HashMap<String, usize> = HashMap::new();
    for (i, h) in t.headers.iter().enumerate() {
        if h.is_empty() {
            continue;
        }
        let key = h.to_ascii_uppercase();
        if let Some(&j) = first.get(&key) {
            if read.iter().any(|r| r.eq_ignore_ascii_case(h)) {
                let letter = |n: usize| super::table::column_letters(n + 1);
                return Err(IngestError::at(&t.path, t.header_line, Some(h), format!("the column name {h} is used \
                    twice (fields {} and {}, columns {} and {} in a spreadsheet): which holds the figures cannot be \
                    told; rename or remove one", j + 1, i + 1, letter(j), letter(i))));
            }
        } else {
            first.insert(key, i);
        }
    }
    Ok(())
}

fn shown(v: f64) -> String {
    let s = format!("{v}");
    s.strip_suffix(".0").map(str::to_string).unwrap_or(s)
}

/// Check one mapping's figures from one row. An impossible value is an error at its cell; a
/// value outside the range that the catalogue records as a DfE oddity is returned as a note.
pub(crate) fn figures(
    t: &Table,
    row: &Row,
    r: &Resolved,
    f: &Figures,
    cat: &Catalogue,
) -> Result<Option<String>, IngestError> {
    let col = |i: usize| t.headers.get(i).map(String::as_str);
    let text = |i: usize| row.get(i).trim().to_string();
    // A cohort counts pupils; a numerator is a count or a sum of points (TOTATT8): never below 0.
    if let (Some(i), Some(v)) = (r.cohort, f.cohort) {
        if v < 0.0 || v.fract() != 0.0 {
            return Err(IngestError::at(
                &t.path,
                row.line,
                col(i),
                format!(
                    "{:?}: a cohort must be a whole number of 0 or more",
                    text(i)
                ),
            ));
        }
    }
    if let (Some(i), Some(v)) = (r.numerator.filter(|_| r.ratio.is_none()), f.numerator) {
        if v < 0.0 {
            return Err(IngestError::at(
                &t.path,
                row.line,
                col(i),
                format!(
                    "{:?}: a numerator (a count or a total of points) cannot be below 0",
                    text(i)
                ),
            ));
        }
    }
    if let (Some(scale), Some(v)) = (r.ratio, f.numerator) {
        // A count turned into a rate: the count itself is a number of pupils.
        if v < 0.0 || v.fract() != 0.0 {
            return Err(IngestError::at(
                &t.path,
                row.line,
                col(r.idx),
                format!(
                    "{:?}: a count of pupils must be a \
                whole number of 0 or more (read as {} per {})",
                    text(r.idx),
                    r.measure,
                    shown(scale)
                ),
            ));
        }
    }
    let (Some(v), Some(rule)) = (f.value, cat.value_rule(&r.measure)) else {
        return Ok(None);
    };
    let whole = !rule.integer || v.fract() == 0.0;
    if v >= rule.min && v <= rule.max && whole {
        return Ok(None);
    }
    let unit = cat
        .measure(&r.measure)
        .map(|m| m.unit.clone())
        .unwrap_or_default();
    let m = &r.measure;
    let (lo, hi) = (shown(rule.min), shown(rule.max));
    let why = match (rule.integer, rule.max.is_infinite()) {
        (true, true) => format!("{m} ({unit}) takes whole numbers of {lo} or more"),
        (true, false) => format!("{m} ({unit}) takes whole numbers from {lo} to {hi}"),
        (false, true) => format!("{m} ({unit}) runs from {lo} up"),
        (false, false) => format!("{m} ({unit}) runs from {lo} to {hi}"),
    };
    let raw = text(r.idx);
    let shown_value = if r.ratio.is_some() {
        format!("{raw:?} (read as {})", shown(v))
    } else {
        format!("{raw:?}")
    };
    match rule.oddity {
        // DfE's own figure, as DfE publishes it: noted (`attain inspect` lists it), not a
        // warning, so that a published file still reads cleanly.
        Some(note) => Ok(Some(format!(
            "row {}, column {}: {shown_value} is outside the range: {why}; read as \
            published ({note})",
            row.line,
            col(r.idx).unwrap_or("")
        ))),
        None => Err(IngestError::at(
            &t.path,
            row.line,
            col(r.idx),
            format!("{shown_value} is out of range: {why}"),
        )),
    }
}

/// English LA codes (the old LEA numbers) run from 201 (City of London) to the 940s (the
/// newest unitary authorities).
pub fn plausible_la_code(code: &str) -> bool {
    code.len() == 3 && code.parse::<u32>().is_ok_and(|n| (201..=960).contains(&n))
}

/// LA codes outside England's: one warning per code, at its first row.
#[derive(Default)]
pub struct LaCodes {
    warned: std::collections::HashSet<String>,
}

impl LaCodes {
    pub fn check(
        &mut self,
        t: &Table,
        row: &Row,
        column: Option<&str>,
        code: &str,
    ) -> Option<IngestWarning> {
        if plausible_la_code(code) || !self.warned.insert(code.to_string()) {
            return None;
        }
        Some(IngestWarning::at(
            &t.path,
            row.line,
            column,
            format!(
                "LA code {code} is not an English LA code (they run \
            from 201 to the 940s): read as given; check the file"
            ),
        ))
    }
}

/// A results year that cannot be a real one yet (or is from before the tables began): a warning.
pub fn plausible_year(t: &Table, year: i32, from: &str) -> Option<IngestWarning> {
    let this_year = crate::dates::this_year();
    if (1990..=this_year + 1).contains(&year) {
        return None;
    }
    Some(IngestWarning::at_file(
        &t.path,
        format!(
            "the year {year} (found from the {from}) is not plausible for \
        published results (1990 to {}): check the file name, or pass --year",
            this_year + 1
        ),
    ))
}
