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

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use super::comparators::AreaRows;
use super::data::Data;
use super::series_breaks::SeriesOf;
use super::significance::{gap_significance, newcombe, percent_vs_reference, Significance};
use super::trend::gap_trend;
use crate::catalogue::Catalogue;
use crate::error::ConfigError;
use crate::number;
use crate::store::frame::ResultRecord;
use crate::store::schema::Level;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize, serde::Deserialize)]
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
    pub comparison_status: String,
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

/// The smallest group whose figures are used in a gap or printed (DfE withholds groups of
/// 1-5 pupils the same way).
pub const MIN_GROUP: f64 = 6.0;

/// The figures one gap is computed from, at one level (school or LA).
pub trait GapSource {
    /// `group`'s figure for `code` in `year`.
    fn own(&self, group: &str, year: i32, code: &str) -> Option<&ResultRecord>;
    /// England's rows and the measure they are read for.
    fn england_rows(&self) -> (&AreaRows, &str);
    /// The phase of England's row when the group has no row to take it from.
    fn phase(&self) -> &str {
        "all"
    }
    /// England's figure of `group` in `year`, of the phase of `like`
    /// (`analysis::comparators`).
    fn england(
        &self,
        group: &str,
        year: i32,
        like: Option<&ResultRecord>,
    ) -> Option<&ResultRecord> {
        let (rows, measure) = self.england_rows();
        let phase = like.map_or(self.phase(), |r| r.phase.as_str());
        rows.england(measure, group, year, phase)
    }
}

/// What one gap is: the measure, the group and its comparison, the year and the trend window.
pub struct GapSpec<'s> {
    pub measure: &'s str,
    pub group: &'s str,
    pub against: Against,
    pub level: Level,
    pub year: i32,
    /// How many years the trend looks back over (3 = this year and the two before).
    pub trend_years: usize,
}

impl GapSpec<'_> {
    /// The trend window: this year and the `trend_years - 1` calendar years before it. A
    /// year with no figures (2019/20, 2020/21) stays in the window as a gap in the series, so
    /// a trend never joins figures either side of it.
    pub fn window(&self) -> Vec<i32> {
        let n = self.trend_years.max(1) as i32;
        (self.year - n + 1..=self.year).collect()
    }

    /// The comparison group (the complement, or all pupils) and whether it is England's.
    pub fn comparison(&self, cat: &Catalogue) -> (String, bool) {
        let complement = cat.group(self.group).and_then(|g| g.complement.clone());
        match self.against {
            Against::Within => (complement.unwrap_or_else(|| "all".into()), false),
            Against::National => (complement.unwrap_or_else(|| "all".into()), true),
            Against::All => ("all".into(), false),
        }
    }
}

/// One code's gap: the one computation behind `attain gaps`, the booklet and the workbook.
/// Within a school or LA, a group whose complement is not published there (EAL in the
/// performance tables) is compared with all pupils. Figures about fewer than MIN_GROUP
/// pupils are not used. None when there is neither a figure nor a reason for its absence.
pub fn gap_row(
    cat: &Catalogue,
    src: &impl GapSource,
    spec: &GapSpec,
    code: &str,
    name: String,
    la_code: Option<String>,
) -> Option<GapRow> {
    let measure = cat.measure(spec.measure);
    let dps = measure.map(|m| m.dps).unwrap_or(1);
    let percent = measure.is_some_and(|m| m.unit == "percent");
    let (mut comparison, national) = spec.comparison(cat);
    let window = spec.window();
    if !national
        && comparison != "all"
        && !window
            .iter()
            .any(|&y| src.own(&comparison, y, code).is_some())
    {
        comparison = "all".into();
    }
    let small = |r: Option<&ResultRecord>| r.and_then(|r| r.cohort).is_some_and(|n| n < MIN_GROUP);
    let pair = |y: i32| {
        let g = src.own(spec.group, y, code);
        let c = if national {
            src.england(&comparison, y, g)
        } else {
            src.own(&comparison, y, code)
        };
        (g, c)
    };
    let figure_in = |y: i32| {
        let (g, c) = pair(y);
        if small(g) || (!national && small(c)) {
            return None;
        }
        gap_between(g?, c?, dps, percent)
    };
    let (g, c) = pair(spec.year);
    let figure = figure_in(spec.year);
    let reason = if figure.is_some() {
        None
    } else if small(g) || (!national && small(c)) {
        Some(format!(
            "fewer than {} pupils: too few to compare",
            MIN_GROUP as i64
        ))
    } else {
        let why = |r: Option<&ResultRecord>, group: &str| {
            super::unpublished::reason(
                cat,
                spec.measure,
                group,
                spec.year,
                spec.level.as_str(),
                r.map(|r| r.status.as_str()),
            )
        };
        why(g, spec.group).or_else(|| why(c, &comparison))
    };
    if g.is_none() && reason.is_none() {
        return None;
    }
    let history: Vec<(i32, Option<f64>)> = window
        .iter()
        .map(|&y| (y, figure_in(y).map(|f| f.gap)))
        .collect();
    let series = SeriesOf::new(cat, spec.measure, spec.group, spec.level.as_str());
    let (trend, trend_change) = gap_trend(&series, &history, dps);
    Some(GapRow {
        code: code.to_string(),
        name,
        level: spec.level.as_str().to_string(),
        la_code,
        year: spec.year,
        measure: spec.measure.to_string(),
        group: spec.group.to_string(),
        comparison: if national {
            format!("national {comparison}")
        } else {
            comparison.clone()
        },
        group_value: g.and_then(|g| g.value),
        group_cohort: g.and_then(|g| g.cohort),
        group_status: g.map_or_else(|| "no_data".to_string(), |g| g.status.clone()),
        comparison_value: c.and_then(|c| c.value),
        comparison_cohort: c.and_then(|c| c.cohort),
        comparison_status: c.map_or_else(|| "no_data".to_string(), |c| c.status.clone()),
        gap: figure.as_ref().map(|f| f.gap),
        gap_ci: figure
            .as_ref()
            .and_then(|f| f.ci)
            .map(|(a, b)| (number::round(a, dps), number::round(b, dps))),
        significance: figure
            .as_ref()
            .map_or(Significance::NotAssessed, |f| f.significance)
            .label()
            .to_string(),
        trend,
        trend_change,
        previous_gaps: history,
        reason,
    })
}

