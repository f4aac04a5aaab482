//! Trends over three or more years, with every break in the series marked.

use serde::Serialize;

use crate::catalogue::Catalogue;
use crate::number;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TrendPoint {
    pub year: i32,
    pub value: Option<f64>,
    /// Why there is no value, or why it does not compare with the year before.
    pub break_note: Option<String>,
    pub comparable: bool,
    /// Why there is no value (None when there is one): the year DfE published none, or the
    /// withheld status (`analysis::unpublished`).
    pub reason: Option<String>,
    /// Whose figure it is when not the school's own: "predecessor school: NAME (URN)",
    /// "prior-year column PTRWM_EXP_18 in the 2019 file" (`analysis::lineage`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Trend {
    pub points: Vec<TrendPoint>,
    /// Change from the first to the last comparable value in the window (None if < 2 values).
    pub change: Option<f64>,
    /// "improving", "declining", "no change" (polarity-aware), or "not enough data".
    pub direction: String,
}

/// The series for `years` (ascending), with breaks from the catalogue.
pub fn trend(
    cat: &Catalogue,
    measure: &str,
    years: &[i32],
    values: &[(i32, Option<f64>)],
) -> Trend {
    let values: Vec<(i32, Option<f64>, Option<String>)> =
        values.iter().map(|(y, v)| (*y, *v, None)).collect();
    trend_of_group(cat, measure, "all", "la", years, &values)
}

/// The series of one pupil group at one level (`school`, `la`, `national`) for `years`
/// (ascending), from (year, value, status), with breaks from the catalogue and, for each
/// missing value, the reason.
pub fn trend_of_group(
    cat: &Catalogue,
    measure: &str,
    group: &str,
    level: &str,
    years: &[i32],
    values: &[(i32, Option<f64>, Option<String>)],
) -> Trend {
    let high_good = cat.measure(measure).and_then(|m| m.high_is_good());
    let dps = number::dps_of(cat.measure(measure));
    let mut points = Vec::new();
    for &y in years {
        let found = values.iter().find(|(yy, _, _)| *yy == y);
        let v = found.and_then(|(_, v, _)| *v);
        let breaks = cat.breaks_for_group(measure, group, y, Some(level));
        let note = (!breaks.is_empty()).then(|| {
            breaks
                .iter()
                .map(|b| b.note.as_str())
                .collect::<Vec<_>>()
                .join("; ")
        });
        let comparable = !breaks.iter().any(|b| b.kind == "not_comparable");
        let status = found.and_then(|(_, _, s)| s.as_deref());
        let reason = if v.is_some() {
            None
        } else {
            super::unpublished::reason(cat, measure, group, y, level, status)
        };
        points.push(TrendPoint {
            year: y,
            value: v,
            break_note: note,
            comparable,
            reason,
            source: None,
        });
    }
    // Compare only within the run after the last "not comparable" break.
    let start = points.iter().rposition(|p| !p.comparable).unwrap_or(0);
    let usable: Vec<(i32, f64)> = points[start..]
        .iter()
        .filter_map(|p| p.value.map(|v| (p.year, v)))
        .collect();
    let change = (usable.len() >= 2)
        .then(|| number::difference(usable[usable.len() - 1].1, usable[0].1, dps));
    let direction = match (change, high_good) {
        (None, _) => "not enough data".to_string(),
        (Some(c), _) if c.abs() < 1e-9 => "no change".to_string(),
        (Some(c), Some(true)) => if c > 0.0 { "improving" } else { "declining" }.to_string(),
        (Some(c), Some(false)) => if c < 0.0 { "improving" } else { "declining" }.to_string(),
        (Some(c), None) => if c > 0.0 { "rising" } else { "falling" }.to_string(),
    };
    Trend {
        points,
        change,
        direction,
    }
}

/// A gap's trend: narrowing (closer to zero) or widening, and by how much, at 1 dp.
pub fn gap_trend(gaps: &[(i32, Option<f64>)]) -> (String, Option<f64>) {
    gap_trend_at(gaps, number::DEFAULT_DPS)
}

/// A gap's trend with the change rounded, and printed, at the measure's `dps`.
pub fn gap_trend_at(gaps: &[(i32, Option<f64>)], dps: u32) -> (String, Option<f64>) {
    let v: Vec<(i32, f64)> = gaps
        .iter()
        .filter_map(|(y, g)| g.map(|g| (*y, g)))
        .collect();
    if v.len() < 2 {
        return ("not enough data".into(), None);
    }
    let (first, last) = (v[0].1, v[v.len() - 1].1);
    let change = number::round(last.abs() - first.abs(), dps);
    let by = number::format(change.abs(), dps, "", number::Style::Plain);
    let label = if change == 0.0 {
        "no change".to_string()
    } else if change < 0.0 {
        format!("narrowing by {by} since {}", v[0].0)
    } else {
        format!("widening by {by} since {}", v[0].0)
    };
    (label, Some(change))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn breaks_are_marked() {
        let cat = Catalogue::builtin();
        let t = trend(
            &cat,
            "ks2_rwm_expected",
            &[2019, 2020, 2021, 2022],
            &[(2019, Some(65.0)), (2022, Some(59.0))],
        );
        assert!(t.points[1].break_note.as_deref().unwrap().contains("COVID"));
        assert_eq!(t.points[1].value, None);
        assert_eq!((t.change, t.direction.as_str()), (Some(-6.0), "declining"));
        let p8 = trend(&cat, "ks4_progress8", &[2024, 2025], &[]);
        assert!(p8.points[1]
            .break_note
            .as_deref()
            .unwrap()
            .contains("Progress 8 not published"));
        let ks1 = trend(&cat, "ks1_read_expected", &[2023, 2024], &[]);
        assert!(ks1.points[1].break_note.is_some());
        let prog = trend(&cat, "ks2_read_progress", &[2023, 2024], &[]);
        assert!(prog.points[1]
            .break_note
            .as_deref()
            .unwrap()
            .contains("progress"));
        assert!(prog.points[1]
            .reason
            .as_deref()
            .unwrap()
            .contains("no KS1 baseline"));
        assert_eq!(
            prog.points[0].reason, None,
            "no break in 2023: nothing to say without a status"
        );
        let withheld = trend_of_group(
            &cat,
            "ks2_rwm_expected",
            "disadvantaged",
            "school",
            &[2023],
            &[(2023, None, Some("SUPP".into()))],
        );
        assert!(withheld.points[0]
            .reason
            .as_deref()
            .unwrap()
            .starts_with("SUPP"));
        let new = trend(
            &cat,
            "ks2_rwm_expected",
            &[2015, 2016, 2017],
            &[(2015, Some(80.0)), (2016, Some(53.0)), (2017, Some(61.0))],
        );
        assert!(!new.points[1].comparable);
        assert_eq!(
            new.change,
            Some(8.0),
            "the trend starts at the 2016 framework change"
        );
        let abs = trend(
            &cat,
            "absence_overall",
            &[2018, 2019],
            &[(2018, Some(4.8)), (2019, Some(4.7))],
        );
        assert_eq!(abs.direction, "improving");
    }

    #[test]
    fn gap_trends() {
        assert_eq!(
            gap_trend(&[(2017, Some(-20.0)), (2018, None), (2019, Some(-18.0))]).0,
            "narrowing by 2.0 since 2017"
        );
        assert_eq!(
            gap_trend(&[(2017, Some(-10.0)), (2019, Some(-13.5))]).0,
            "widening by 3.5 since 2017"
        );
        assert_eq!(gap_trend(&[(2019, Some(-10.0))]).0, "not enough data");
    }
}
