//! LA and national figures rebuilt from school rows, and a reconciliation against DfE's
//! own published LA and national rows that explains every difference.
//!
//! Weighting: each school's figure counts in proportion to its cohort (TELIG, TPUP, NOR:
//! the cohort the catalogue names for the column). Withheld school figures (SUPP ...)
//! cannot be included, so their pupils are missing from the rebuilt figure: the report
//! says how many. Rounding is DfE's: half away from zero.

use serde::Serialize;

use super::data::Data;
use crate::number;
use crate::store::frame::{ResultFilter, ResultRecord};
use crate::store::schema::{Level, ENGLAND};

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Reconciliation {
    pub code: String,
    pub name: String,
    pub measure: String,
    pub group: String,
    pub year: i32,
    /// `all`, or the phase of a phase-split LA row (census and absence: primary, secondary, special).
    pub phase: String,
    /// Sum over schools (counts) or cohort-weighted mean (rates and averages), before rounding
    /// to the measure's places (given at `number::FREE_DPS` decimals).
    pub computed: Option<f64>,
    pub computed_rounded: Option<f64>,
    pub published: Option<f64>,
    pub difference: Option<f64>,
    pub schools: usize,
    pub schools_withheld: usize,
    pub cohort_included: f64,
    pub cohort_withheld: f64,
    pub cohort_published: Option<f64>,
    /// "exact", "rounding", "suppression", "suppression (complementary)", "revision", "unexplained"
    pub explanation: String,
    pub source_file: String,
}

/// School figures pooled into one figure for a group of schools (an LA, a partnership):
/// counts are summed; rates and averages are weighted by each school's cohort, i.e. built
/// from pupil counts, never by averaging percentages. A school without a figure (withheld)
/// or without a weight cannot be included and is counted as withheld.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Pool {
    /// Sum counts instead of weighting (the catalogue's `aggregate = "sum"`).
    pub sum: bool,
    /// Sum of value x weight (or of values, for counts).
    pub weighted: f64,
    /// Sum of the weights (cohorts) of the schools included.
    pub cohort: f64,
    pub included: usize,
    pub withheld: usize,
    /// Cohorts of the withheld schools, where known.
    pub cohort_withheld: f64,
}

impl Pool {
    pub fn new(sum: bool) -> Pool {
        Pool {
            sum,
            ..Pool::default()
        }
    }

    /// Add one school; returns whether it could be included.
    pub fn add(&mut self, value: Option<f64>, weight: Option<f64>) -> bool {
        match (value, weight.filter(|w| *w > 0.0)) {
            (Some(v), _) if self.sum => {
                self.weighted += v;
                self.cohort += weight.unwrap_or(0.0);
            }
            (Some(v), Some(w)) => {
                self.weighted += v * w;
                self.cohort += w;
            }
            _ => {
                self.withheld += 1;
                self.cohort_withheld += weight.unwrap_or(0.0);
                return false;
            }
        }
        self.included += 1;
        true
    }

    /// The pooled figure, unrounded (None if no school could be included).
    pub fn value(&self) -> Option<f64> {
        if self.sum {
            (self.included > 0).then_some(self.weighted)
        } else {
            (self.cohort > 0.0).then(|| self.weighted / self.cohort)
        }
    }
}

/// Rebuild the LA figure for `measure`/`group` from the school rows of each file that
/// has an LA row, and compare.
pub fn reconcile(
    data: &Data,
    measure: &str,
    group: &str,
    year: i32,
    la: Option<&str>,
) -> anyhow::Result<Vec<Reconciliation>> {
    let m = data.catalogue.measure(measure);
    let dps = m.map(|m| m.dps).unwrap_or(0);
    let sum = m.map(|m| m.aggregate == "sum").unwrap_or(false);
    let rows = data.query(&ResultFilter {
        measure: Some(measure.into()),
        group: Some(group.into()),
        year: Some(year),
        la_code: la.map(str::to_string),
        ..Default::default()
    })?;
    // One reconciliation per file and LA that has both school rows and an LA row, and one per
    // file whose school rows cover the country (national downloads) against its England row.
    let mut by_file: std::collections::BTreeMap<(String, String), Vec<&ResultRecord>> =
        std::collections::BTreeMap::new();
    let mut national: std::collections::BTreeMap<String, Vec<&ResultRecord>> =
        std::collections::BTreeMap::new();
    for r in &rows {
        if let Some(lac) = &r.la_code {
            by_file
                .entry((r.source_file.clone(), lac.clone()))
                .or_default()
                .push(r);
        }
        if la.is_none()
            && (r.level == Level::School.as_str()
                || (r.level == Level::National.as_str()
                    && r.scope == "state_funded"
                    && r.phase == "all"))
        {
            national.entry(r.source_file.clone()).or_default().push(r);
        }
    }
    for (file, rs) in national {
        let las: std::collections::HashSet<&str> =
            rs.iter().filter_map(|r| r.la_code.as_deref()).collect();
        if las.len() >= 20 && rs.iter().any(|r| r.level == Level::National.as_str()) {
            by_file.insert((file, ENGLAND.to_string()), rs);
        }
    }
    let mut out = Vec::new();
    for ((file, la_code), rs) in by_file {
        let published_level = if la_code == ENGLAND {
            Level::National
        } else {
            Level::La
        };
        // Census and absence LA rows come one per phase: each is rebuilt from that phase's schools.
        for la_row in rs
            .iter()
            .filter(|r| r.level == published_level.as_str() && (r.scope == "state_funded"))
        {
            if let Some(r) = reconcile_one(data, &file, &la_code, la_row, &rs, dps, sum, year) {
                out.push(r);
            }
        }
    }
    Ok(out)
}

