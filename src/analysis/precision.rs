//! The precision DfE publishes each figure at, and which measures LAIT bands into quartiles.
//!
//! A figure read from LAIT is published at the decimal places of LAIT's data dictionary
//! (stored in the `measures` table as `lait:<Short Desc>`); every other figure at its
//! catalogue measure's `dps`. Ranks, quartile bands, the top-10% cut and neighbour positions
//! are of figures at that precision, so LAs that tie there share a rank.

use std::collections::{HashMap, HashSet};

use super::data::Data;
use crate::error::StoreError;
use crate::ingest::lait::lait_measure_id;
use crate::store::frame::{self, ResultRecord};

/// What LAIT's dictionary says about one of its measures.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct LaitMeta {
    dps: Option<u32>,
    no_quartile: bool,
}

/// Published precision and quartile rules, read once from the catalogue and the store.
#[derive(Debug, Default)]
pub struct PublishedPrecision {
    /// `lait:<Short Desc>` -> dictionary entry.
    lait: HashMap<String, LaitMeta>,
    /// (canonical measure, group) -> the LAIT short description mapped to it.
    lait_codes: HashMap<(String, String), String>,
    /// Datasets read by the LAIT reader: their rows' `source_column` is a LAIT short description.
    lait_datasets: HashSet<String>,
}

impl PublishedPrecision {
    pub fn load(data: &Data) -> Result<PublishedPrecision, StoreError> {
        let mut lait: HashMap<String, LaitMeta> = HashMap::new();
        if data.store.table_path("measures").exists() {
            for (m, dps, no_quartile) in frame::measure_precisions(&data.store.read("measures")?)? {
                // A short description listed under two topics: LAIT shows the larger precision.
                let e = lait.entry(m).or_default();
                let dps = dps.and_then(|d| u32::try_from(d).ok());
                e.dps = e.dps.max(dps);
                e.no_quartile |= no_quartile;
            }
        }
        let mut lait_codes = HashMap::new();
        let mut lait_datasets = HashSet::new();
        for ds in data
            .catalogue
            .datasets
            .iter()
            .filter(|d| d.reader == "lait_long")
        {
            lait_datasets.insert(ds.id.clone());
            for c in &ds.codes {
                lait_codes.insert(
                    (c.measure.clone(), c.group.clone()),
                    c.source.trim().to_string(),
                );
            }
        }
        Ok(PublishedPrecision {
            lait,
            lait_codes,
            lait_datasets,
        })
    }

    /// Decimal places of one stored figure of `measure`: LAIT's for a LAIT row, else the
    /// catalogue's. None where neither says (the value is kept as stored).
    pub fn dps(&self, data: &Data, measure: &str, r: &ResultRecord) -> Option<u32> {
        let from_lait = if self.lait_datasets.contains(&r.dataset) {
            self.lait
                .get(&lait_measure_id(&r.source_column))
                .and_then(|m| m.dps)
        } else {
            None
        };
        from_lait
            .or_else(|| self.lait.get(measure).and_then(|m| m.dps))
            .or_else(|| data.catalogue.measure(measure).map(|m| m.dps))
    }

    /// The figure at its published precision (half away from zero).
    pub fn published(&self, data: &Data, measure: &str, r: &ResultRecord) -> Option<f64> {
        let v = r.value?;
        Some(match self.dps(data, measure, r) {
            Some(d) => crate::number::round(v, d),
            None => v,
        })
    }

    /// LAIT gives this measure and group no quartile band (`No_Quartile` = N), for a `lait:`
    /// measure or the canonical measure and group a LAIT code is mapped to.
    pub fn no_quartile(&self, measure: &str, group: &str) -> bool {
        let meta = |id: &str| self.lait.get(id).is_some_and(|m| m.no_quartile);
        meta(measure)
            || self
                .lait_codes
                .get(&(measure.to_string(), group.to_string()))
                .is_some_and(|short| meta(&lait_measure_id(short)))
    }
}
