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
use super::significance::{gap_significance, newcombe, percent_vs_reference, Significance};
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
    /// Why there is no gap: the year DfE published no such figure (catalogue/breaks.toml),
    /// or the withheld status of the group's or comparison's figure. None when there is a gap.
    pub reason: Option<String>,
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
    let complement = data
        .catalogue
        .group(group)
        .and_then(|g| g.complement.clone());
    match against {
        Against::Within => (complement.unwrap_or_else(|| "all".into()), false),
        Against::National => (complement.unwrap_or_else(|| "all".into()), true),
        Against::All => ("all".into(), false),
    }
}

fn year_rows(
    data: &Data,
    req: &GapRequest,
    group: &str,
    year: i32,
) -> anyhow::Result<BTreeMap<String, ResultRecord>> {
    let mut rows = data.best(req.measure, group, year, req.level, None)?;
    if let Some(la) = req.la {
        rows.retain(|code, r| code == la || r.la_code.as_deref() == Some(la));
    }
    Ok(rows)
}

pub fn gaps(data: &Data, req: &GapRequest) -> anyhow::Result<Vec<GapRow>> {
    if data.catalogue.group(req.group).is_none() {
        return Err(ConfigError::new(
            "--group",
            format!(
                "unknown group {:?} (see `attain measures --groups`)",
                req.group
            ),
        )
        .into());
    }
    let measure = data.catalogue.measure(req.measure);
    let dps = measure.map(|m| m.dps).unwrap_or(1);
    let percent = measure.map(|m| m.unit == "percent").unwrap_or(false);
    let (comparison, national) = comparison_of(data, req.group, req.against);
    let label = if national {
        format!("national {comparison}")
    } else {
        comparison.clone()
    };

    // Gap per code per year, for this year and the trend window.
    let mut years: Vec<i32> = data
        .years(req.measure, req.level)?
        .into_iter()
        .filter(|y| *y <= req.year)
        .collect();
    years.sort_unstable();
    let window: Vec<i32> = years
        .iter()
        .rev()
        .take(req.trend_years.max(1))
        .rev()
        .copied()
        .collect();
    let mut per_year: BTreeMap<
        i32,
        (
            BTreeMap<String, ResultRecord>,
            BTreeMap<String, ResultRecord>,
        ),
    > = BTreeMap::new();
    for &y in window.iter().chain(std::iter::once(&req.year)) {
        if per_year.contains_key(&y) {
            continue;
        }
        let g = year_rows(data, req, req.group, y)?;
        let c = if national {
            let nat = data.national(req.measure, &comparison, y)?;
            g.keys()
                .filter_map(|k| nat.clone().map(|n| (k.clone(), n)))
                .collect()
        } else {
            year_rows(data, req, &comparison, y)?
        };
        per_year.insert(y, (g, c));
    }
    let gap_of = |g: Option<&ResultRecord>, c: Option<&ResultRecord>| -> Option<f64> {
        Some(gap_between(g?, c?, dps, percent)?.gap)
    };
    let Some((groups, comps)) = per_year.get(&req.year) else {
        return Ok(vec![]);
    };
    let unpublished = |group: &str| {
        super::unpublished::not_published(
            data.catalogue,
            req.measure,
            group,
            req.year,
            req.level.as_str(),
        )
    };
    // One row per school or LA: its figures this year (none in a year DfE did not publish),
    // the gap, and the gaps of the trend window.
    let row = |code: &String,
               la_code: &Option<String>,
               g: Option<&ResultRecord>,
               c: Option<&ResultRecord>,
               figure: Option<GapFigure>,
               reason: Option<String>| {
        let history: Vec<(i32, Option<f64>)> = window
            .iter()
            .map(|y| {
                (
                    *y,
                    per_year
                        .get(y)
                        .and_then(|(gs, cs)| gap_of(gs.get(code), cs.get(code))),
                )
            })
            .collect();
        let (trend, trend_change) = gap_trend(&history);
        GapRow {
            code: code.clone(),
            name: data.name(code),
            level: req.level.as_str().to_string(),
            la_code: la_code.clone(),
            year: req.year,
            measure: req.measure.to_string(),
            group: req.group.to_string(),
            comparison: label.clone(),
            group_value: g.and_then(|g| g.value),
            group_cohort: g.and_then(|g| g.cohort),
            group_status: g.map_or_else(|| "no_data".to_string(), |g| g.status.clone()),
            comparison_value: c.and_then(|c| c.value),
            comparison_cohort: c.and_then(|c| c.cohort),
            gap: figure.as_ref().map(|f| f.gap),
            gap_ci: figure
                .as_ref()
                .and_then(|f| f.ci)
                .map(|(a, b)| (round_half_away(a, 1), round_half_away(b, 1))),
            significance: figure
                .as_ref()
                .map_or(Significance::NotAssessed, |f| f.significance)
                .label()
                .to_string(),
            trend,
            trend_change: trend_change.map(|t| round_half_away(t, dps.max(1))),
            previous_gaps: history,
            reason,
        }
    };
    if groups.is_empty() {
        // A year DfE published none of these figures: one row per school or LA that had them
        // the year before, saying why, rather than nothing.
        let Some(reason) = unpublished(req.group).or_else(|| unpublished(&comparison)) else {
            return Ok(vec![]);
        };
        let before = window
            .iter()
            .rev()
            .find(|y| **y < req.year)
            .and_then(|y| per_year.get(y));
        return Ok(before
            .map(|(g, _)| g.iter())
            .into_iter()
            .flatten()
            .map(|(code, g)| row(code, &g.la_code, None, None, None, Some(reason.clone())))
            .collect());
    }
    let mut out = Vec::new();
    for (code, g) in groups {
        let c = comps.get(code);
        let figure = c.and_then(|c| gap_between(g, c, dps, percent));
        let reason = if figure.is_some() {
            None
        } else {
            let why = |r: Option<&ResultRecord>, group: &str| {
                super::unpublished::reason(
                    data.catalogue,
                    req.measure,
                    group,
                    req.year,
                    req.level.as_str(),
                    r.map(|r| r.status.as_str()),
                )
            };
            why(Some(g), req.group).or_else(|| why(c, &comparison))
        };
        out.push(row(code, &g.la_code, Some(g), c, figure, reason));
    }
    // Widest gaps (most negative) first.
    out.sort_by(|a, b| {
        a.gap
            .unwrap_or(f64::INFINITY)
            .total_cmp(&b.gap.unwrap_or(f64::INFINITY))
            .then(a.code.cmp(&b.code))
    });
    Ok(out)
}

