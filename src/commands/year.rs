//! Which results year a command reports on: the one rule for every command and stage.

use crate::analysis::data::Data;
use crate::error::ConfigError;
use crate::store::schema::Level;

/// The key stages' headline measures: a school's results year is one with KS2 or KS4 figures.
pub const SCHOOL_RESULTS: &[&str] = &["ks2_rwm_expected", "ks4_attainment8"];

/// `requested` if the store has figures for any of `measures` at `level` that year, else the
/// latest year it has them; refused (exit 2) with the years the store has when neither.
pub fn results_year(
    data: &Data,
    requested: Option<i32>,
    measures: &[&str],
    level: Level,
) -> anyhow::Result<i32> {
    // A year the key stage was published without the measure (no KS2 progress in 2023/24)
    // is still a year to report on: its figures say why they are missing.
    let mut years = Vec::new();
    for m in measures {
        years.extend(data.key_stage_years(m, level)?);
    }
    years.sort();
    years.dedup();
    let what = measures.join(" or ");
    match (requested, years.last()) {
        (Some(y), _) if years.contains(&y) => Ok(y),
        (Some(y), Some(_)) => {
            let near = years.iter().min_by_key(|x| (*x - y).abs()).copied();
            anyhow::bail!(ConfigError::new(
                "--year",
                format!(
                    "the store has no {} {what} figures for {y}: it has {}{}",
                    level.as_str(),
                    super::validate::span(&years),
                    near.map(|n| format!("; did you mean {n}?"))
                        .unwrap_or_default()
                )
            ))
        }
        (_, None) => anyhow::bail!(ConfigError::new(
            "--year",
            format!(
                "the store at {} has no {} {what} figures (run `attain ingest` with those files)",
                data.store.dir.display(),
                level.as_str()
            )
        )),
        (None, Some(&latest)) => Ok(latest),
    }
}
