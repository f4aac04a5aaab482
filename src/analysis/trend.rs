//! Trends over three or more years, with every break in the series marked.

use serde::Serialize;

use super::series_breaks::{BoundaryKind, SeriesOf};
use crate::catalogue::Catalogue;
use crate::number;
use crate::year::academic_label;

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
    /// Change from the first to the last comparable value in the window (None if < 2 values):
    /// never across a break after which figures do not compare (`series_breaks`).
    pub change: Option<f64>,
    /// "improving", "declining", "no change" (polarity-aware), "rising"/"falling" (no
    /// polarity), "not comparable" (the latest figure follows a break and nothing after the
    /// break compares with it), or "not enough data".
    pub direction: String,
    /// The first year of the comparison behind `change` (None without one).
    pub since: Option<i32>,
    /// The break the comparison starts after, when one cut the window short.
    pub since_break: Option<String>,
    /// `direction` in words, saying where a break cut the comparison short.
    pub summary: String,
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
    let series = SeriesOf::new(cat, measure, group, level);
    let high_good = cat.measure(measure).and_then(|m| m.high_is_good());
    let dps = number::dps_of(cat.measure(measure));
    let mut points = Vec::new();
    for &y in years {
        let found = values.iter().find(|(yy, _, _)| *yy == y);
        let v = found.and_then(|(_, v, _)| *v);
        let mut notes: Vec<String> = cat
            .breaks_for_group(measure, group, y, Some(level))
            .iter()
            .map(|b| b.note.clone())
            .collect();
        let boundary = series.boundary_at(y);
        // The year after a standalone break says why it starts afresh.
        if let Some(b) = &boundary {
            if !notes.contains(&b.note) && b.kind == BoundaryKind::NotComparable {
                notes.push(b.note.clone());
            }
        }
        let comparable = boundary.is_none_or(|b| b.kind != BoundaryKind::NotComparable);
        let status = found.and_then(|(_, _, s)| s.as_deref());
        let reason = if v.is_some() {
            None
        } else {
            super::unpublished::reason(cat, measure, group, y, level, status)
        };
        points.push(TrendPoint {
            year: y,
            value: v,
            break_note: (!notes.is_empty()).then(|| notes.join("; ")),
            comparable,
            reason,
            source: None,
        });
    }
    let valued: Vec<(i32, f64)> = points
        .iter()
        .filter_map(|p| p.value.map(|v| (p.year, v)))
        .collect();
    // Compare the latest figure with the earliest one that still compares with it.
    let comparison = valued.last().and_then(|&(last_year, last)| {
        let &(first_year, first) = valued
            .iter()
            .find(|(y, _)| series.comparable(*y, last_year))?;
        (first_year < last_year).then_some((first_year, first, last_year, last))
    });
    let change = comparison.map(|(_, first, _, last)| number::difference(last, first, dps));
    // The break that cut the comparison short (the last one before the latest figure).
    let cut = valued.last().and_then(|&(last_year, _)| {
        series
            .boundaries_between(valued[0].0, last_year)
            .into_iter()
            .rfind(|b| b.kind == BoundaryKind::NotComparable)
    });
    let direction = match (change, high_good) {
        (None, _) if cut.is_some() => "not comparable".to_string(),
        (None, _) => "not enough data".to_string(),
        (Some(c), _) if c.abs() < 1e-9 => "no change".to_string(),
        (Some(c), Some(true)) => if c > 0.0 { "improving" } else { "declining" }.to_string(),
        (Some(c), Some(false)) => if c < 0.0 { "improving" } else { "declining" }.to_string(),
        (Some(c), None) => if c > 0.0 { "rising" } else { "falling" }.to_string(),
    };
    let since = comparison.map(|(first_year, ..)| first_year);
    let summary = match (&cut, comparison) {
        (Some(b), Some((first_year, ..))) => format!(
            "{direction} since {} (the series restarts in {}, not compared with earlier years: {})",
            academic_label(first_year),
            academic_label(b.year),
            b.note
        ),
        (Some(b), None) => format!(
            "not comparable: the series restarts in {} ({}) and has no later figure to compare with",
            academic_label(b.year),
            b.note
        ),
        (None, Some((first_year, ..))) => {
            format!("{direction} since {}", academic_label(first_year))
        }
        (None, None) => direction.clone(),
    };
    Trend {
        points,
        change,
        direction,
        since,
        since_break: cut.map(|b| b.note),
        summary,
    }
}

