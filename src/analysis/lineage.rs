//! A school's lineage: the schools it replaced (an academy converter's maintained school, the
//! schools an amalgamation closed), as GIAS's `Linked establishments` and the performance
//! tables' `URN_AC` link them (the `school_links` table), and its figures over the years taken
//! through them.
//!
//! Which figure stands for a school in a year (docs/data-sources.md, "Predecessor schools and
//! prior-year columns"): its own row of that year's file; else a predecessor's own row of
//! that year (nearest predecessor first, only for years up to the academic year of the
//! conversion); else a prior-year column (`PTRWM_EXP_18` in the 2019 file) of the school's
//! own later row, newest file first; else a predecessor's prior-year column. Every figure not
//! the school's own carries a label saying whose it is.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Serialize;

use super::data::{coverage_by_file, precedence, Data};
use crate::dates::{academic_year_of, iso_from_days};
use crate::error::StoreError;
use crate::store::frame::{self, LinkRecord, ResultRecord};

/// A school that a school replaced.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Predecessor {
    pub urn: String,
    pub name: String,
    /// GIAS's word ("Predecessor", "Predecessor - amalgamated"); `URN_AC` links read "Predecessor".
    pub link_type: String,
    /// When the school took over (its open date; `OPEN_AC`), ISO, where a file says.
    pub date: Option<String>,
    /// Where the link was read: `gias`, `urn_ac` or both ("gias, urn_ac").
    pub source: String,
    /// How many links away: 1 for the school's own predecessor, 2 for that one's ...
    pub generation: u32,
    #[serde(skip)]
    days: Option<i64>,
}

impl Predecessor {
    /// "predecessor school: Bordon Junior School (115864)".
    pub fn label(&self) -> String {
        format!("predecessor school: {} ({})", self.name, self.urn)
    }
    /// Whether the predecessor's own figures for `year` can stand for the school: the year's
    /// results came before (or in the year of) the conversion.
    pub fn covers(&self, year: i32) -> bool {
        self.days.is_none_or(|d| year <= academic_year_of(d))
    }
}

/// One year of a school's history: the figure that stands for it, and whose it is.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryPoint {
    pub year: i32,
    /// None: no row for the school, its predecessors or a prior-year column.
    pub record: Option<ResultRecord>,
    /// None for the school's own row; else "predecessor school: NAME (URN)" or
    /// "prior-year column PTRWM_EXP_18 in the 2019 file".
    pub label: Option<String>,
}

impl HistoryPoint {
    pub fn value(&self) -> Option<f64> {
        self.record.as_ref().and_then(|r| r.value)
    }
    pub fn status(&self) -> Option<&str> {
        self.record.as_ref().map(|r| r.status.as_str())
    }
}

/// The links and prior-year figures of the whole store, read once.
pub struct Lineage {
    /// URN -> its direct predecessors.
    direct: HashMap<String, Vec<Predecessor>>,
    /// (URN, measure, group, year) -> prior-year rows for it from every file.
    prior: HashMap<(String, String, String, i32), Vec<ResultRecord>>,
    /// Source file -> the year of the file (for labels and "newest file first").
    file_years: HashMap<String, i32>,
}

/// Is `linked_urn` a predecessor of `urn` by this link? GIAS writes the link from both ends.
fn predecessor_of(l: &LinkRecord) -> Option<(&str, &str)> {
    if l.link_type.starts_with("Predecessor") {
        Some((l.urn.as_str(), l.linked_urn.as_str()))
    } else if l.link_type.starts_with("Successor") {
        Some((l.linked_urn.as_str(), l.urn.as_str()))
    } else {
        None
    }
}

impl Lineage {
    /// Links, prior-year rows and file years from the store (empty for a store written
    /// before these tables existed).
    pub fn load(data: &Data) -> Result<Lineage, StoreError> {
        let store = data.store;
        let links = if store.table_path("school_links").exists() {
            frame::link_rows(store.scan("school_links")?)?
        } else {
            vec![]
        };
        // One entry per (school, predecessor): the sources joined, GIAS's date first, else the
        // latest `OPEN_AC` (a later file corrects an expected date).
        type Entry = (String, Option<i64>, Option<i64>, Vec<String>);
        let mut merged: BTreeMap<(String, String), Entry> = BTreeMap::new();
        for l in &links {
            let Some((school, pred)) = predecessor_of(l) else {
                continue;
            };
            if school == pred {
                continue;
            }
            let e = merged
                .entry((school.to_string(), pred.to_string()))
                .or_insert_with(|| ("Predecessor".into(), None, None, vec![]));
            let src = l.source.as_str();
            if src == crate::store::schema::link_source::GIAS {
                // GIAS's words from the successor's end ("Predecessor - amalgamated").
                e.0 = l.link_type.replace("Successor", "Predecessor");
                if l.link_date.is_some() && l.link_type.starts_with("Predecessor") {
                    e.1 = l.link_date;
                }
            } else {
                e.2 = e.2.max(l.link_date);
            }
            if !e.3.iter().any(|s| s == src) {
                e.3.push(src.to_string());
            }
        }
        let mut direct: HashMap<String, Vec<Predecessor>> = HashMap::new();
        for ((school, pred), (link_type, gias_date, ac_date, mut sources)) in merged {
            sources.sort();
            let days = gias_date.or(ac_date);
            direct.entry(school).or_default().push(Predecessor {
                name: data.name(&pred),
                urn: pred,
                link_type,
                date: days.map(iso_from_days),
                source: sources.join(", "),
                generation: 1,
                days,
            });
        }
        for preds in direct.values_mut() {
            // Nearest first: the latest conversion, then URN.
            preds.sort_by(|a, b| b.days.cmp(&a.days).then(a.urn.cmp(&b.urn)));
        }
        let mut prior: HashMap<(String, String, String, i32), Vec<ResultRecord>> = HashMap::new();
        if store.table_path("prior_year_results").exists() {
            let rows = frame::query_results(
                store.scan("prior_year_results")?,
                &frame::ResultFilter {
                    scope: Some("state_funded".into()),
                    phase: Some("all".into()),
                    ..Default::default()
                },
            )?;
            for r in rows {
                prior
                    .entry((r.code.clone(), r.measure.clone(), r.group.clone(), r.year))
                    .or_default()
                    .push(r);
            }
        }
        let file_years = if store.table_path("sources").exists() {
            frame::source_years(&store.read("sources")?)?
                .into_iter()
                .collect()
        } else {
            HashMap::new()
        };
        Ok(Lineage {
            direct,
            prior,
            file_years,
        })
    }

