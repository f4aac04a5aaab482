//! Suggested targets for next year.
//!
//! * **Estimate**: a transparent linear model fitted by least squares across every school
//!   in England with figures in both of the last two years:
//!   `next = b0 + b1 * this year + b2 * %FSM6 + b3 * %EAL + b4 * %SEN`.
//!   Its uncertainty is the 95% prediction range `estimate ± 1.96 × residual SD`.
//! * **Ambitious targets**: the figures reached by the best 20% and best 5% of similar
//!   schools (same phase, same fifth of schools by % disadvantaged): type-7 quantiles.
//! * **Distance to an aspiration** (an LA's top-10% threshold, the neighbours' top
//!   quartile): in the measure's units and, for percentages, in pupils.

use std::collections::HashMap;

use serde::Serialize;

use super::rank::{quantile7, Polarity};

/// Number of context terms after the intercept and this year's figure.
pub const TERMS: usize = 5;

/// The fitted next-year model: coefficients for [1, this year, %FSM6, %EAL, %SEN].
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TargetModel {
    pub coef: [f64; TERMS],
    pub residual_sd: f64,
    /// Schools the model was fitted on.
    pub n: usize,
}

impl TargetModel {
    pub fn estimate(&self, x: &[f64; TERMS]) -> f64 {
        (0..TERMS).map(|i| self.coef[i] * x[i]).sum()
    }

    /// 95% prediction range around an estimate.
    pub fn range(&self, estimate: f64) -> (f64, f64) {
        (
            estimate - super::significance::Z95 * self.residual_sd,
            estimate + super::significance::Z95 * self.residual_sd,
        )
    }

    /// The model written out, for the booklet's notes.
    pub fn describe(&self) -> String {
        format!(
            "estimate = {:.2} + {:.3} x this year + {:.3} x %FSM6 + {:.3} x %EAL + {:.3} x %SEN (fitted on {} \
                schools, residual SD {:.2})",
            self.coef[0], self.coef[1], self.coef[2], self.coef[3], self.coef[4], self.n, self.residual_sd
        )
    }
}

/// Gauss-Jordan elimination with partial pivoting on the normal equations.
// Gaussian elimination reads best with the matrix's indices.
#[allow(clippy::needless_range_loop)]
fn solve(mut a: [[f64; TERMS + 1]; TERMS]) -> Option<[f64; TERMS]> {
    for i in 0..TERMS {
        let p = (i..TERMS).max_by(|&x, &y| a[x][i].abs().total_cmp(&a[y][i].abs()))?;
        a.swap(i, p);
        if a[i][i].abs() < 1e-12 {
            return None;
        }
        for r in 0..TERMS {
            if r != i {
                let f = a[r][i] / a[i][i];
                for c in i..=TERMS {
                    a[r][c] -= f * a[i][c];
                }
            }
        }
    }
    Some(std::array::from_fn(|i| a[i][TERMS] / a[i][i]))
}

/// Least-squares fit of `y` on `x` (x[0] = 1 for the intercept). Needs at least 30 schools.
pub fn fit(rows: &[([f64; TERMS], f64)]) -> Option<TargetModel> {
    if rows.len() < 30 {
        return None;
    }
    let mut a = [[0.0; TERMS + 1]; TERMS];
    for (x, y) in rows {
        for i in 0..TERMS {
            for j in 0..TERMS {
                a[i][j] += x[i] * x[j];
            }
            a[i][TERMS] += x[i] * y;
        }
    }
    let coef = solve(a)?;
    let model = TargetModel {
        coef,
        residual_sd: 0.0,
        n: rows.len(),
    };
    let sse: f64 = rows
        .iter()
        .map(|(x, y)| (y - model.estimate(x)).powi(2))
        .sum();
    Some(TargetModel {
        residual_sd: (sse / (rows.len() - TERMS) as f64).sqrt(),
        ..model
    })
}

