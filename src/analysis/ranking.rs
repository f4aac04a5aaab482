//! `attain rank`: every LA's rank, quartile, top-10% position and standing among its
//! statistical neighbours, for one measure and year.

use std::collections::BTreeMap;

use serde::Serialize;

use super::data::Data;
use super::precision::PublishedPrecision;
use super::rank::{neighbour_standing, standings, Polarity, Top10Rule};
use crate::error::{ConfigError, StoreError};
use crate::number;
use crate::store::frame::ResultRecord;
use crate::store::schema::Level;

/// One LA's row in `attain rank` (JSON field names are fixed: other tools read them).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RankRow {
    pub la_code: String,
    pub la_name: String,
    pub measure: String,
    pub group: String,
    pub year: i32,
    pub value: Option<f64>,
    pub status: String,
    pub rank: Option<usize>,
    pub of: usize,
    pub quartile: Option<String>,
    pub top10: Option<bool>,
    pub top10_threshold: Option<f64>,
    pub distance_to_top10: Option<f64>,
    pub sn_model: Option<i32>,
    pub sn_rank: Option<usize>,
    pub sn_of: Option<usize>,
    pub sn_average: Option<f64>,
    pub sn_top_quartile: Option<f64>,
    pub source: String,
    /// The places `value` is published at (LAIT's dictionary, else the catalogue): the
    /// workbook's number format. Not in the JSON.
    #[serde(skip)]
    pub dps: u32,
}

/// LA codes are 3 digits from 201 to 959 (England is 970 and regions 980+ in LAIT).
fn is_la(code: &str) -> bool {
    code.len() == 3
        && code
            .parse::<u32>()
            .map(|c| (200..960).contains(&c))
            .unwrap_or(false)
}

pub struct RankRequest<'r> {
    pub measure: &'r str,
    pub group: &'r str,
    pub year: i32,
    pub neighbours: Option<i32>,
    pub rule: Top10Rule,
}

pub fn rank(data: &Data, req: &RankRequest) -> anyhow::Result<Vec<RankRow>> {
    let polarity = data.polarity(req.measure)?.ok_or_else(|| {
        ConfigError::new(
            "catalogue",
            format!(
                "measure {} has no polarity (high or low): it cannot be ranked",
                req.measure
            ),
        )
    })?;
    let rows: BTreeMap<String, ResultRecord> = data
        .best(req.measure, req.group, req.year, Level::La, None)?
        .into_iter()
        .filter(|(c, _)| is_la(c))
        .collect();
    let neighbours = match req.neighbours {
        Some(m) => Some(data.all_neighbours(m)?),
        None => None,
    };
    let precision = PublishedPrecision::load(data)?;
    Ok(rank_rows(
        data,
        &precision,
        req,
        polarity,
        &rows,
        neighbours.as_ref(),
    ))
}