/// Figures read from the store for `attain gaps`: each group's rows per year, and England's.
struct StoreGaps {
    own: HashMap<(String, i32), BTreeMap<String, ResultRecord>>,
    england: AreaRows,
    measure: String,
}

impl GapSource for StoreGaps {
    fn own(&self, group: &str, year: i32, code: &str) -> Option<&ResultRecord> {
        self.own.get(&(group.to_string(), year))?.get(code)
    }
    fn england_rows(&self) -> (&AreaRows, &str) {
        (&self.england, &self.measure)
    }
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
    let spec = GapSpec {
        measure: req.measure,
        group: req.group,
        against: req.against,
        level: req.level,
        year: req.year,
        trend_years: req.trend_years,
    };
    let (comparison, national) = spec.comparison(data.catalogue);
    let window = spec.window();
    let mut src = StoreGaps {
        own: HashMap::new(),
        england: AreaRows::default(),
        measure: req.measure.to_string(),
    };
    let mut england_rows = Vec::new();
    for &y in &window {
        let mut groups = vec![req.group, "all"];
        if !national {
            groups.push(&comparison);
        }
        for g in groups {
            if let std::collections::hash_map::Entry::Vacant(e) = src.own.entry((g.to_string(), y))
            {
                let rows = year_rows(data, req, g, y)?;
                e.insert(rows);
            }
        }
        if national {
            england_rows.extend(data.england_rows(req.measure, &comparison, y)?);
        }
    }
    src.england = AreaRows::new(data, england_rows);
    let this_year = &src.own[&(req.group.to_string(), req.year)];
    // A year DfE published none of these figures: one row per school or LA that had them
    // the year before, saying why, rather than nothing.
    let codes: Vec<(String, Option<String>)> = if this_year.is_empty() {
        window
            .iter()
            .rev()
            .filter(|y| **y < req.year)
            .map(|y| &src.own[&(req.group.to_string(), *y)])
            .find(|rows| !rows.is_empty())
            .map(|rows| {
                rows.values()
                    .map(|r| (r.code.clone(), r.la_code.clone()))
                    .collect()
            })
            .unwrap_or_default()
    } else {
        this_year
            .values()
            .map(|r| (r.code.clone(), r.la_code.clone()))
            .collect()
    };
    let mut out: Vec<GapRow> = codes
        .into_iter()
        .filter_map(|(code, la)| {
            let name = data.name(&code);
            gap_row(data.catalogue, &src, &spec, &code, name, la)
        })
        .collect();
    // Widest gaps (most negative) first.
    out.sort_by(|a, b| {
        a.gap
            .unwrap_or(f64::INFINITY)
            .total_cmp(&b.gap.unwrap_or(f64::INFINITY))
            .then(a.code.cmp(&b.code))
    });
    Ok(out)
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
        gap: number::round(raw, dps),
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
