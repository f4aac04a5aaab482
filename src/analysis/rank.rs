//! Ranking LAs the way DfE's Local Authority Interactive Tool does.
//!
//! * Rank: 1 is best (polarity from the catalogue); ties share the best rank
//!   (1, 2, 2, 4); an LA with no value has no rank; the denominator is the number ranked.
//! * Quartile band A-D, as LAIT's `calculate_quartile_band`: cut-points are R's default
//!   (type-7, linear interpolation) quantiles over all LAs with values. The quarters are
//!   [min, Q1], (Q1, Q2], (Q2, Q3], (Q3, max], so a value on a cut-point falls in the
//!   lower quarter whatever the polarity. High is good: A above Q3, B above Q2, C above Q1,
//!   else D. Low is good: A at or below Q1, B at or below Q2, C at or below Q3, else D.
//! * Top 10%: by default rank <= floor(0.1 x LAs ranked); the threshold is the value of
//!   the last LA inside that cut, and the distance is how far the LA is from it (positive
//!   = short of it, in the measure's units). Configurable to a percentile rule.

use serde::Serialize;

/// Higher values better, or lower.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Polarity {
    High,
    Low,
}

impl Polarity {
    pub fn from_catalogue(p: &str) -> Option<Polarity> {
        match p {
            "high" => Some(Polarity::High),
            "low" => Some(Polarity::Low),
            _ => None,
        }
    }
    /// Is `a` strictly better than `b`?
    pub fn better(self, a: f64, b: f64) -> bool {
        match self {
            Polarity::High => a > b,
            Polarity::Low => a < b,
        }
    }
}

/// How the top-10% position is decided.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Default)]
pub enum Top10Rule {
    /// rank <= floor(0.1 x n): the default, as LAIT.
    #[default]
    RankCut,
    /// value at or better than the given percentile of all values (e.g. 90 for high-is-good).
    Percentile(f64),
}

/// Type-7 quantile of sorted values (p in 0..=1).
pub fn quantile7(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let h = (sorted.len() - 1) as f64 * p;
    let lo = h.floor() as usize;
    let hi = h.ceil() as usize;
    Some(sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo]))
}

/// Competition ranks ("1224"): rank = 1 + number of strictly better values.
pub fn ranks(values: &[Option<f64>], polarity: Polarity) -> Vec<Option<usize>> {
    let present: Vec<f64> = values.iter().flatten().copied().collect();
    values
        .iter()
        .map(|v| v.map(|x| 1 + present.iter().filter(|&&o| polarity.better(o, x)).count()))
        .collect()
}

/// Quartile band of `value` among `sorted` (all values, ascending).
pub fn quartile_band(value: f64, sorted: &[f64], polarity: Polarity) -> Option<char> {
    let q1 = quantile7(sorted, 0.25)?;
    let q2 = quantile7(sorted, 0.5)?;
    let q3 = quantile7(sorted, 0.75)?;
    Some(match polarity {
        Polarity::High => {
            if value > q3 {
                'A'
            } else if value > q2 {
                'B'
            } else if value > q1 {
                'C'
            } else {
                'D'
            }
        }
        Polarity::Low => {
            if value <= q1 {
                'A'
            } else if value <= q2 {
                'B'
            } else if value <= q3 {
                'C'
            } else {
                'D'
            }
        }
    })
}

/// One LA's standing.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Standing {
    pub rank: Option<usize>,
    pub of: usize,
    pub quartile: Option<char>,
    pub top10: Option<bool>,
    pub top10_threshold: Option<f64>,
    /// Threshold minus value, signed so that positive means short of the threshold
    /// (for low-is-good measures: value minus threshold). Zero or negative when inside.
    pub distance_to_top10: Option<f64>,
}

/// Rank every value. `values[i]` is None for an LA with no value.
pub fn standings(values: &[Option<f64>], polarity: Polarity, rule: Top10Rule) -> Vec<Standing> {
    let r = ranks(values, polarity);
    let mut sorted: Vec<f64> = values.iter().flatten().copied().collect();
    sorted.sort_by(|a, b| a.total_cmp(b));
    let n = sorted.len();
    let threshold = top10_threshold(&sorted, polarity, rule);
    values
        .iter()
        .zip(r)
        .map(|(v, rank)| {
            let (top10, distance) = match (v, threshold) {
                (Some(x), Some(t)) => {
                    let d = match polarity {
                        Polarity::High => t - x,
                        Polarity::Low => x - t,
                    };
                    let inside = match rule {
                        Top10Rule::RankCut => rank.map(|k| k <= n / 10).unwrap_or(false),
                        Top10Rule::Percentile(_) => d <= 0.0,
                    };
                    (Some(inside), Some(d))
                }
                _ => (None, None),
            };
            Standing {
                rank,
                of: n,
                quartile: v.and_then(|x| quartile_band(x, &sorted, polarity)),
                top10,
                top10_threshold: threshold,
                distance_to_top10: distance,
            }
        })
        .collect()
}

/// The value an LA must reach to be in the top 10%.
pub fn top10_threshold(sorted_asc: &[f64], polarity: Polarity, rule: Top10Rule) -> Option<f64> {
    let n = sorted_asc.len();
    match rule {
        Top10Rule::RankCut => {
            let k = n / 10;
            if k == 0 {
                return None;
            }
            // The k-th best value.
            Some(match polarity {
                Polarity::High => sorted_asc[n - k],
                Polarity::Low => sorted_asc[k - 1],
            })
        }
        Top10Rule::Percentile(p) => {
            let p = p / 100.0;
            quantile7(
                sorted_asc,
                match polarity {
                    Polarity::High => p,
                    Polarity::Low => 1.0 - p,
                },
            )
        }
    }
}

