//! What a school's figure is set beside: its LA's figure and England's, chosen by the rules
//! written down in docs/methods.md, each labelled with what it is.
//!
//! * England is the state-funded national row of the school's phase where the files split
//!   by phase (census, absence), else the all-phase row, as the performance tables publish
//!   it: from the publication the catalogue ranks first (the performance tables' RECTYPE 7
//!   row for KS4, the row DfE's DIFFN columns use), whatever publication the compared figure
//!   came from.
//! * The LA figure is DfE's LA row by the same rule; where no file has an LA row it is pooled
//!   from the LA's schools and labelled so.

use std::collections::HashMap;

use serde::Serialize;

use super::data::Data;
use crate::store::frame::ResultRecord;
use crate::store::schema::ENGLAND;

/// Where a printed figure came from.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Provenance {
    pub file: String,
    pub dataset: String,
    pub version: String,
    pub column: String,
    pub row: u64,
}

impl Provenance {
    pub fn of(r: &ResultRecord) -> Provenance {
        Provenance {
            file: r.source_file.clone(),
            dataset: r.dataset.clone(),
            version: r.version.clone(),
            column: r.source_column.clone(),
            row: r.source_row,
        }
    }
}

/// What a comparator is.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    /// DfE's published LA row.
    LaRow,
    /// Pooled from the LA's school rows (no file gives the LA's figure).
    LaPooled,
    /// England, state-funded schools.
    England,
    /// The mean of the statistical neighbours' LA figures.
    NeighboursAverage,
}

/// A figure set beside a school's, with what it is.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Comparator {
    pub value: Option<f64>,
    pub basis: Basis,
    /// The phase of the row used (`all` where the files do not split by phase).
    pub phase: String,
    /// False when the school's phase has no row of its own (a special school's results set
    /// against all state-funded schools): printed with a mark.
    pub same_phase: bool,
    pub source: Option<Provenance>,
    /// Neighbours: how many had a figure.
    pub count: Option<usize>,
}

type Key = (String, String, i32, String);

/// DfE's published area rows (LA or England, state-funded, every phase and publication),
/// with the choice among them made once.
#[derive(Default)]
pub struct AreaRows {
    /// (measure, group, year, code) -> for each (phase, dataset or "" for any) the row chosen,
    /// with the dataset's catalogue priority (lower first).
    chosen: HashMap<Key, Vec<(String, String, ResultRecord, u32)>>,
    /// (measure, group, year) -> codes with a row.
    codes: HashMap<(String, String, i32), Vec<String>>,
}

impl AreaRows {
    /// Index `rows` (state-funded area rows of one level). Several rows for one phase and
    /// publication are resolved as everywhere else (`Data::pick`).
    pub fn new(data: &Data, rows: impl IntoIterator<Item = ResultRecord>) -> AreaRows {
        let mut raw: HashMap<Key, Vec<ResultRecord>> = HashMap::new();
        for r in rows {
            if r.scope != "state_funded" {
                continue;
            }
            raw.entry((r.measure.clone(), r.group.clone(), r.year, r.code.clone()))
                .or_default()
                .push(r);
        }
        let mut out = AreaRows::default();
        for (key, rows) in raw {
            let mut by: HashMap<(String, String), Vec<ResultRecord>> = HashMap::new();
            for r in rows {
                by.entry((r.phase.clone(), String::new()))
                    .or_default()
                    .push(r.clone());
                by.entry((r.phase.clone(), r.dataset.clone()))
                    .or_default()
                    .push(r);
            }
            let priority = |ds: &str| data.catalogue.dataset(ds).map_or(99, |d| d.priority as u32);
            let mut chosen: Vec<(String, String, ResultRecord, u32)> = by
                .into_iter()
                .filter_map(|((phase, ds), rows)| {
                    let p = if ds.is_empty() {
                        u32::MAX
                    } else {
                        priority(&ds)
                    };
                    Some((phase, ds, data.pick(rows).into_values().next()?, p))
                })
                .collect();
            chosen.sort_by(|a, b| a.3.cmp(&b.3).then(a.1.cmp(&b.1)).then(a.0.cmp(&b.0)));
            out.codes
                .entry((key.0.clone(), key.1.clone(), key.2))
                .or_default()
                .push(key.3.clone());
            out.chosen.insert(key, chosen);
        }
        for v in out.codes.values_mut() {
            v.sort();
        }
        out
    }

