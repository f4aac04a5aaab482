//! The canonical store: a directory of parquet tables (see docs/store.md).
//!
//! Writes are atomic at the directory level: the new store is written beside the
//! old one (`.<store>.new`, every table, unchanged ones copied), then swapped in with
//! two renames (`<store>` -> `.<store>.old`, `.<store>.new` -> `<store>`), so a crash
//! leaves either the old store or the new one, never a mixture of tables from two
//! ingests. A directory swap rather than renaming each table into place: a kill between
//! two table renames would leave a mixed store, and the tables are read as one (results
//! join schools, sources and neighbours). The one window with no `<store>` (between the
//! two renames) is repaired by [`Store::at`], which puts `.<store>.old` back; a staging
//! directory a crash left is removed by the next write.

pub mod frame;
pub mod labels;
pub mod schema;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::catalogue::Catalogue;
use crate::error::StoreError;
use frame::{DataFrame, LazyFrame};
use schema::*;

pub struct Store {
    pub dir: PathBuf,
}

impl Store {
    pub fn at(dir: impl Into<PathBuf>) -> Store {
        let dir = dir.into();
        recover_interrupted_swap(&dir);
        Store { dir }
    }

    pub fn table_path(&self, table: &str) -> PathBuf {
        self.dir.join(format!("{table}.parquet"))
    }

    pub fn exists(&self) -> bool {
        self.table_path("results").exists()
    }

    /// A table, lazily. Errors if the store has not been built.
    pub fn scan(&self, table: &'static str) -> Result<LazyFrame, StoreError> {
        let p = self.table_path(table);
        if !p.exists() {
            return Err(StoreError::Missing {
                dir: self.dir.clone(),
                table,
            });
        }
        frame::scan_store_table(&p)
    }

    pub fn read(&self, table: &'static str) -> Result<DataFrame, StoreError> {
        Ok(self.scan(table)?.collect()?)
    }

    fn scan_optional(&self, table: &str) -> Result<Option<LazyFrame>, StoreError> {
        let p = self.table_path(table);
        if p.exists() {
            Ok(Some(frame::scan_store_table(&p)?))
        } else {
            Ok(None)
        }
    }