/// An LA among itself and its statistical neighbours.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NeighbourStanding {
    pub sn_rank: Option<usize>,
    /// The LA and its neighbours with values.
    pub sn_of: usize,
    /// Mean of the neighbours with values (the LA itself excluded).
    pub sn_average: Option<f64>,
    /// The neighbours' top-quartile value (type-7 Q3 where high is good, Q1 where low is good).
    pub sn_top_quartile: Option<f64>,
    pub sn_with_values: usize,
}

pub fn neighbour_standing(
    own: Option<f64>,
    neighbours: &[Option<f64>],
    polarity: Polarity,
) -> NeighbourStanding {
    let mut nv: Vec<f64> = neighbours.iter().flatten().copied().collect();
    nv.sort_by(|a, b| a.total_cmp(b));
    let sn_average = (!nv.is_empty()).then(|| nv.iter().sum::<f64>() / nv.len() as f64);
    let sn_top_quartile = quantile7(
        &nv,
        match polarity {
            Polarity::High => 0.75,
            Polarity::Low => 0.25,
        },
    );
    let mut group: Vec<Option<f64>> = vec![own];
    group.extend_from_slice(neighbours);
    let r = ranks(&group, polarity);
    NeighbourStanding {
        sn_rank: r[0],
        sn_of: group.iter().flatten().count(),
        sn_average,
        sn_top_quartile,
        sn_with_values: nv.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn ties_share_the_best_rank_and_missing_values_are_unranked() {
        let v = [Some(10.0), Some(8.0), Some(8.0), Some(5.0), None];
        assert_eq!(
            ranks(&v, Polarity::High),
            vec![Some(1), Some(2), Some(2), Some(4), None]
        );
        assert_eq!(
            ranks(&v, Polarity::Low),
            vec![Some(4), Some(2), Some(2), Some(1), None]
        );
        let s = standings(&v, Polarity::High, Top10Rule::RankCut);
        assert_eq!(s[0].of, 4);
        assert_eq!(s[4].rank, None);
        assert_eq!(s[4].quartile, None);
    }

    #[test]
    fn type7_quantiles() {
        let v = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(quantile7(&v, 0.25), Some(1.75));
        assert_eq!(quantile7(&v, 0.5), Some(2.5));
        assert_eq!(quantile7(&v, 0.75), Some(3.25));
    }

    #[test]
    fn a_value_on_a_cut_point_falls_in_the_lower_quarter_as_lait() {
        // 1..=9: type-7 Q1 = 3, Q2 = 5, Q3 = 7, each a value itself.
        let v: Vec<f64> = (1..=9).map(f64::from).collect();
        let band = |x: f64, p| quartile_band(x, &v, p).unwrap();
        // Low is good: [min, Q1] is A, (Q1, Q2] B, (Q2, Q3] C, (Q3, max] D.
        assert_eq!(band(3.0, Polarity::Low), 'A');
        assert_eq!(band(4.0, Polarity::Low), 'B');
        assert_eq!(band(5.0, Polarity::Low), 'B');
        assert_eq!(band(7.0, Polarity::Low), 'C');
        assert_eq!(band(8.0, Polarity::Low), 'D');
        // High is good: the same quarters, lettered the other way.
        assert_eq!(band(3.0, Polarity::High), 'D');
        assert_eq!(band(5.0, Polarity::High), 'C');
        assert_eq!(band(7.0, Polarity::High), 'B');
        assert_eq!(band(8.0, Polarity::High), 'A');
        // Interpolated cut-points (1..=4: Q1 1.75, Q3 3.25) leave no value on them.
        let w = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(quartile_band(2.0, &w, Polarity::Low), Some('B'));
        assert_eq!(quartile_band(1.0, &w, Polarity::Low), Some('A'));
    }

    proptest! {
        #[test]
        fn rank_and_band_behave(
            vals in proptest::collection::vec(proptest::option::of(0u8..20), 1..60),
            high in any::<bool>(),
        ) {
            let values: Vec<Option<f64>> = vals.iter().map(|v| v.map(f64::from)).collect();
            let pol = if high { Polarity::High } else { Polarity::Low };
            let s = standings(&values, pol, Top10Rule::RankCut);
            let n = values.iter().flatten().count();
            for (i, a) in values.iter().enumerate() {
                prop_assert_eq!(s[i].of, n);
                prop_assert_eq!(s[i].rank.is_some(), a.is_some());
                for (j, b) in values.iter().enumerate() {
                    if let (Some(x), Some(y)) = (a, b) {
                        // equal values share rank and band; a better value never ranks or bands worse
                        if x == y {
                            prop_assert_eq!(s[i].rank, s[j].rank);
                            prop_assert_eq!(s[i].quartile, s[j].quartile);
                        }
                        if pol.better(*x, *y) {
                            prop_assert!(s[i].rank < s[j].rank);
                            prop_assert!(s[i].quartile <= s[j].quartile);
                        }
                    }
                }
                if let Some(r) = s[i].rank {
                    prop_assert!(r >= 1 && r <= n);
                    if n >= 10 {
                        prop_assert_eq!(s[i].top10, Some(r <= n / 10));
                    } else {
                        prop_assert_eq!(s[i].top10, None);
                    }
                }
            }
            // Mirroring values mirrors polarity: ranks and top 10% are the same. (Bands are
            // not: a value on a cut-point falls in the lower quarter under either polarity.)
            let mirrored: Vec<Option<f64>> = values.iter().map(|v| v.map(|x| -x)).collect();
            let other = if high { Polarity::Low } else { Polarity::High };
            prop_assert_eq!(ranks(&values, pol), ranks(&mirrored, other));
            let m = standings(&mirrored, other, Top10Rule::RankCut);
            for i in 0..values.len() { prop_assert_eq!(s[i].top10, m[i].top10); }
        }
    }
}