/// One gap with its interval and significance.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GapFigure {
    /// group - comparison, rounded as the measure is published.
    pub gap: f64,
    /// 95% interval of the unrounded gap, where the figures allow one.
    pub ci: Option<(f64, f64)>,
    pub significance: Significance,
}

/// The gap between a group's figure and its comparison's (gap = group - comparison).
///
/// Significance: percentages with both cohorts use Newcombe's interval; with only the
/// group's cohort (a national comparison, whose own uncertainty is negligible) the group's
/// Wilson interval against the comparison figure; progress scores combine their published
/// confidence intervals (half-widths added in quadrature). Other measures are not assessed.
pub fn gap_between(
    group: &ResultRecord,
    comparison: &ResultRecord,
    dps: u32,
    percent: bool,
) -> Option<GapFigure> {
    let (g, c) = (group.value?, comparison.value?);
    let raw = g - c;
    let ci = if percent {
        match (group.cohort, comparison.cohort) {
            (Some(n1), Some(n2)) if n1 > 0.0 && n2 > 0.0 => newcombe(g, n1, c, n2),
            (Some(n1), _) if n1 > 0.0 => percent_vs_reference(g, n1, c)
                .1
                .map(|(lo, hi)| (lo - c, hi - c)),
            _ => None,
        }
    } else {
        let half = |r: &ResultRecord| match (r.ci_low, r.ci_high) {
            (Some(lo), Some(hi)) => Some((hi - lo) / 2.0),
            _ => None,
        };
        match (half(group), half(comparison)) {
            (Some(h1), Some(h2)) => Some((
                raw - (h1 * h1 + h2 * h2).sqrt(),
                raw + (h1 * h1 + h2 * h2).sqrt(),
            )),
            // National progress is 0 by construction: the group's own interval is the gap's.
            (Some(h1), None) if comparison.level == "national" => Some((raw - h1, raw + h1)),
            _ => None,
        }
    };
    Some(GapFigure {
        gap: round_half_away(raw, dps),
        ci,
        significance: gap_significance(ci),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(level: &str, value: f64, cohort: Option<f64>, ci: Option<(f64, f64)>) -> ResultRecord {
        ResultRecord {
            year: 2019,
            level: level.into(),
            code: "x".into(),
            la_code: None,
            scope: "state_funded".into(),
            phase: "all".into(),
            measure: "m".into(),
            group: "g".into(),
            value: Some(value),
            cohort,
            numerator: None,
            ci_low: ci.map(|c| c.0),
            ci_high: ci.map(|c| c.1),
            status: "ok".into(),
            version: "final".into(),
            dataset: "d".into(),
            source_column: "c".into(),
            source_file: "f".into(),
            source_row: 1,
        }
    }

    #[test]
    fn percentage_gaps_use_newcombe() {
        // Newcombe (1998) example (c): 80% of 70 against 60% of 80: interval 5.24 to 33.39 points.
        let f = gap_between(
            &rec("school", 80.0, Some(70.0), None),
            &rec("school", 60.0, Some(80.0), None),
            0,
            true,
        )
        .unwrap();
        assert_eq!(f.gap, 20.0);
        let (lo, hi) = f.ci.unwrap();
        assert!((lo - 5.24).abs() < 0.01 && (hi - 33.39).abs() < 0.01);
        assert_eq!(f.significance, Significance::Above);
        // Against a national figure with no cohort: the group's Wilson interval, shifted.
        let n = gap_between(
            &rec("school", 49.0, Some(20.0), None),
            &rec("national", 71.0, None, None),
            0,
            true,
        )
        .unwrap();
        assert_eq!(n.gap, -22.0);
        assert_eq!(
            n.significance,
            Significance::Below,
            "the Wilson interval for 49% of 20 pupils ends below 71%"
        );
    }

    #[test]
    fn progress_gaps_combine_published_intervals() {
        let f = gap_between(
            &rec("school", -1.0, None, Some((-2.0, 0.0))),
            &rec("school", 1.0, None, Some((0.0, 2.0))),
            1,
            false,
        )
        .unwrap();
        assert_eq!(f.gap, -2.0);
        let (lo, hi) = f.ci.unwrap();
        assert!(
            (lo - (-2.0 - 2f64.sqrt())).abs() < 1e-9 && (hi - (-2.0 + 2f64.sqrt())).abs() < 1e-9
        );
        assert_eq!(f.significance, Significance::Below);
        let avg = gap_between(
            &rec("la", 33.7, Some(2222.0), None),
            &rec("la", 50.5, Some(10596.0), None),
            1,
            false,
        )
        .unwrap();
        assert_eq!(
            (avg.gap, avg.significance),
            (-16.8, Significance::NotAssessed)
        );
    }
}
