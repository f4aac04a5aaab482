//! Is a difference real, or within what chance alone would give?
//!
//! * A school's (or LA's) percentage against national: Wilson score interval for the
//!   proportion; "significantly above" if the whole interval is above the national figure.
//! * A gap between two groups' percentages: Newcombe's hybrid score interval (method 10)
//!   for the difference of two independent proportions; significant if it excludes zero.
//! * Progress scores: their published confidence interval against 0 (the national average).
//!
//! All at 95% (z = 1.959964).

use serde::Serialize;

pub const Z95: f64 = 1.959_963_984_540_054;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Significance {
    #[serde(rename = "significantly above")]
    Above,
    #[serde(rename = "significantly below")]
    Below,
    #[serde(rename = "not significantly different")]
    NotDifferent,
    #[serde(rename = "not assessed")]
    NotAssessed,
}

impl Significance {
    pub fn label(self) -> &'static str {
        match self {
            Significance::Above => "significantly above",
            Significance::Below => "significantly below",
            Significance::NotDifferent => "not significantly different",
            Significance::NotAssessed => "not assessed",
        }
    }
}

/// Wilson score interval for `successes` out of `n`, as proportions 0..1.
pub fn wilson(successes: f64, n: f64) -> Option<(f64, f64)> {
    if n <= 0.0 || successes < 0.0 || successes > n {
        return None;
    }
    let p = successes / n;
    let z2 = Z95 * Z95;
    let denom = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denom;
    let half = Z95 * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / denom;
    Some(((centre - half).max(0.0), (centre + half).min(1.0)))
}

/// A percentage (0-100) of a cohort against a reference percentage.
pub fn percent_vs_reference(
    pct: f64,
    cohort: f64,
    reference: f64,
) -> (Significance, Option<(f64, f64)>) {
    match wilson(pct / 100.0 * cohort, cohort) {
        Some((lo, hi)) => {
            let (lo, hi) = (lo * 100.0, hi * 100.0);
            let s = if lo > reference {
                Significance::Above
            } else if hi < reference {
                Significance::Below
            } else {
                Significance::NotDifferent
            };
            (s, Some((lo, hi)))
        }
        None => (Significance::NotAssessed, None),
    }
}

/// Newcombe (1998) method 10 interval for p1 - p2, in percentage points.
pub fn newcombe(p1_pct: f64, n1: f64, p2_pct: f64, n2: f64) -> Option<(f64, f64)> {
    let (l1, u1) = wilson(p1_pct / 100.0 * n1, n1)?;
    let (l2, u2) = wilson(p2_pct / 100.0 * n2, n2)?;
    let (p1, p2) = (p1_pct / 100.0, p2_pct / 100.0);
    let d = p1 - p2;
    let lower = d - ((p1 - l1).powi(2) + (u2 - p2).powi(2)).sqrt();
    let upper = d + ((u1 - p1).powi(2) + (p2 - l2).powi(2)).sqrt();
    Some((lower * 100.0, upper * 100.0))
}

/// A gap (group minus comparison) judged by its interval.
pub fn gap_significance(interval: Option<(f64, f64)>) -> Significance {
    match interval {
        Some((lo, _)) if lo > 0.0 => Significance::Above,
        Some((_, hi)) if hi < 0.0 => Significance::Below,
        Some(_) => Significance::NotDifferent,
        None => Significance::NotAssessed,
    }
}

/// A progress score with its published confidence interval, against 0.
pub fn progress_significance(ci_low: Option<f64>, ci_high: Option<f64>) -> Significance {
    match (ci_low, ci_high) {
        (Some(lo), Some(_)) if lo > 0.0 => Significance::Above,
        (Some(_), Some(hi)) if hi < 0.0 => Significance::Below,
        (Some(_), Some(_)) => Significance::NotDifferent,
        _ => Significance::NotAssessed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wilson_matches_the_textbook_example() {
        // Newcombe (1998) Table I: 81/263 -> 0.2553 to 0.3662
        let (lo, hi) = wilson(81.0, 263.0).unwrap();
        assert!(
            (lo - 0.2553).abs() < 1e-4 && (hi - 0.3662).abs() < 1e-4,
            "{lo} {hi}"
        );
        // 15/148 -> 0.0624 to 0.1605 (Newcombe 1998, Table I, method 3)
        let (lo, hi) = wilson(15.0, 148.0).unwrap();
        assert!(
            (lo - 0.0624).abs() < 1e-4 && (hi - 0.1605).abs() < 1e-4,
            "{lo} {hi}"
        );
    }

    #[test]
    fn newcombe_matches_the_paper() {
        // Newcombe (1998) Table II example (c): 56/70 - 48/80 = 0.2, method 10 interval 0.0524 to 0.3339
        let (lo, hi) = newcombe(80.0, 70.0, 60.0, 80.0).unwrap();
        assert!(
            (lo - 5.24).abs() < 0.01 && (hi - 33.39).abs() < 0.01,
            "{lo} {hi}"
        );
        assert_eq!(gap_significance(Some((lo, hi))), Significance::Above);
    }

    #[test]
    fn progress_uses_its_interval() {
        assert_eq!(
            progress_significance(Some(0.1), Some(0.5)),
            Significance::Above
        );
        assert_eq!(
            progress_significance(Some(-0.5), Some(0.1)),
            Significance::NotDifferent
        );
        assert_eq!(
            progress_significance(Some(-0.9), Some(-0.2)),
            Significance::Below
        );
        assert_eq!(
            progress_significance(None, Some(-0.2)),
            Significance::NotAssessed
        );
    }
}
