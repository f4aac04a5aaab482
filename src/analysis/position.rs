//! A school's position nationally: percentile and quintile among all schools with a value.

use serde::Serialize;

use super::rank::Polarity;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Position {
    /// % of schools with a worse value, plus half of those with the same value (0-100, higher is better).
    pub percentile: f64,
    /// 1 = top fifth of schools, 5 = bottom fifth.
    pub quintile: u8,
    pub of: usize,
}

/// Position of `value` among `all` (every school's value, any order).
pub fn position(value: f64, all: &[f64], polarity: Polarity) -> Option<Position> {
    let mut sorted = all.to_vec();
    sorted.sort_by(|a, b| a.total_cmp(b));
    position_sorted(value, &sorted, polarity)
}

/// Every school's national position for a measure, group and year, where national
/// school-level figures are in the store (schools with no value have no position).
pub fn school_positions(
    data: &super::data::Data,
    measure: &str,
    group: &str,
    year: i32,
) -> anyhow::Result<Vec<(String, f64, Position)>> {
    let Some(polarity) = data.polarity(measure)? else {
        return Ok(vec![]);
    };
    let rows = data.best(
        measure,
        group,
        year,
        crate::store::schema::Level::School,
        None,
    )?;
    let mut sorted: Vec<f64> = rows.values().filter_map(|r| r.value).collect();
    sorted.sort_by(|a, b| a.total_cmp(b));
    Ok(rows
        .into_iter()
        .filter_map(|(urn, r)| {
            let v = r.value?;
            Some((urn, v, position_sorted(v, &sorted, polarity)?))
        })
        .collect())
}

/// Position of `value` among `sorted` (ascending): the same as `position`, by binary search,
/// so placing 20,000 schools stays linear-logarithmic.
pub fn position_sorted(value: f64, sorted: &[f64], polarity: Polarity) -> Option<Position> {
    if sorted.is_empty() {
        return None;
    }
    let below = sorted.partition_point(|x| *x < value) as f64;
    let same = (sorted.partition_point(|x| *x <= value) as f64) - below;
    let worse = match polarity {
        Polarity::High => below,
        Polarity::Low => sorted.len() as f64 - below - same,
    };
    let pct = 100.0 * (worse + 0.5 * same) / sorted.len() as f64;
    let quintile = (5.0 - (pct / 20.0).floor()).clamp(1.0, 5.0) as u8;
    Some(Position {
        percentile: (pct * 10.0).round() / 10.0,
        quintile,
        of: sorted.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn percentiles_and_quintiles() {
        let all: Vec<f64> = (1..=100).map(f64::from).collect();
        let top = position(100.0, &all, Polarity::High).unwrap();
        assert_eq!((top.percentile, top.quintile), (99.5, 1));
        let bottom = position(1.0, &all, Polarity::High).unwrap();
        assert_eq!((bottom.percentile, bottom.quintile), (0.5, 5));
        let low_good = position(1.0, &all, Polarity::Low).unwrap();
        assert_eq!(low_good.quintile, 1);
        assert_eq!(position(50.0, &all, Polarity::High).unwrap().quintile, 3);
        let with_ties = [1.0, 2.0, 2.0, 3.0];
        for v in [1.0, 2.0, 3.0] {
            for pol in [Polarity::High, Polarity::Low] {
                assert_eq!(
                    position(v, &with_ties, pol),
                    position_sorted(v, &with_ties, pol)
                );
            }
        }
    }
}