/// Which fifth (0-4) of the sorted values `v` falls in.
pub fn fifth(sorted: &[f64], v: f64) -> usize {
    ((sorted.partition_point(|x| *x < v) * 5) / sorted.len().max(1)).min(4)
}

/// The best-20% and best-5% figures among similar schools: the 80th and 95th percentiles
/// (20th and 5th where low is good) of each similar-school group's values.
pub fn ambitious<K: std::hash::Hash + Eq>(
    groups: HashMap<K, Vec<f64>>,
    polarity: Polarity,
) -> HashMap<K, (Option<f64>, Option<f64>)> {
    groups
        .into_iter()
        .map(|(k, mut v)| {
            v.sort_by(|a, b| a.total_cmp(b));
            let at = |p: f64| {
                quantile7(
                    &v,
                    match polarity {
                        Polarity::High => p,
                        Polarity::Low => 1.0 - p,
                    },
                )
            };
            (k, (at(0.8), at(0.95)))
        })
        .collect()
}

/// How far `current` is from `target`, signed so that positive means short of it.
pub fn shortfall(current: f64, target: f64, polarity: Polarity) -> f64 {
    match polarity {
        Polarity::High => target - current,
        Polarity::Low => current - target,
    }
}

/// Pupils needed to close a shortfall of `points` percentage points in a cohort: the
/// smallest whole number of pupils whose share is at least that many points.
pub fn pupils_needed(points: f64, cohort: f64) -> i64 {
    if points <= 0.0 || cohort <= 0.0 {
        return 0;
    }
    (points / 100.0 * cohort - 1e-9).ceil() as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn least_squares_recovers_a_known_line() {
        let rows: Vec<([f64; TERMS], f64)> = (0..100)
            .map(|i| {
                let x = i as f64;
                let (a, b, c) = (
                    (i * 7 % 13) as f64,
                    (i * 3 % 11) as f64,
                    (i * 5 % 17) as f64,
                );
                (
                    [1.0, x, a, b, c],
                    2.0 + 0.5 * x - 0.1 * a + 0.2 * b + 0.3 * c,
                )
            })
            .collect();
        let m = fit(&rows).unwrap();
        for (got, want) in m.coef.iter().zip([2.0, 0.5, -0.1, 0.2, 0.3]) {
            assert!((got - want).abs() < 1e-6, "{got} {want}");
        }
        assert!(m.residual_sd < 1e-6);
        assert!(fit(&rows[..29]).is_none(), "too few schools to fit");
    }

    #[test]
    fn pupils_and_shortfalls() {
        // 3 points short in a cohort of 60 pupils: 1.8 pupils, so 2 more pupils.
        assert_eq!(pupils_needed(3.0, 60.0), 2);
        // exactly 5 points of 40 pupils is 2 pupils, not 3 (float noise must not round up)
        assert_eq!(pupils_needed(5.0, 40.0), 2);
        assert_eq!(pupils_needed(-1.0, 40.0), 0);
        assert_eq!(shortfall(60.0, 65.0, Polarity::High), 5.0);
        assert_eq!(shortfall(12.0, 10.0, Polarity::Low), 2.0);
    }

    #[test]
    fn ambitious_targets_are_upper_percentiles() {
        let mut g = HashMap::new();
        g.insert("primary", (1..=101).map(f64::from).collect::<Vec<_>>());
        let high = ambitious(g.clone(), Polarity::High);
        assert_eq!(high["primary"], (Some(81.0), Some(96.0)));
        let low = ambitious(g, Polarity::Low);
        let (b20, b5) = low["primary"];
        assert!(
            (b20.unwrap() - 21.0).abs() < 1e-9 && (b5.unwrap() - 6.0).abs() < 1e-9,
            "{b20:?} {b5:?}"
        );
        assert_eq!(fifth(&[1.0, 2.0, 3.0, 4.0, 5.0], 5.0), 4);
        assert_eq!(fifth(&[1.0, 2.0, 3.0, 4.0, 5.0], 1.0), 0);
    }
}
