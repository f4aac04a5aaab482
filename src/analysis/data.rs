//! Reading figures out of the store for the analysis: which source to trust when
//! several files give the same figure, and names for codes.

use std::collections::{BTreeMap, HashMap};

use crate::catalogue::Catalogue;
use crate::error::StoreError;
use crate::store::frame::{self, ResultFilter, ResultRecord};
use crate::store::schema::{Level, ENGLAND};
use crate::store::Store;

/// The store and catalogue, with lookups the analysis needs.
pub struct Data<'a> {
    pub store: &'a Store,
    pub catalogue: &'a Catalogue,
    names: HashMap<String, String>,
}

impl<'a> Data<'a> {
    pub fn open(store: &'a Store, catalogue: &'a Catalogue) -> Result<Data<'a>, StoreError> {
        let mut names = HashMap::new();
        if store.table_path("areas").exists() {
            for (code, name) in frame::area_names(&store.read("areas")?)? {
                names.entry(code).or_insert(name);
            }
        }
        if store.table_path("schools").exists() {
            for (urn, name) in frame::school_names(&store.read("schools")?)? {
                names.entry(urn).or_insert(name);
            }
        }
        names.insert(ENGLAND.to_string(), "England".to_string());
        Ok(Data {
            store,
            catalogue,
            names,
        })
    }

    /// Is a higher value better? From the catalogue, or LAIT's dictionary for `lait:` measures.
    pub fn polarity(
        &self,
        measure: &str,
    ) -> Result<Option<crate::analysis::rank::Polarity>, StoreError> {
        use crate::analysis::rank::Polarity;
        if let Some(m) = self.catalogue.measure(measure) {
            return Ok(Polarity::from_catalogue(&m.polarity));
        }
        if self.store.table_path("measures").exists() {
            for (m, p) in frame::measure_polarities(&self.store.read("measures")?)? {
                if m == measure {
                    return Ok(p.as_deref().and_then(Polarity::from_catalogue));
                }
            }
        }
        Ok(None)
    }

    pub fn name(&self, code: &str) -> String {
        self.names.get(code).cloned().unwrap_or_default()
    }

    pub fn query(&self, f: &ResultFilter) -> Result<Vec<ResultRecord>, StoreError> {
        frame::query_results(self.store.scan("results")?, f)
    }

    /// Years with figures for a measure at a level.
    pub fn years(&self, measure: &str, level: Level) -> Result<Vec<i32>, StoreError> {
        frame::distinct_years(self.store.scan("results")?, measure, level.as_str())
    }

    /// Years with figures of the measure's key stage at a level: a year whose files lack the
    /// measure (no KS2 progress in 2023/24) is still a year of that key stage.
    pub fn key_stage_years(&self, measure: &str, level: Level) -> Result<Vec<i32>, StoreError> {
        match self
            .catalogue
            .measure(measure)
            .map(|m| m.key_stage.as_str())
        {
            Some(ks) if !ks.is_empty() => {
                frame::distinct_key_stage_years(self.store.scan("results")?, ks, level.as_str())
            }
            _ => self.years(measure, level),
        }
    }

    /// The latest year with figures for the measure (the default for `--year`).
    pub fn latest_year(&self, measure: &str, level: Level) -> Result<Option<i32>, StoreError> {
        Ok(self.years(measure, level)?.into_iter().max())
    }

    /// One figure per code for `measure`/`group`/`year` at `level`, state-funded, all phases,
    /// from the single best source: a dataset that is not provisional (revisions supersede
    /// it), then the one that covers the most codes with values, then unrounded figures
    /// (numerator and cohort given), then catalogue priority.
    pub fn best(
        &self,
        measure: &str,
        group: &str,
        year: i32,
        level: Level,
        code: Option<&str>,
    ) -> Result<BTreeMap<String, ResultRecord>, StoreError> {
        let f = ResultFilter {
            measure: Some(measure.into()),
            group: Some(group.into()),
            year: Some(year),
            level: Some(level),
            code: code.map(str::to_string),
            scope: Some("state_funded".into()),
            phase: Some("all".into()),
            ..Default::default()
        };
        let rows = self.query(&f)?;
        Ok(self.pick(rows))
    }

    /// Group rows by dataset, choose one dataset, and keep one row per code.
    pub fn pick(&self, rows: Vec<ResultRecord>) -> BTreeMap<String, ResultRecord> {
        let mut by_ds: BTreeMap<String, Vec<ResultRecord>> = BTreeMap::new();
        for r in rows {
            by_ds.entry(r.dataset.clone()).or_default().push(r);
        }
        let priority = |ds: &str| self.catalogue.dataset(ds).map(|d| d.priority).unwrap_or(99);
        let best = by_ds
            .iter()
            .max_by(|(a, ra), (b, rb)| {
                let covered = |rs: &Vec<ResultRecord>| {
                    rs.iter()
                        .filter(|r| r.value.is_some())
                        .map(|r| &r.code)
                        .collect::<std::collections::HashSet<_>>()
                        .len()
                };
                let unrounded = |rs: &Vec<ResultRecord>| {
                    rs.iter()
                        .any(|r| r.numerator.is_some() && r.cohort.is_some())
                };
                // Provisional figures are later revised: any other version is preferred.
                let settled =
                    |rs: &Vec<ResultRecord>| rs.iter().all(|r| r.version != "provisional");
                settled(ra)
                    .cmp(&settled(rb))
                    .then(covered(ra).cmp(&covered(rb)))
                    .then(unrounded(ra).cmp(&unrounded(rb)))
                    .then(priority(b).cmp(&priority(a)))
            })
            .map(|(k, _)| k.clone());
        let mut out = BTreeMap::new();
        if let Some(ds) = best {
            let mut rows = by_ds.remove(&ds).unwrap_or_default();
            let coverage = coverage_by_file(&rows);
            rows.sort_by(|a, b| a.code.cmp(&b.code).then(precedence(a, b, &coverage)));
            for r in rows {
                out.entry(r.code.clone()).or_insert(r);
            }
        }
        out
    }

    /// England's state-funded figure of all phases, chosen as every comparator is: as the
    /// performance tables publish it (`analysis::comparators`, docs/methods.md).
    pub fn national(
        &self,
        measure: &str,
        group: &str,
        year: i32,
    ) -> Result<Option<ResultRecord>, StoreError> {
        let rows = self.england_rows(measure, group, year)?;
        Ok(super::comparators::AreaRows::new(self, rows)
            .england(measure, group, year, "all")
            .cloned())
    }

    /// England's state-funded rows of a measure and group in `year`: every phase and
    /// publication, for `comparators::AreaRows` to choose from.
    pub fn england_rows(
        &self,
        measure: &str,
        group: &str,
        year: i32,
    ) -> Result<Vec<ResultRecord>, StoreError> {
        self.query(&ResultFilter {
            measure: Some(measure.into()),
            group: Some(group.into()),
            year: Some(year),
            level: Some(Level::National),
            code: Some(ENGLAND.into()),
            scope: Some("state_funded".into()),
            ..Default::default()
        })
    }

    /// Every row of the inspections table (none if no Ofsted file was ingested).
    pub fn inspections(&self) -> Result<Vec<frame::InspectionRecord>, StoreError> {
        if !self.store.table_path("inspections").exists() {
            return Ok(vec![]);
        }
        frame::inspection_rows(self.store.scan("inspections")?)
    }

    /// Every row of the inspection_judgements table (none if no file gave graded areas).
    pub fn judgements(&self) -> Result<Vec<frame::JudgementRecord>, StoreError> {
        if !self.store.table_path("inspection_judgements").exists() {
            return Ok(vec![]);
        }
        frame::judgement_rows(self.store.scan("inspection_judgements")?)
    }

    /// Each school's inspections on or before `as_of` (days since 1970-01-01), under both
    /// frameworks (see `analysis::inspection`). A school with none of its own (an academy
    /// converter not yet inspected) gets its nearest predecessor's that has any, labelled
    /// in `inherited_from`.
    pub fn school_inspections(
        &self,
        as_of: Option<i64>,
    ) -> Result<HashMap<String, crate::analysis::inspection::SchoolInspections>, StoreError> {
        let mut by_school = crate::analysis::inspection::latest_by_school(
            &self.inspections()?,
            &self.judgements()?,
            as_of,
        );
        let lineage = crate::analysis::lineage::Lineage::load(self)?;
        let mut inherited = Vec::new();
        for urn in lineage.successors() {
            if by_school.contains_key(urn) {
                continue;
            }
            let from = lineage
                .predecessors(urn)
                .into_iter()
                .find_map(|p| Some((by_school.get(&p.urn)?, p.label())));
            if let Some((s, label)) = from {
                let mut s = s.clone();
                s.inherited_from = Some(label);
                inherited.push((urn.to_string(), s));
            }
        }
        by_school.extend(inherited);
        Ok(by_school)
    }

    /// The dataset each ingested file was read as.
    pub fn source_datasets(&self) -> Result<HashMap<String, String>, StoreError> {
        if !self.store.table_path("sources").exists() {
            return Ok(HashMap::new());
        }
        Ok(frame::source_datasets(&self.store.read("sources")?)?
            .into_iter()
            .collect())
    }

    /// LA code -> English region. The code lists disagree on what a region is (the
    /// performance tables' list has 27 sub-regions such as "South East B"; LAIT's has the
    /// government office regions): the coarsest list that names the LA wins.
    pub fn la_regions(&self) -> Result<BTreeMap<String, String>, StoreError> {
        if !self.store.table_path("areas").exists() {
            return Ok(BTreeMap::new());
        }
        let rows = frame::la_region_names(&self.store.read("areas")?)?;
        let mut per_source: BTreeMap<&str, std::collections::BTreeSet<&str>> = BTreeMap::new();
        for (_, region, source) in &rows {
            per_source
                .entry(source.as_str())
                .or_default()
                .insert(region.as_str());
        }
        let mut best: BTreeMap<String, (usize, String)> = BTreeMap::new();
        for (la, region, source) in &rows {
            let n = per_source[source.as_str()].len();
            let e = best
                .entry(la.clone())
                .or_insert((usize::MAX, String::new()));
            if n > 1 && n < e.0 {
                *e = (n, region.clone());
            }
        }
        Ok(best
            .into_iter()
            .filter(|(_, (n, _))| *n != usize::MAX)
            .map(|(k, (_, r))| (k, r))
            .collect())
    }

    /// Statistical neighbours of an LA in a model, in order.
    pub fn neighbours(&self, model: i32, la: &str) -> Result<Vec<String>, StoreError> {
        if !self.store.table_path("neighbours").exists() {
            return Ok(vec![]);
        }
        let rows = frame::neighbour_rows(&self.store.read("neighbours")?)?;
        let mut v: Vec<(i32, String)> = rows
            .into_iter()
            .filter(|r| r.0 == model && r.1 == la)
            .map(|r| (r.2, r.3))
            .collect();
        v.sort();
        v.dedup();
        Ok(v.into_iter().map(|x| x.1).collect())
    }

    /// All neighbour lists of a model: LA -> neighbours in order.
    pub fn all_neighbours(&self, model: i32) -> Result<BTreeMap<String, Vec<String>>, StoreError> {
        let mut out: BTreeMap<String, Vec<(i32, String)>> = BTreeMap::new();
        if self.store.table_path("neighbours").exists() {
            for r in frame::neighbour_rows(&self.store.read("neighbours")?)? {
                if r.0 == model {
                    out.entry(r.1).or_default().push((r.2, r.3));
                }
            }
        }
        Ok(out
            .into_iter()
            .map(|(k, mut v)| {
                v.sort();
                v.dedup();
                (k, v.into_iter().map(|x| x.1).collect())
            })
            .collect())
    }
}