/// A gap's trend: narrowing (closer to zero) or widening, and by how much (at the measure's
/// `dps`), from the earliest gap that compares with the latest one (never across a break in
/// `series`: the gap's measure, pupil group and level).
pub fn gap_trend(
    series: &SeriesOf,
    gaps: &[(i32, Option<f64>)],
    dps: u32,
) -> (String, Option<f64>) {
    let v: Vec<(i32, f64)> = gaps
        .iter()
        .filter_map(|(y, g)| g.map(|g| (*y, g)))
        .collect();
    let Some(&(last_year, last)) = v.last() else {
        return ("not enough data".into(), None);
    };
    let Some(&(first_year, first)) = v.iter().find(|(y, _)| series.comparable(*y, last_year))
    else {
        return ("not enough data".into(), None);
    };
    if first_year == last_year {
        let label = if v.len() > 1 {
            "not comparable with earlier years (series break)"
        } else {
            "not enough data"
        };
        return (label.into(), None);
    }
    let change = number::round(last.abs() - first.abs(), dps);
    let by = number::format(change.abs(), dps, "", number::Style::Plain);
    let label = if change == 0.0 {
        "no change".to_string()
    } else if change < 0.0 {
        format!("narrowing by {by} since {first_year}")
    } else {
        format!("widening by {by} since {first_year}")
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
    fn changes_never_span_a_break() {
        let cat = Catalogue::builtin();
        // KS4 Attainment 8: 2019 exams, 2020/2021 teacher-assessed grades, 2022 exams.
        let t = trend(
            &cat,
            "ks4_attainment8",
            &[2019, 2020, 2021, 2022],
            &[
                (2019, Some(47.0)),
                (2020, Some(50.0)),
                (2021, Some(51.0)),
                (2022, Some(49.0)),
            ],
        );
        let flags: Vec<bool> = t.points.iter().map(|p| p.comparable).collect();
        assert_eq!(flags, [true, false, false, false]);
        assert!(t.points[3]
            .break_note
            .as_deref()
            .unwrap()
            .contains("teacher"));
        assert_eq!((t.change, t.direction.as_str()), (None, "not comparable"));
        assert!(t.summary.starts_with("not comparable"), "{}", t.summary);
        // Across the 2017 GCSE reform: compared from 2017 only.
        let t = trend(
            &cat,
            "ks4_em_grade4",
            &[2016, 2017, 2018, 2019],
            &[
                (2016, Some(63.0)),
                (2017, Some(64.0)),
                (2018, Some(65.0)),
                (2019, Some(66.0)),
            ],
        );
        assert_eq!((t.change, t.since), (Some(2.0), Some(2017)));
        assert!(
            t.summary
                .starts_with("improving since 2016/17 (the series restarts in 2016/17,"),
            "{}",
            t.summary
        );
    }

    #[test]
    fn gap_trends() {
        let cat = Catalogue::builtin();
        let ks2 = SeriesOf::new(&cat, "ks2_rwm_expected", "disadvantaged", "la");
        assert_eq!(
            gap_trend(
                &ks2,
                &[(2017, Some(-20.0)), (2018, None), (2019, Some(-18.0))],
                1
            )
            .0,
            "narrowing by 2.0 since 2017"
        );
        assert_eq!(
            gap_trend(&ks2, &[(2017, Some(-10.0)), (2019, Some(-13.5))], 1).0,
            "widening by 3.5 since 2017"
        );
        assert_eq!(
            gap_trend(&ks2, &[(2019, Some(-10.0))], 1).0,
            "not enough data"
        );
        // A gap is never compared across the 2015/16 framework or teacher-assessed grades.
        assert_eq!(
            gap_trend(
                &ks2,
                &[
                    (2015, Some(-15.0)),
                    (2016, Some(-20.0)),
                    (2017, Some(-21.0))
                ],
                1
            ),
            ("widening by 1.0 since 2016".to_string(), Some(1.0))
        );
        let ks4 = SeriesOf::new(&cat, "ks4_attainment8", "disadvantaged", "la");
        assert_eq!(
            gap_trend(
                &ks4,
                &[
                    (2019, Some(-13.0)),
                    (2021, Some(-12.0)),
                    (2022, Some(-14.0))
                ],
                1
            ),
            (
                "not comparable with earlier years (series break)".to_string(),
                None
            )
        );
    }
}
