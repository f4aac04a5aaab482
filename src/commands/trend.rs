//! `attain trend`: a measure's series for one school, LA or England, with breaks marked.

use serde::Serialize;

use crate::analysis::data::Data;
use crate::analysis::precision::PublishedPrecision;
use crate::analysis::trend::{trend_of_group, Trend};
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

/// The series over `years` (default: every year in the store for the measure, at least 3,
/// up to the latest year of its key stage, so that a year DfE published the key stage without
/// this measure shows, with its reason).
pub fn series(
    data: &Data,
    measure: &str,
    group: &str,
    code: &str,
    years: Option<(i32, i32)>,
) -> anyhow::Result<TrendReport> {
    let level = if code == ENGLAND || code.eq_ignore_ascii_case("england") {
        Level::National
    } else if code.len() >= 6 {
        Level::School
    } else {
        Level::La
    };
    let code = if level == Level::National {
        ENGLAND
    } else {
        code
    };
    let have = data.years(measure, level)?;
    let (first, last) = match years {
        Some(r) => r,
        None => {
            let last = data
                .key_stage_years(measure, level)?
                .last()
                .copied()
                .into_iter()
                .chain(have.last().copied())
                .max()
                .unwrap_or(0);
            (have.first().copied().unwrap_or(last).min(last - 2), last)
        }
    };
    let span: Vec<i32> = (first..=last).collect();
    // Each figure at the precision DfE published it (a figure rebuilt from numerators has more).
    let precision = PublishedPrecision::load(data)?;
    let mut values = Vec::new();
    // A school's series continues through its predecessors (academy converters), labelled.
    let mut sources = Vec::new();
    if level == Level::School {
        for p in data.school_history(code, measure, group, &span)? {
            values.push((p.year, p.value(), p.status().map(str::to_string)));
            sources.push(p.label);
        }
    } else {
        for &y in &span {
            // England as every comparator takes it (the performance tables' row).
            let r = if level == Level::National {
                data.national(measure, group, y)?
            } else {
                data.best(measure, group, y, level, Some(code))?
                    .remove(code)
            };
            let value = r
                .as_ref()
                .and_then(|r| precision.published(data, measure, r));
            values.push((y, value, r.map(|r| r.status)));
        }
    }
    let mut trend = trend_of_group(
        data.catalogue,
        measure,
        group,
        level.as_str(),
        &span,
        &values,
    );
    for (point, source) in trend.points.iter_mut().zip(sources) {
        point.source = source;
    }
    Ok(TrendReport {
        code: code.to_string(),
        name: data.name(code),
        measure: measure.into(),
        group: group.into(),
        trend,
    })
}

/// One printed line of a trend (table and CSV): the reason stands where a missing value would
/// be, and the break note is kept only where it says something else.
#[derive(Debug, Serialize)]
pub struct TrendLine {
    pub year: i32,
    pub value: Option<f64>,
    /// False where the figure does not compare with the year before (a series break).
    pub comparable: bool,
    pub reason: Option<String>,
    pub break_note: Option<String>,
    /// Whose figure it is when not the school's own (a predecessor's, a prior-year column).
    pub source: Option<String>,
}

pub fn lines(t: &TrendReport) -> Vec<TrendLine> {
    let line = |p: &crate::analysis::trend::TrendPoint| TrendLine {
        year: p.year,
        value: p.value,
        comparable: p.comparable,
        reason: p.reason.clone(),
        break_note: p
            .break_note
            .clone()
            .filter(|n| p.reason.as_ref() != Some(n)),
        source: p.source.clone(),
    };
    t.trend.points.iter().map(line).collect()
}