/// How late a release is: final > revised > provisional > a file that does not say.
pub fn release_rank(version: &str) -> u8 {
    match version {
        "final" => 3,
        "revised" => 2,
        "provisional" => 1,
        _ => 0,
    }
}

/// How many of `rows` each source file gave: a national file covers more than a per-LA download.
pub fn coverage_by_file(rows: &[ResultRecord]) -> HashMap<String, usize> {
    let mut out: HashMap<String, usize> = HashMap::new();
    for r in rows {
        *out.entry(r.source_file.clone()).or_default() += 1;
    }
    out
}

/// Which of two rows for the same figure of one dataset wins (`Less` = `a`), as
/// docs/data-sources.md documents it: the later release (final > revised > provisional >
/// unnamed), then a figure over a withheld one, then the file covering more of the figures
/// (a national file over a per-LA download of the same release), then the path and row.
pub fn precedence(
    a: &ResultRecord,
    b: &ResultRecord,
    coverage: &HashMap<String, usize>,
) -> std::cmp::Ordering {
    let covers = |r: &ResultRecord| coverage.get(&r.source_file).copied().unwrap_or(0);
    release_rank(&b.version)
        .cmp(&release_rank(&a.version))
        .then(b.value.is_some().cmp(&a.value.is_some()))
        .then(covers(b).cmp(&covers(a)))
        .then(a.source_file.cmp(&b.source_file))
        .then(a.source_row.cmp(&b.source_row))
}