    /// Every predecessor of `urn`, nearest first, following chains (a predecessor's own
    /// predecessors come after it, `generation` counting the steps).
    pub fn predecessors(&self, urn: &str) -> Vec<Predecessor> {
        let mut out: Vec<Predecessor> = Vec::new();
        let mut seen: HashSet<String> = HashSet::from([urn.to_string()]);
        let mut frontier = vec![urn.to_string()];
        let mut generation = 1;
        while !frontier.is_empty() {
            let mut next = Vec::new();
            for u in &frontier {
                for p in self.direct.get(u).into_iter().flatten() {
                    if seen.insert(p.urn.clone()) {
                        let mut p = p.clone();
                        p.generation = generation;
                        next.push(p.urn.clone());
                        out.push(p);
                    }
                }
            }
            frontier = next;
            generation += 1;
        }
        out
    }

    /// Schools that have at least one predecessor.
    pub fn successors(&self) -> impl Iterator<Item = &str> {
        self.direct.keys().map(String::as_str)
    }

    /// The prior-year figure for a school, measure, group and year: from the newest file
    /// that repeats it, then by the usual precedence between rows.
    pub fn prior_year(
        &self,
        urn: &str,
        measure: &str,
        group: &str,
        year: i32,
    ) -> Option<&ResultRecord> {
        let rows = self.prior.get(&(
            urn.to_string(),
            measure.to_string(),
            group.to_string(),
            year,
        ))?;
        let owned: Vec<ResultRecord> = rows.to_vec();
        let coverage = coverage_by_file(&owned);
        let file_year = |r: &ResultRecord| self.file_years.get(&r.source_file).copied();
        rows.iter().min_by(|a, b| {
            file_year(b)
                .cmp(&file_year(a))
                .then(precedence(a, b, &coverage))
        })
    }

    /// "prior-year column PTRWM_EXP_18 in the 2019 file".
    fn prior_label(&self, r: &ResultRecord) -> String {
        match self.file_years.get(&r.source_file) {
            Some(y) => format!("prior-year column {} in the {y} file", r.source_column),
            None => format!("prior-year column {} in {}", r.source_column, r.source_file),
        }
    }

    /// The figure that stands for `urn` in `year`, given a lookup of any school's own row of
    /// that year (`own`), with its label (None: the school's own row). See the module notes
    /// for the order.
    pub fn resolve<F>(
        &self,
        urn: &str,
        measure: &str,
        group: &str,
        year: i32,
        mut own: F,
    ) -> Result<HistoryPoint, StoreError>
    where
        F: FnMut(&str) -> Result<Option<ResultRecord>, StoreError>,
    {
        let found = |record: ResultRecord, label: Option<String>| HistoryPoint {
            year,
            record: Some(record),
            label,
        };
        if let Some(r) = own(urn)? {
            return Ok(found(r, None));
        }
        let preds: Vec<Predecessor> = self
            .predecessors(urn)
            .into_iter()
            .filter(|p| p.covers(year))
            .collect();
        for p in &preds {
            if let Some(r) = own(&p.urn)? {
                return Ok(found(r, Some(p.label())));
            }
        }
        if let Some(r) = self.prior_year(urn, measure, group, year) {
            // A converter's copy of a year before it opened is its predecessor's figure.
            let label = match preds.first() {
                Some(p) => format!("{} ({})", self.prior_label(r), p.label()),
                None => self.prior_label(r),
            };
            return Ok(found(r.clone(), Some(label)));
        }
        for p in &preds {
            if let Some(r) = self.prior_year(&p.urn, measure, group, year) {
                let label = format!("{} ({})", self.prior_label(r), p.label());
                return Ok(found(r.clone(), Some(label)));
            }
        }
        Ok(HistoryPoint {
            year,
            record: None,
            label: None,
        })
    }
}

impl Data<'_> {
    /// The schools `urn` replaced, nearest first (see [`Lineage::predecessors`]).
    pub fn lineage(&self, urn: &str) -> Result<Vec<Predecessor>, StoreError> {
        Ok(Lineage::load(self)?.predecessors(urn))
    }

    /// A school's figures for a measure and group over `years`: its own rows, and before it
    /// opened its predecessors' or the prior-year columns', labelled (see [`Lineage::resolve`]).
    pub fn school_history(
        &self,
        urn: &str,
        measure: &str,
        group: &str,
        years: &[i32],
    ) -> Result<Vec<HistoryPoint>, StoreError> {
        let lineage = Lineage::load(self)?;
        years
            .iter()
            .map(|&y| {
                lineage.resolve(urn, measure, group, y, |code| {
                    Ok(self
                        .best(
                            measure,
                            group,
                            y,
                            crate::store::schema::Level::School,
                            Some(code),
                        )?
                        .remove(code))
                })
            })
            .collect()
    }
}