/// The arithmetic of `rank`, over rows already read.
pub fn rank_rows(
    data: &Data,
    precision: &PublishedPrecision,
    req: &RankRequest,
    polarity: Polarity,
    rows: &BTreeMap<String, ResultRecord>,
    neighbours: Option<&BTreeMap<String, Vec<String>>>,
) -> Vec<RankRow> {
    let codes: Vec<&String> = rows.keys().collect();
    // Ranks are of the published figures, at the precision DfE publishes each one (LAIT's
    // dictionary for LAIT's figures): LAs that tie at that precision share a rank.
    let published: BTreeMap<&str, Option<f64>> = rows
        .iter()
        .map(|(c, r)| (c.as_str(), precision.published(data, req.measure, r)))
        .collect();
    let value_of = |code: &str| published.get(code).copied().flatten();
    let values: Vec<Option<f64>> = codes.iter().map(|c| value_of(c)).collect();
    let st = standings(&values, polarity, req.rule);
    // LAIT bands no quartile for measures whose LAs' range is too narrow (scaled scores).
    let banded = !precision.no_quartile(req.measure, req.group);
    let mut out: Vec<RankRow> = codes
        .iter()
        .zip(rows.values())
        .zip(st)
        .map(|((code, r), s)| {
            // Averages and interpolated quantiles of published figures keep one place more.
            let places = precision
                .dps(data, req.measure, r)
                .unwrap_or(number::DEFAULT_DPS);
            let derived = |v: Option<f64>| number::round_opt(v, places + number::AVERAGE_EXTRA_DPS);
            let (mut sn_rank, mut sn_of, mut sn_average, mut sn_top) = (None, None, None, None);
            if let Some(nmap) = neighbours {
                if let Some(list) = nmap.get(*code) {
                    let nv: Vec<Option<f64>> = list.iter().map(|n| value_of(n)).collect();
                    let ns = neighbour_standing(value_of(code), &nv, polarity);
                    (sn_rank, sn_of, sn_average, sn_top) = (
                        ns.sn_rank,
                        Some(ns.sn_of),
                        derived(ns.sn_average),
                        derived(ns.sn_top_quartile),
                    );
                }
            }
            RankRow {
                la_code: code.to_string(),
                la_name: data.name(code),
                measure: req.measure.to_string(),
                group: req.group.to_string(),
                year: req.year,
                value: value_of(code),
                status: r.status.clone(),
                rank: s.rank,
                of: s.of,
                quartile: s.quartile.filter(|_| banded).map(|c| c.to_string()),
                top10: s.top10,
                // The threshold is a published figure under the rank cut, interpolated
                // under a percentile rule: one place more covers both.
                top10_threshold: derived(s.top10_threshold),
                distance_to_top10: derived(s.distance_to_top10),
                sn_model: req.neighbours,
                sn_rank,
                sn_of,
                sn_average,
                sn_top_quartile: sn_top,
                source: format!("{} ({})", r.source_file, r.dataset),
                dps: places,
            }
        })
        .collect();
    out.sort_by(|a, b| {
        a.rank
            .unwrap_or(usize::MAX)
            .cmp(&b.rank.unwrap_or(usize::MAX))
            .then(a.la_code.cmp(&b.la_code))
    });
    out
}

/// Rank every LA-level measure, group and year in the store (the benchmark's workload).
pub fn rank_everything(data: &Data, neighbours: Option<i32>) -> Result<(usize, usize), StoreError> {
    let combos = crate::store::frame::la_measure_years(data.store.scan("results")?)?;
    let all = crate::store::frame::query_results(
        data.store.scan("results")?,
        &crate::store::frame::ResultFilter {
            level: Some(Level::La),
            ..Default::default()
        },
    )?;
    let nmap = match neighbours {
        Some(m) => Some(data.all_neighbours(m)?),
        None => None,
    };
    let mut by_key: BTreeMap<(String, String, i32), Vec<ResultRecord>> = BTreeMap::new();
    for r in all
        .into_iter()
        .filter(|r| r.scope == "state_funded" && r.phase == "all")
    {
        by_key
            .entry((r.measure.clone(), r.group.clone(), r.year))
            .or_default()
            .push(r);
    }
    let precision = PublishedPrecision::load(data)?;
    let mut polarities: BTreeMap<String, Option<Polarity>> = BTreeMap::new();
    let (mut ranked_sets, mut ranked_rows) = (0, 0);
    for (m, g, y) in combos {
        let pol = match polarities.get(&m) {
            Some(p) => *p,
            None => {
                let p = data.polarity(&m)?;
                polarities.insert(m.clone(), p);
                p
            }
        };
        let Some(pol) = pol else { continue };
        let rows: BTreeMap<String, ResultRecord> = data
            .pick(
                by_key
                    .remove(&(m.clone(), g.clone(), y))
                    .unwrap_or_default(),
            )
            .into_iter()
            .filter(|(c, _)| is_la(c))
            .collect();
        let req = RankRequest {
            measure: &m,
            group: &g,
            year: y,
            neighbours,
            rule: Top10Rule::RankCut,
        };
        let out = rank_rows(data, &precision, &req, pol, &rows, nmap.as_ref());
        ranked_sets += 1;
        ranked_rows += out.len();
    }
    Ok((ranked_sets, ranked_rows))
}