    /// The row for `code` of `phase` (falling back to all phases), from `dataset` where it has
    /// one (falling back to the best of any publication).
    pub fn get(
        &self,
        measure: &str,
        group: &str,
        year: i32,
        code: &str,
        phase: &str,
        dataset: Option<&str>,
    ) -> Option<&ResultRecord> {
        let rows = self.chosen.get(&(
            measure.to_string(),
            group.to_string(),
            year,
            code.to_string(),
        ))?;
        let find = |p: &str, ds: &str| {
            rows.iter()
                .find(|(rp, rd, r, _)| rp == p && rd == ds && says(r))
                .map(|x| &x.2)
        };
        let ds = dataset.unwrap_or("");
        find(phase, ds)
            .or_else(|| find(phase, ""))
            .or_else(|| find("all", ds))
            .or_else(|| find("all", ""))
    }

    /// England's row for `phase` (falling back to all phases): the state-funded national row
    /// as the performance tables publish it, that is from the publication the catalogue
    /// ranks first (`priority`), whatever publication the compared figure came from.
    pub fn england(
        &self,
        measure: &str,
        group: &str,
        year: i32,
        phase: &str,
    ) -> Option<&ResultRecord> {
        let rows = self.chosen.get(&(
            measure.to_string(),
            group.to_string(),
            year,
            ENGLAND.to_string(),
        ))?;
        let first = |p: &str| {
            rows.iter()
                .find(|(rp, rd, r, _)| rp == p && !rd.is_empty() && says(r))
                .map(|x| &x.2)
        };
        first(phase).or_else(|| first("all"))
    }

    /// Every code with a row for the measure, group and year.
    pub fn codes(&self, measure: &str, group: &str, year: i32) -> &[String] {
        self.codes
            .get(&(measure.to_string(), group.to_string(), year))
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// The comparator from a row: `basis`, and whether its phase is the school's.
    pub fn comparator(r: Option<&ResultRecord>, basis: Basis, phase: &str) -> Option<Comparator> {
        let r = r?;
        Some(Comparator {
            value: r.value,
            basis,
            phase: r.phase.clone(),
            same_phase: r.phase == phase || !special(phase),
            source: Some(Provenance::of(r)),
            count: None,
        })
    }
}

/// A row with an empty cell says nothing (the performance tables leave LA progress blank): it
/// is passed over for the next source. A withheld figure stays withheld.
fn says(r: &ResultRecord) -> bool {
    r.value.is_some() || !matches!(r.status.as_str(), "ok" | "blank")
}

/// Phases with no results rows of their own: their comparison is marked.
pub fn special(phase: &str) -> bool {
    phase == "special"
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(phase: &str, dataset: &str, value: f64) -> ResultRecord {
        ResultRecord {
            measure: "m".into(),
            group: "all".into(),
            year: 2019,
            level: "national".into(),
            code: "E92000001".into(),
            scope: "state_funded".into(),
            phase: phase.into(),
            dataset: dataset.into(),
            value: Some(value),
            version: "final".into(),
            status: "ok".into(),
            ..Default::default()
        }
    }

    #[test]
    fn same_phase_and_publication_first() {
        let cat = crate::catalogue::Catalogue::builtin();
        let dir = std::env::temp_dir().join(format!("attain-cmp-{}", std::process::id()));
        let store = crate::store::Store::at(&dir);
        let data = Data::open(&store, &cat).unwrap();
        let rows = AreaRows::new(
            &data,
            vec![
                row("all", "ks4_performance_tables", 46.7),
                row("all", "ees_ks4_characteristics", 46.8),
                row("secondary", "absence_performance_tables", 5.5),
            ],
        );
        let get = |phase: &str, ds: Option<&str>| {
            rows.get("m", "all", 2019, "E92000001", phase, ds)
                .and_then(|r| r.value)
        };
        assert_eq!(get("all", Some("ks4_performance_tables")), Some(46.7));
        let england = |phase: &str| rows.england("m", "all", 2019, phase).and_then(|r| r.value);
        // England as the performance tables publish it, whichever file the figure came from.
        assert_eq!(england("all"), Some(46.7));
        assert_eq!(england("secondary"), Some(5.5));
        assert_eq!(get("all", Some("ees_ks4_characteristics")), Some(46.8));
        assert_eq!(
            get("secondary", Some("absence_performance_tables")),
            Some(5.5)
        );
        // A phase with no row of its own falls back to all phases.
        assert_eq!(get("primary", Some("ks4_performance_tables")), Some(46.7));
        let _ = std::fs::remove_dir_all(dir);
    }
}
