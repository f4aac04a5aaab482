//! Partnerships and clusters: groups of schools an LA works with, given by a CSV map
//! (`urn,partnership`, one school a line). Figures are rebuilt from pupil counts: each
//! school's numerator is value x cohort / 100 (for a percentage; value x cohort for an
//! average), summed over the partnership and divided by the summed cohorts. Percentages
//! are never averaged. A school whose figure is withheld (SUPP, NE, LOWCOV ...) or has no
//! cohort is counted as excluded and listed, never treated as zero.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

use super::aggregate::Pool;
use super::data::Data;
use crate::error::IngestError;
use crate::number;
use crate::store::schema::Level;

/// URN -> partnership, in file order of partnerships.
#[derive(Debug, Clone, Default)]
pub struct PartnershipMap {
    pub schools: BTreeMap<String, String>,
    pub order: Vec<String>,
}

pub fn read_map(path: &Path) -> Result<PartnershipMap, IngestError> {
    let mut rdr = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(false)
        .from_path(path)
        .map_err(|e| IngestError::at_file(path, e.to_string()))?;
    let headers: Vec<String> = rdr
        .headers()
        .map_err(|e| IngestError::at_file(path, e.to_string()))?
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').to_ascii_lowercase())
        .collect();
    let col = |name: &str| {
        headers.iter().position(|h| h == name).ok_or_else(|| {
            IngestError::at(
                path,
                1,
                Some(name),
                format!(
                    "the map needs a header row with columns urn,partnership (found {})",
                    headers.join(",")
                ),
            )
        })
    };
    let (u, p) = (col("urn")?, col("partnership")?);
    let mut map = PartnershipMap::default();
    for (i, rec) in rdr.records().enumerate() {
        let line = i as u64 + 2;
        let rec = rec.map_err(|e| IngestError::at(path, line, None, e.to_string()))?;
        let urn = rec.get(u).unwrap_or("").to_string();
        let name = rec.get(p).unwrap_or("").to_string();
        if urn.is_empty() || !urn.chars().all(|c| c.is_ascii_digit()) {
            return Err(IngestError::at(
                path,
                line,
                Some("urn"),
                format!("{urn:?} is not a URN"),
            ));
        }
        if name.is_empty() {
            return Err(IngestError::at(
                path,
                line,
                Some("partnership"),
                "empty partnership name".into(),
            ));
        }
        if let Some(prev) = map.schools.insert(urn.clone(), name.clone()) {
            return Err(IngestError::at(
                path,
                line,
                Some("urn"),
                format!(
                    "URN {urn} is already in partnership \
                {prev:?}: a school belongs to one partnership"
                ),
            ));
        }
        if !map.order.contains(&name) {
            map.order.push(name);
        }
    }
    if map.schools.is_empty() {
        return Err(IngestError::at_file(path, "the map lists no schools"));
    }
    Ok(map)
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PartnershipRow {
    pub partnership: String,
    pub measure: String,
    pub year: i32,
    /// Schools in the map for this partnership.
    pub schools: usize,
    /// Schools whose figure and cohort are published: the ones counted.
    pub schools_included: usize,
    /// Schools with a row but a withheld figure (SUPP, NE ...) or no cohort.
    pub schools_excluded: usize,
    /// Schools with no row for the measure and year (e.g. no pupils at that key stage).
    pub schools_without_results: usize,
    pub excluded: Vec<String>,
    pub cohort: f64,
    pub numerator: f64,
    pub value: Option<f64>,
}

/// One row per partnership (in map order) and a last row for every mapped school together.
pub fn summarise(
    data: &Data,
    map: &PartnershipMap,
    measure: &str,
    year: i32,
) -> anyhow::Result<Vec<PartnershipRow>> {
    let m = data.catalogue.measure(measure);
    let scale = if m.map(|m| m.unit == "percent").unwrap_or(true) {
        100.0
    } else {
        1.0
    };
    let dps = m.map(|m| m.dps).unwrap_or(1).max(1);
    let rows = data.best(measure, "all", year, Level::School, None)?;
    let mut out = Vec::new();
    let names: Vec<Option<&String>> = map
        .order
        .iter()
        .map(Some)
        .chain(std::iter::once(None))
        .collect();
    for name in names {
        let mut r = PartnershipRow {
            partnership: name.cloned().unwrap_or_else(|| "All mapped schools".into()),
            measure: measure.into(),
            year,
            schools: 0,
            schools_included: 0,
            schools_excluded: 0,
            schools_without_results: 0,
            excluded: vec![],
            cohort: 0.0,
            numerator: 0.0,
            value: None,
        };
        let mut pool = Pool::new(false);
        for (urn, p) in &map.schools {
            if name.is_some_and(|n| n != p) {
                continue;
            }
            r.schools += 1;
            match rows.get(urn) {
                None => r.schools_without_results += 1,
                Some(rec) => {
                    if !pool.add(rec.value, rec.cohort) {
                        r.excluded.push(format!(
                            "{urn} ({})",
                            if rec.value.is_none() {
                                rec.status.as_str()
                            } else {
                                "no cohort"
                            }
                        ));
                    }
                }
            }
        }
        (r.schools_included, r.schools_excluded, r.cohort) =
            (pool.included, pool.withheld, pool.cohort);
        r.value = pool.value().map(|v| number::round(v, dps));
        // Pupils meeting the measure (percentages), or total points (averages).
        r.numerator = number::round(pool.weighted / scale, 2);
        out.push(r);
    }
    Ok(out)
}

/// A starting map for an LA: its schools with results for `measure` in `year`, by URN,
/// in `groups` consecutive blocks named "Partnership A", "Partnership B" ... Deterministic.
pub fn starter_map(
    data: &Data,
    la: &str,
    measure: &str,
    year: i32,
    groups: usize,
) -> anyhow::Result<String> {
    let rows = data.best(measure, "all", year, Level::School, None)?;
    let mut urns: Vec<&String> = rows
        .iter()
        .filter(|(_, r)| r.la_code.as_deref() == Some(la))
        .map(|(u, _)| u)
        .collect();
    urns.sort_by_key(|u| (u.len(), u.to_string()));
    anyhow::ensure!(
        !urns.is_empty(),
        crate::error::ConfigError::new(
            "--la",
            format!("LA {la} has no schools with {measure} results in {year}")
        )
    );
    let groups = groups.clamp(1, 26);
    let per = urns.len().div_ceil(groups);
    let mut s = String::from("urn,partnership\n");
    for (i, u) in urns.iter().enumerate() {
        s.push_str(&format!(
            "{u},Partnership {}\n",
            (b'A' + (i / per) as u8) as char
        ));
    }
    Ok(s)
}
