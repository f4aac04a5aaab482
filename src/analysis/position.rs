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
    if all.is_empty() {
        return None;
    }
    let worse = all.iter().filter(|&&o| polarity.better(value, o)).count() as f64;
    let same = all.iter().filter(|&&o| o == value).count() as f64;
    let percentile = 100.0 * (worse + 0.5 * same) / all.len() as f64;
    let quintile = (5.0 - (percentile / 20.0).floor()).clamp(1.0, 5.0) as u8;
    Some(Position {
        percentile: (percentile * 10.0).round() / 10.0,
        quintile,
        of: all.len(),
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
    }
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
    let all: Vec<f64> = rows.values().filter_map(|r| r.value).collect();
    let mut sorted = all.clone();
    sorted.sort_by(|a, b| a.total_cmp(b));
    Ok(rows
        .into_iter()
        .filter_map(|(urn, r)| {
            let v = r.value?;
            // Binary search on the sorted values keeps this linear-logarithmic for 20,000 schools.
            let below = sorted.partition_point(|x| *x < v) as f64;
            let same = (sorted.partition_point(|x| *x <= v) as f64) - below;
            let worse = match polarity {
                Polarity::High => below,
                Polarity::Low => sorted.len() as f64 - below - same,
            };
            let pct = 100.0 * (worse + 0.5 * same) / sorted.len() as f64;
            let quintile = (5.0 - (pct / 20.0).floor()).clamp(1.0, 5.0) as u8;
            Some((
                urn,
                v,
                Position {
                    percentile: (pct * 10.0).round() / 10.0,
                    quintile,
                    of: sorted.len(),
                },
            ))
        })
        .collect())
}
