//! Where a measure's series breaks (catalogue/breaks.toml), and the one answer every trend,
//! chart, summary and rule fact asks: do the figures of two years compare?
//!
//! Kinds of break:
//! - `no_data`: DfE published nothing that year. Figures either side still compare (DfE
//!   compares 2021/22 KS2 results with 2018/19), but a line is never drawn through the gap.
//! - `not_comparable`: a new series starts that year (the 2015/16 KS2 framework, the 2016/17
//!   GCSE 9-1 grading): it compares with later years, not with earlier ones.
//! - `standalone`: that year's figures compare with no other year, before or after (KS4
//!   centre- and teacher-assessed grades in 2019/20 and 2020/21), so the series also restarts
//!   the year after.

use serde::Serialize;

use crate::catalogue::Catalogue;

/// What happens to a series at the start of a year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BoundaryKind {
    /// Nothing published that year; figures either side still compare.
    NoData,
    /// Figures from this year on do not compare with earlier ones.
    NotComparable,
}

/// A break at the start of `year`: a line never joins a figure before `year` to one from
/// `year` on, and with `NotComparable` no change or direction is computed across it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Boundary {
    pub year: i32,
    pub kind: BoundaryKind,
    pub note: String,
}

/// The series of one measure for one pupil group at one level (`school`, `la`, `national`).
#[derive(Debug, Clone, Copy)]
pub struct SeriesOf<'a> {
    pub cat: &'a Catalogue,
    pub measure: &'a str,
    pub group: &'a str,
    pub level: &'a str,
}

impl<'a> SeriesOf<'a> {
    pub fn new(cat: &'a Catalogue, measure: &'a str, group: &'a str, level: &'a str) -> Self {
        SeriesOf {
            cat,
            measure,
            group,
            level,
        }
    }

    /// The break at the start of `year`, if any.
    pub fn boundary_at(&self, year: i32) -> Option<Boundary> {
        let here = self
            .cat
            .breaks_for_group(self.measure, self.group, year, Some(self.level));
        let before =
            self.cat
                .breaks_for_group(self.measure, self.group, year - 1, Some(self.level));
        // A standalone year ends its own series: the year after starts a new one (unless it
        // is standalone too, which the `here` list already says).
        let restarts: Vec<&str> = here
            .iter()
            .filter(|b| b.kind == "not_comparable" || b.kind == "standalone")
            .chain(before.iter().filter(|b| b.kind == "standalone"))
            .map(|b| b.note.as_str())
            .collect();
        let (kind, notes) = if !restarts.is_empty() {
            (BoundaryKind::NotComparable, restarts)
        } else if !here.is_empty() {
            (
                BoundaryKind::NoData,
                here.iter().map(|b| b.note.as_str()).collect(),
            )
        } else {
            return None;
        };
        let mut unique: Vec<&str> = Vec::new();
        for n in notes {
            if !unique.contains(&n) {
                unique.push(n);
            }
        }
        Some(Boundary {
            year,
            kind,
            note: unique.join("; "),
        })
    }

    /// Every break between the years `a` and `b` (either order): at the start of each year
    /// after the earlier one, up to and including the later one.
    pub fn boundaries_between(&self, a: i32, b: i32) -> Vec<Boundary> {
        let (lo, hi) = (a.min(b), a.max(b));
        (lo + 1..=hi).filter_map(|y| self.boundary_at(y)).collect()
    }

    /// Whether figures of years `a` and `b` compare: no `not_comparable` or `standalone`
    /// break between them. The one test every trend, chart, summary and rule fact uses.
    pub fn comparable(&self, a: i32, b: i32) -> bool {
        !self
            .boundaries_between(a, b)
            .iter()
            .any(|x| x.kind == BoundaryKind::NotComparable)
    }

    /// Whether a line may join the figures of years `a` and `b`: no break of any kind between.
    pub fn joinable(&self, a: i32, b: i32) -> bool {
        self.boundaries_between(a, b).is_empty()
    }

    /// The breaks inside a chart's years (ascending): where lines split and rules are drawn.
    pub fn chart_breaks(&self, years: &[i32]) -> Vec<Boundary> {
        match (years.first(), years.last()) {
            (Some(&a), Some(&b)) => self.boundaries_between(a, b),
            _ => vec![],
        }
    }
}

/// Whether figures of years `a` and `b` compare for `measure` (pupil `group`, `level`).
pub fn comparable(
    cat: &Catalogue,
    measure: &str,
    group: &str,
    level: &str,
    a: i32,
    b: i32,
) -> bool {
    SeriesOf::new(cat, measure, group, level).comparable(a, b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_of_break() {
        let cat = Catalogue::builtin();
        let ks4 = SeriesOf::new(&cat, "ks4_attainment8", "all", "la");
        // Teacher-assessed grades compare with nothing, and 2021/22 starts afresh.
        assert!(!ks4.comparable(2019, 2022));
        assert!(!ks4.comparable(2020, 2021));
        assert!(!ks4.comparable(2021, 2022));
        assert!(ks4.comparable(2022, 2024));
        assert_eq!(
            ks4.boundary_at(2022).map(|b| b.kind),
            Some(BoundaryKind::NotComparable)
        );
        // The 9-1 grading from 2016/17.
        assert!(!ks4.comparable(2016, 2017));
        assert!(ks4.comparable(2017, 2019));
        // KS2: a new framework from 2015/16; no tests in 2019/20 and 2020/21 (no data, but
        // 2021/22 compares with 2018/19, as DfE compares them).
        let ks2 = SeriesOf::new(&cat, "ks2_rwm_expected", "all", "la");
        assert!(!ks2.comparable(2015, 2016));
        assert!(ks2.comparable(2016, 2019));
        assert!(ks2.comparable(2019, 2022));
        assert!(!ks2.joinable(2019, 2022));
        assert!(ks2.joinable(2022, 2023));
        assert_eq!(
            ks2.chart_breaks(&[2018, 2019, 2022])
                .iter()
                .map(|b| (b.year, b.kind))
                .collect::<Vec<_>>(),
            vec![(2020, BoundaryKind::NoData), (2021, BoundaryKind::NoData)]
        );
        // Order of the years does not matter.
        assert!(!comparable(
            &cat,
            "ks4_em_grade4",
            "all",
            "school",
            2017,
            2016
        ));
    }
}