/// One published LA (or England) row against the school rows it covers.
#[allow(clippy::too_many_arguments)]
fn reconcile_one(
    data: &Data,
    file: &str,
    la_code: &str,
    la_row: &ResultRecord,
    rs: &[&ResultRecord],
    dps: u32,
    sum: bool,
    year: i32,
) -> Option<Reconciliation> {
    {
        // A phase row covers that phase's state-funded schools and, for special schools, the
        // non-maintained special schools too (DfE's SPE rows); an all-phase row the state-funded schools.
        let covered = |r: &ResultRecord| match la_row.phase.as_str() {
            "all" => r.scope == "state_funded",
            phase => r.phase == phase && r.scope != "independent",
        };
        let schools: Vec<&&ResultRecord> = rs
            .iter()
            .filter(|r| r.level == Level::School.as_str() && covered(r))
            .collect();
        if schools.is_empty() {
            return None;
        }
        let mut pool = Pool::new(sum);
        for s in &schools {
            pool.add(s.value, s.cohort);
        }
        let Pool {
            withheld,
            cohort_withheld,
            cohort: den,
            ..
        } = pool;
        let computed = pool.value();
        let computed_rounded = computed.map(|c| number::round(c, dps));
        let published = la_row.value;
        let difference = match (computed_rounded, published) {
            (Some(c), Some(p)) => Some(number::round(c - p, dps + 2)),
            _ => None,
        };
        let half_unit = 0.5 * 10f64.powi(-(dps as i32));
        #[allow(clippy::redundant_guards)] // a float compared by value, not as a pattern
        let explanation = match (computed, published, difference) {
            (Some(c), Some(p), Some(d)) if d == 0.0 && (c - p).abs() < 1e-9 => "exact",
            (Some(_), Some(_), Some(d)) if d == 0.0 => {
                "rounding: the published figure is the rebuilt one, rounded \
                half away from zero"
            }
            (Some(_), Some(_), Some(_)) if withheld > 0 => {
                "suppression: withheld school figures cannot be included"
            }
            (Some(c), Some(p), Some(_))
                if (c - p).abs() <= half_unit * 2.0 && la_row.version != "unknown" =>
            {
                "revision \
                or rounding of school figures"
            }
            (Some(_), Some(_), Some(_)) => {
                "complementary suppression or unpublished pupils: school figures do not \
                cover the whole LA cohort"
            }
            (None, _, _) => "no school figures to rebuild from",
            (_, None, _) => "no published LA figure",
            _ => "unexplained",
        }
        .to_string();
        Some(Reconciliation {
            code: la_code.to_string(),
            name: data.name(la_code),
            measure: la_row.measure.clone(),
            group: la_row.group.clone(),
            year,
            phase: la_row.phase.clone(),
            computed: number::round_opt(computed, number::FREE_DPS),
            computed_rounded,
            published,
            difference,
            schools: schools.len(),
            schools_withheld: withheld,
            cohort_included: den,
            cohort_withheld,
            cohort_published: la_row.cohort,
            explanation,
            source_file: file.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::Pool;

    #[test]
    fn pools_weight_by_cohort_and_count_withheld_schools() {
        // 60% of 30 pupils and 80% of 10: 26 of 40 pupils, 65% (the mean of the percentages is 70).
        let mut p = Pool::new(false);
        assert!(p.add(Some(60.0), Some(30.0)));
        assert!(p.add(Some(80.0), Some(10.0)));
        assert!(!p.add(None, Some(4.0)), "a withheld figure is not a zero");
        assert!(!p.add(Some(50.0), None), "no cohort, no weight");
        assert_eq!(
            (
                p.value(),
                p.cohort,
                p.included,
                p.withheld,
                p.cohort_withheld
            ),
            (Some(65.0), 40.0, 2, 2, 4.0)
        );
        let mut counts = Pool::new(true);
        counts.add(Some(120.0), None);
        counts.add(Some(80.0), None);
        assert_eq!(counts.value(), Some(200.0));
        assert_eq!(Pool::new(false).value(), None);
    }
}