    /// Merge a batch into the store: rows from the batch's source files replace any
    /// earlier rows from the same files; everything else is kept. The label tables are
    /// rebuilt from `catalogue` (the one the files were read with) and the merged tables.
    pub fn write_batch(
        &self,
        batch: &Batch,
        catalogue: &Catalogue,
    ) -> Result<StoreSummary, StoreError> {
        let replaced: Vec<String> = batch
            .sources
            .iter()
            .map(|s| s.source_file.clone())
            .collect();
        let io = |e: std::io::Error, p: &Path| StoreError::Write {
            path: p.to_path_buf(),
            message: e.to_string(),
        };
        // One writer at a time: a second ingest waits, then merges into what the first wrote
        // (the tables are read below, under the lock).
        let _lock = self.lock()?;
        recover_interrupted_swap(&self.dir);

        let mut tables: Vec<(&str, DataFrame)> = vec![
            (
                "results",
                frame::replace_sources(
                    self.scan_optional("results")?,
                    frame::results_frame(&batch.results)?,
                    &replaced,
                )?,
            ),
            (
                "prior_year_results",
                frame::replace_sources(
                    self.scan_optional("prior_year_results")?,
                    frame::results_frame(&batch.prior_results)?,
                    &replaced,
                )?,
            ),
            (
                "school_links",
                frame::replace_sources(
                    self.scan_optional("school_links")?,
                    frame::links_frame(&batch.links)?,
                    &replaced,
                )?,
            ),
            (
                "school_records",
                frame::replace_sources(
                    self.scan_optional("school_records")?,
                    frame::schools_frame(&named_types(batch.schools.clone(), catalogue))?,
                    &replaced,
                )?,
            ),
            (
                "neighbours",
                frame::replace_sources(
                    self.scan_optional("neighbours")?,
                    frame::neighbours_frame(&batch.neighbours)?,
                    &replaced,
                )?,
            ),
            (
                "inspections",
                frame::replace_sources(
                    self.scan_optional("inspections")?,
                    frame::inspections_frame(&batch.inspections)?,
                    &replaced,
                )?,
            ),
            (
                "inspection_judgements",
                frame::replace_sources(
                    self.scan_optional("inspection_judgements")?,
                    frame::judgements_frame(&batch.judgements)?,
                    &replaced,
                )?,
            ),
            (
                "areas",
                frame::replace_sources(
                    self.scan_optional("areas")?,
                    frame::areas_frame(&batch.areas)?,
                    &replaced,
                )?,
            ),
            (
                "measures",
                frame::replace_sources(
                    self.scan_optional("measures")?,
                    frame::measures_frame(&batch.measures)?,
                    &replaced,
                )?,
            ),
            (
                "sources",
                frame::replace_sources(
                    self.scan_optional("sources")?,
                    frame::sources_frame(&batch.sources)?,
                    &replaced,
                )?,
            ),
        ];
        // `schools` is derived: one row per URN, merged from every source's view of the school.
        let records = frame::schools_from_frame(
            &tables
                .iter()
                .find(|t| t.0 == "school_records")
                .expect("listed above")
                .1,
        )?;
        // Records from a store written before types were named are named here.
        let merged = merge_schools(named_types(records, catalogue));
        let table = |name: &str| &tables.iter().find(|t| t.0 == name).expect("listed above").1;
        let results = table("results");
        let labels = labels::labels(
            catalogue,
            &labels::Seen {
                measures: &frame::distinct_strings(results, "measure")?,
                groups: &frame::distinct_strings(results, frame::PUPIL_GROUP)?,
                dictionary: &frame::measure_meta_rows(table("measures"))?,
                areas: &frame::area_rows(table("areas"))?,
                schools: &merged,
            },
        )?;
        tables.push(("schools", frame::schools_frame(&merged)?));
        tables.extend(frame::label_frames(&labels)?);

        let parent = self
            .dir
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        std::fs::create_dir_all(parent).map_err(|e| io(e, parent))?;
        let staging = sibling(&self.dir, "new");
        if staging.exists() {
            std::fs::remove_dir_all(&staging).map_err(|e| io(e, &staging))?;
        }
        std::fs::create_dir_all(&staging).map_err(|e| io(e, &staging))?;
        let mut summary = StoreSummary::default();
        for (name, df) in tables.iter_mut() {
            frame::write_parquet(df, &staging.join(format!("{name}.parquet")))?;
            summary.rows.insert(name.to_string(), df.height());
        }
        // Tables that ingest does not write (imported targets) move with the store unchanged.
        for name in KEPT_TABLES {
            let p = self.table_path(name);
            if p.exists() {
                let to = staging.join(format!("{name}.parquet"));
                std::fs::copy(&p, &to).map_err(|e| io(e, &p))?;
            }
        }
        let old = sibling(&self.dir, "old");
        if self.dir.exists() {
            if old.exists() {
                std::fs::remove_dir_all(&old).map_err(|e| io(e, &old))?;
            }
            std::fs::rename(&self.dir, &old).map_err(|e| io(e, &self.dir))?;
        }
        std::fs::rename(&staging, &self.dir).map_err(|e| io(e, &staging))?;
        // The new store is in place: the write has happened. An old copy that cannot be removed
        // now is removed by the next open of the store; it is not a failure of this write.
        if old.exists() {
            if let Err(e) = std::fs::remove_dir_all(&old) {
                summary.notes.push(format!(
                    "the previous store {} could not be removed ({e}); it is removed next time \
                    the store is opened",
                    old.display()
                ));
            }
        }
        Ok(summary)
    }

    /// The store's write lock: on the directory that holds the store (the store directory
    /// itself is swapped, so it cannot carry the lock).
    fn lock(&self) -> Result<std::fs::File, StoreError> {
        let parent = self
            .dir
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        crate::atomic::lock_dir(
            parent,
            &format!("another write to the store {}", self.dir.display()),
        )
        .map_err(|e| StoreError::Write {
            path: parent.to_path_buf(),
            message: format!("cannot take the store's lock: {e}"),
        })
    }

