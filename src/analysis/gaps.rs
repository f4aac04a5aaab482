//! Gaps between pupil groups, for any measure, at school, LA or national level.
//!
//! Sign convention: **gap = group - comparison**, so a negative gap means the group is
//! behind. Comparisons:
//! * `within`: the group against the rest of the same school or LA (its complement:
//!   disadvantaged against not_disadvantaged, boys against girls ...); groups with no
//!   complement (looked-after children, ethnic groups) are compared with all pupils;
//! * `national`: the group against national pupils of the complement group (DfE's DIFFN
//!   convention: disadvantaged here against non-disadvantaged in England);
//! * `all`: the group against all pupils of the same school or LA.

use std::collections::BTreeMap;

use serde::Serialize;

use super::data::Data;
use super::significance::{gap_significance, newcombe, Significance};
use super::trend::gap_trend;
use crate::error::ConfigError;
use crate::store::frame::ResultRecord;
use crate::store::schema::Level;
use crate::value::round_half_away;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Against {
    Within,
    National,
    All,
}

/// One row of `attain gaps` (JSON field names are fixed).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct GapRow {
    pub code: String,
    pub name: String,
    pub level: String,
    pub la_code: Option<String>,
    pub year: i32,
    pub measure: String,
    pub group: String,
    pub comparison: String,
    pub group_value: Option<f64>,
    pub group_cohort: Option<f64>,
    pub group_status: String,
    pub comparison_value: Option<f64>,
    pub comparison_cohort: Option<f64>,
    pub gap: Option<f64>,
    pub gap_ci: Option<(f64, f64)>,
    pub significance: String,
    pub trend: String,
    pub trend_change: Option<f64>,
    pub previous_gaps: Vec<(i32, Option<f64>)>,
}

pub struct GapRequest<'r> {
    pub measure: &'r str,
    pub group: &'r str,
    pub level: Level,
    pub la: Option<&'r str>,
    pub year: i32,
    pub against: Against,
    /// How many years the trend looks back over (3 = this year and the two before).
    pub trend_years: usize,
}

/// The comparison group and whether it is national.
fn comparison_of(data: &Data, group: &str, against: Against) -> (String, bool) {
    let complement = data.catalogue.group(group).and_then(|g| g.complement.clone());
    match against {
        Against::Within => (complement.unwrap_or_else(|| "all".into()), false),
        Against::National => (complement.unwrap_or_else(|| "all".into()), true),
        Against::All => ("all".into(), false),
    }
}

fn year_rows(data: &Data, req: &GapRequest, group: &str, year: i32) -> anyhow::Result<BTreeMap<String, ResultRecord>> {
    let mut rows = data.best(req.measure, group, year, req.level, None)?;
    if let Some(la) = req.la {
        rows.retain(|code, r| code == la || r.la_code.as_deref() == Some(la));
    }
    Ok(rows)
}

pub fn gaps(data: &Data, req: &GapRequest) -> anyhow::Result<Vec<GapRow>> {
    if data.catalogue.group(req.group).is_none() {
        return Err(ConfigError::new("--group", format!("unknown group {:?} (see `attain measures --groups`)", req.group)).into());
    }
    let measure = data.catalogue.measure(req.measure);
    let dps = measure.map(|m| m.dps).unwrap_or(1);
    let percent = measure.map(|m| m.unit == "percent").unwrap_or(false);
    let (comparison, national) = comparison_of(data, req.group, req.against);
    let label = if national { format!("national {comparison}") } else { comparison.clone() };

    // Gap per code per year, for this year and the trend window.
    let mut years: Vec<i32> = data.years(req.measure, req.level)?.into_iter().filter(|y| *y <= req.year).collect();
    years.sort_unstable();
    let window: Vec<i32> = years.iter().rev().take(req.trend_years.max(1)).rev().copied().collect();
    let mut per_year: BTreeMap<i32, (BTreeMap<String, ResultRecord>, BTreeMap<String, ResultRecord>)> = BTreeMap::new();
    for &y in window.iter().chain(std::iter::once(&req.year)) {
        if per_year.contains_key(&y) {
            continue;
        }
        let g = year_rows(data, req, req.group, y)?;
        let c = if national {
            let nat = data.national(req.measure, &comparison, y)?;
            g.keys().filter_map(|k| nat.clone().map(|n| (k.clone(), n))).collect()
        } else {
            year_rows(data, req, &comparison, y)?
        };
        per_year.insert(y, (g, c));
    }
    let gap_of = |g: Option<&ResultRecord>, c: Option<&ResultRecord>| -> Option<f64> {
        Some(round_half_away(g?.value? - c?.value?, dps))
    };
    let Some((groups, comps)) = per_year.get(&req.year) else { return Ok(vec![]) };
    let mut out = Vec::new();
    for (code, g) in groups {
        let c = comps.get(code);
        let gap = gap_of(Some(g), c);
        let gap_ci = match (percent, g.value, g.cohort, c.and_then(|c| c.value), c.and_then(|c| c.cohort)) {
            (true, Some(p1), Some(n1), Some(p2), Some(n2)) => newcombe(p1, n1, p2, n2),
            _ => None,
        };
        let significance = if gap.is_some() { gap_significance(gap_ci) } else { Significance::NotAssessed };
        let history: Vec<(i32, Option<f64>)> = window.iter().map(|y| (*y, per_year.get(y).and_then(|(gs, cs)| gap_of(gs.get(code), cs.get(code))))).collect();
        let (trend, trend_change) = gap_trend(&history);
        out.push(GapRow {
            code: code.clone(),
            name: data.name(code),
            level: req.level.as_str().to_string(),
            la_code: g.la_code.clone(),
            year: req.year,
            measure: req.measure.to_string(),
            group: req.group.to_string(),
            comparison: label.clone(),
            group_value: g.value,
            group_cohort: g.cohort,
            group_status: g.status.clone(),
            comparison_value: c.and_then(|c| c.value),
            comparison_cohort: c.and_then(|c| c.cohort),
            gap,
            gap_ci: gap_ci.map(|(a, b)| (round_half_away(a, 1), round_half_away(b, 1))),
            significance: significance.label().to_string(),
            trend,
            trend_change: trend_change.map(|t| round_half_away(t, dps.max(1))),
            previous_gaps: history,
        });
    }
    // Widest gaps (most negative) first.
    out.sort_by(|a, b| a.gap.unwrap_or(f64::INFINITY).total_cmp(&b.gap.unwrap_or(f64::INFINITY)).then(a.code.cmp(&b.code)));
    Ok(out)
}
