//! The ledger of pupil-level figures released into an output tree.
//!
//! Figures that have left attain cannot be withdrawn, so a later run writing into the same
//! tree must not release a figure that, subtracted from (or from) one released before,
//! gives away 1 to threshold pupils. Each run that writes pupil-level figures reads the
//! ledger, treats its entries as fixed in disclosure control, and adds what it wrote.
//! Delete the file only when none of the figures it lists has been passed on.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::pupils::Released;
use crate::error::IngestError;

/// The ledger's file name.
pub const FILE: &str = "released-pupil-figures.json";

#[derive(Debug, Default, Serialize, Deserialize)]
struct LedgerFile {
    #[serde(default)]
    note: String,
    released: Vec<Released>,
}

/// Where a stage writing into `out` keeps its ledger unless told: beside `out`, in the
/// output tree the stages share (output/booklets -> output/released-pupil-figures.json).
pub fn default_path(out: &Path) -> PathBuf {
    match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.join(FILE),
        _ => PathBuf::from(FILE),
    }
}

/// Entries of the ledger at `path` (none if there is no ledger yet).
pub fn load(path: &Path) -> Result<Vec<Released>, IngestError> {
    match std::fs::read_to_string(path) {
        Ok(text) => serde_json::from_str::<LedgerFile>(&text)
            .map(|l| l.released)
            .map_err(|e| {
                IngestError::at_file(
                    path,
                    format!("not a ledger of released pupil-level figures: {e}"),
                )
            }),
        // No ledger yet; also where a file stands in its directory's place, so that the
        // write (see `record`) is what fails, as an output error.
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
            ) =>
        {
            Ok(vec![])
        }
        Err(e) => Err(IngestError::at_file(path, e.to_string())),
    }
}

/// Add `new` to the ledger at `path` (written atomically).
pub fn record(path: &Path, new: &[Released]) -> anyhow::Result<()> {
    let mut all: std::collections::BTreeSet<Released> = load(path)?.into_iter().collect();
    let before = all.len();
    all.extend(new.iter().cloned());
    if all.len() == before && path.exists() {
        return Ok(());
    }
    let file = LedgerFile {
        note: "Pupil-level figures attain has released into this output tree (measure, year, level, unit, group). \
            Later runs treat them as released: keep this file while any of them is in use.".into(),
        released: all.into_iter().collect(),
    };
    // A failed write is an output error naming the file (exit 4); its directory is made there.
    crate::atomic::write_atomic(
        path,
        (serde_json::to_string_pretty(&file)? + "\n").as_bytes(),
    )?;
    Ok(())
}