    /// The imported targets (empty when none have been imported).
    pub fn targets(&self) -> Result<Vec<TargetRow>, StoreError> {
        match self.scan_optional("targets")? {
            Some(lf) => frame::target_rows(lf),
            None => Ok(vec![]),
        }
    }

    /// Merge imported targets into the `targets` table: a new row replaces any earlier one for
    /// the same school, year and measure. The table is written beside the old one and renamed
    /// over it. Returns the table's row count.
    pub fn write_targets(&self, new: &[TargetRow]) -> Result<usize, StoreError> {
        let io = |e: std::io::Error, p: &Path| StoreError::Write {
            path: p.to_path_buf(),
            message: e.to_string(),
        };
        let _lock = self.lock()?;
        let mut merged: BTreeMap<(String, i32, String), TargetRow> = BTreeMap::new();
        for r in self.targets()?.into_iter().chain(new.iter().cloned()) {
            merged.insert((r.urn.clone(), r.year, r.measure.clone()), r);
        }
        let rows: Vec<TargetRow> = merged.into_values().collect();
        std::fs::create_dir_all(&self.dir).map_err(|e| io(e, &self.dir))?;
        let path = self.table_path("targets");
        let tmp = crate::atomic::temporary_beside(&path);
        frame::write_parquet(&mut frame::targets_frame(&rows)?, &tmp)?;
        std::fs::rename(&tmp, &path).map_err(|e| io(e, &path))?;
        Ok(rows.len())
    }
}

/// Tables kept as they are when ingest rewrites the store.
pub const KEPT_TABLES: [&str; 1] = ["targets"];

#[derive(Debug, Default, Clone)]
pub struct StoreSummary {
    pub rows: BTreeMap<String, usize>,
    /// What happened around the write that the person running it should know.
    pub notes: Vec<String>,
}

fn sibling(dir: &Path, suffix: &str) -> PathBuf {
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_else(|| "store".into());
    dir.with_file_name(format!(".{name}.{suffix}"))
}

/// If a previous write died between its two renames, the old store is still beside it: put it
/// back. If it died after the swap, before removing the old store, remove it.
fn recover_interrupted_swap(dir: &Path) {
    let old = sibling(dir, "old");
    if !old.exists() {
        return;
    }
    if dir.exists() {
        let _ = std::fs::remove_dir_all(&old);
    } else {
        let _ = std::fs::rename(&old, dir);
    }
}

/// Each school's type as a name with its code beside it (`labels::name_school_type`).
fn named_types(mut rows: Vec<SchoolRow>, catalogue: &Catalogue) -> Vec<SchoolRow> {
    for r in &mut rows {
        labels::name_school_type(r, &catalogue.school_types);
    }
    rows
}

/// One row per URN. Each field comes from the most authoritative source that has it
/// (GIAS over performance tables), newest year first.
pub fn merge_schools(mut records: Vec<SchoolRow>) -> Vec<SchoolRow> {
    records.sort_by(|a, b| {
        a.urn
            .cmp(&b.urn)
            .then(b.precedence.cmp(&a.precedence))
            .then(b.as_of_year.cmp(&a.as_of_year))
            .then(a.source_file.cmp(&b.source_file))
    });
    let mut out: Vec<SchoolRow> = Vec::new();
    for r in records {
        match out.last_mut() {
            Some(m) if m.urn == r.urn => {
                // A type's name and code come from one source, so they never disagree.
                if m.school_type.is_none() {
                    m.school_type = r.school_type.clone();
                    m.school_type_code = r.school_type_code.clone();
                }
                macro_rules! fill {
                    ($($f:ident),*) => { $( if m.$f.is_none() { m.$f = r.$f.clone(); } )* };
                }
                fill!(
                    name,
                    la_code,
                    la_name,
                    estab,
                    phase,
                    la_maintained,
                    status,
                    address,
                    town,
                    postcode,
                    low_age,
                    high_age,
                    open_date,
                    close_date,
                    religious_character,
                    gender,
                    admissions_policy,
                    trust,
                    pupils
                );
            }
            _ => out.push(r),
        }
    }
    out
}
