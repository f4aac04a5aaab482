//! `attain trend`: a measure's series for one school, LA or England, with breaks marked.

use serde::Serialize;

use crate::analysis::data::Data;
use crate::analysis::trend::{trend, Trend};
use crate::store::schema::{Level, ENGLAND};

#[derive(Debug, Serialize)]
pub struct TrendReport {
    pub code: String,
    pub name: String,
    pub measure: String,
    pub group: String,
    #[serde(flatten)]
    pub trend: Trend,
}

/// The series over `years` (default: every year in the store for the measure, at least 3).
pub fn series(data: &Data, measure: &str, group: &str, code: &str, years: Option<(i32, i32)>) -> anyhow::Result<TrendReport> {
    let level = if code == ENGLAND || code.eq_ignore_ascii_case("england") {
        Level::National
    } else if code.len() >= 6 {
        Level::School
    } else {
        Level::La
    };
    let code = if level == Level::National { ENGLAND } else { code };
    let have = data.years(measure, level)?;
    let (first, last) = match years {
        Some(r) => r,
        None => (have.first().copied().unwrap_or(0).min(have.last().copied().unwrap_or(0) - 2), have.last().copied().unwrap_or(0)),
    };
    let span: Vec<i32> = (first..=last).collect();
    let mut values = Vec::new();
    for &y in &span {
        let v = data.best(measure, group, y, level, Some(code))?.remove(code).and_then(|r| r.value);
        values.push((y, v));
    }
    Ok(TrendReport { code: code.to_string(), name: data.name(code), measure: measure.into(), group: group.into(), trend: trend(data.catalogue, measure, &span, &values) })
}
