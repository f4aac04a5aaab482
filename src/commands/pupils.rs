//! `attain gaps --pupils`: ad-hoc questions answered from the LA's pupil-level files,
//! with disclosure control applied before anything is printed.

use std::path::PathBuf;

use serde_json::Value;

use crate::analysis::disclosure::SYMBOL;
use crate::analysis::partnerships::read_map;
use crate::analysis::pupils::{gap_rows, widest_running, GroupSpec, Places, PriorMeans, PupilGapRow, PupilQuery, Unit};
use crate::error::{ConfigError, IngestError};
use crate::ingest::pupils::{read_pupils, PupilData};
use crate::output::{Format, Report};
use crate::store::Store;

pub struct PupilGapOptions<'o> {
    pub pupils: &'o [PathBuf],
    pub measure: &'o str,
    pub group: &'o str,
    pub level: Unit,
    pub year: Option<i32>,
    /// Years in the trend window, ending at `year`.
    pub years: usize,
    pub only: Vec<String>,
    /// Only this LA's schools (or this LA, at LA level).
    pub la: Option<&'o str>,
    pub prior_means: Option<&'o PathBuf>,
    pub partnerships: Option<&'o PathBuf>,
    pub threshold: u64,
    /// Keep only units among the N widest gaps in every year of the window.
    pub widest: Option<usize>,
    pub allow_bad_rows: bool,
}

/// Names and LAs of schools, from the store when there is one.
pub fn places(store: &Store, partnerships: Option<&PathBuf>) -> anyhow::Result<Places> {
    let mut p = if store.table_path("schools").exists() { Places::from_schools(&crate::store::frame::schools_from_frame(&store.read("schools")?)?) } else { Places::default() };
    if let Some(map) = partnerships {
        for (urn, name) in read_map(map)?.schools {
            if let Ok(u) = urn.parse::<u32>() {
                p.partnerships.insert(u, name);
            }
        }
    }
    Ok(p)
}

/// Read and validate the pupil files; bad rows are an input error unless allowed.
pub fn load(paths: &[PathBuf], allow_bad_rows: bool) -> anyhow::Result<(PupilData, Vec<IngestError>)> {
    Ok(read_pupils(paths, allow_bad_rows)?)
}

pub fn run(store: &Store, o: &PupilGapOptions) -> anyhow::Result<(Vec<PupilGapRow>, Vec<IngestError>)> {
    let (data, warnings) = load(o.pupils, o.allow_bad_rows)?;
    let places = places(store, o.partnerships)?;
    Ok((answer(&data, &places, o)?, warnings))
}

/// One question over pupil data already read (a pipeline stage reads the files once for all
/// its questions).
pub fn answer(data: &PupilData, places: &Places, o: &PupilGapOptions) -> anyhow::Result<Vec<PupilGapRow>> {
    let group = GroupSpec::parse(o.group)?;
    if o.level == Unit::Partnership && places.partnerships.is_empty() {
        anyhow::bail!(ConfigError::new("--level", "partnership level needs --partnerships MAP.csv (urn,partnership)"));
    }
    let means = o.prior_means.map(|p| PriorMeans::read(p, None)).transpose()?;
    if o.measure.contains("progress") && means.is_none() {
        anyhow::bail!(ConfigError::new("--prior-means", format!("{} needs the national means of each KS1 prior-attainment group: --prior-means FILE.csv", o.measure)));
    }
    let year = match o.year {
        Some(y) => y,
        None => data.pupils.iter().map(|p| p.year).max().ok_or_else(|| ConfigError::new("--pupils", "the pupil files hold no pupils"))?,
    };
    let years: Vec<i32> = (0..o.years.max(1) as i32).rev().map(|k| year - k).collect();
    let q = PupilQuery { measure: o.measure, group, level: o.level, years, only: o.only.clone(), threshold: o.threshold };
    let mut rows = gap_rows(&data.pupils, &q, means.as_ref(), places)?;
    if let Some(la) = o.la {
        rows.retain(|r| match o.level {
            Unit::School => r.code.parse::<u32>().ok().and_then(|u| places.schools.get(&u)).and_then(|s| s.1.as_deref()) == Some(la),
            Unit::La => r.code == la,
            Unit::Partnership => true,
        });
    }
    if let Some(n) = o.widest {
        rows = widest_running(rows, n);
    }
    Ok(rows)
}

/// JSON keeps withheld figures as null (with `status`); table and CSV print DfE's `c`.
pub fn print(rows: &[PupilGapRow], format: Format) -> String {
    if format == Format::Json {
        return serde_json::to_string_pretty(rows).unwrap_or_default() + "\n";
    }
    let cols = ["code", "name", "group", "cohort", "value", "comparison_cohort", "comparison_value", "gap", "significance", "trend", "status"];
    let mut r = Report::new(&cols);
    for row in rows {
        let v = serde_json::to_value(row).unwrap_or(Value::Null);
        r.push(
            cols.iter()
                .map(|c| {
                    let x = v.get(*c).cloned().unwrap_or(Value::Null);
                    let figure = matches!(*c, "cohort" | "value" | "comparison_cohort" | "comparison_value" | "gap");
                    if figure && row.suppressed() {
                        Value::String(SYMBOL.into())
                    } else {
                        x
                    }
                })
                .collect(),
        );
    }
    r.render(format)
}
