//! `attain gaps --pupils`: ad-hoc questions answered from the LA's pupil-level files,
//! with disclosure control applied before anything is printed.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::analysis::disclosure::SYMBOL;
use crate::analysis::partnerships::read_map;
use crate::analysis::pupils::{
    gap_tables, released_by, widest_running, GroupSpec, Places, PriorMeans, PupilGapRow, PupilQuery,
};
use crate::error::{ConfigError, IngestError};
use crate::ingest::pupils::{read_pupils, PupilData};
use crate::level::Level;
use crate::output::{Format, Report};
use crate::store::Store;

pub struct PupilGapOptions<'o> {
    pub pupils: &'o [PathBuf],
    pub measure: &'o str,
    pub group: &'o str,
    pub level: Level,
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
    /// The ledger of figures already released into the output tree: read, respected and
    /// added to (src/analysis/ledger.rs). None: this table on its own.
    pub ledger: Option<&'o Path>,
}

/// Names and LAs of schools, from the store when there is one.
pub fn places(store: &Store, partnerships: Option<&PathBuf>) -> anyhow::Result<Places> {
    let mut p = if store.table_path("schools").exists() {
        Places::from_schools(&crate::store::frame::schools_from_frame(
            &store.read("schools")?,
        )?)
    } else {
        Places::default()
    };
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
pub fn load(
    paths: &[PathBuf],
    allow_bad_rows: bool,
) -> anyhow::Result<(PupilData, Vec<IngestError>)> {
    Ok(read_pupils(paths, allow_bad_rows)?)
}

pub fn run(
    store: &Store,
    o: &PupilGapOptions,
) -> anyhow::Result<(Vec<PupilGapRow>, Vec<IngestError>, Vec<String>)> {
    let (data, warnings) = load(o.pupils, o.allow_bad_rows)?;
    let places = places(store, o.partnerships)?;
    let (rows, notes) = answer(&data, &places, o)?;
    Ok((rows, warnings, notes))
}

/// One question over pupil data already read.
pub fn answer(
    data: &PupilData,
    places: &Places,
    o: &PupilGapOptions,
) -> anyhow::Result<(Vec<PupilGapRow>, Vec<String>)> {
    let (mut tables, notes) = answer_all(data, places, std::slice::from_ref(o), o.ledger)?;
    Ok((tables.remove(0), notes))
}

/// Questions released together (a pipeline stage's), with disclosure control across all of
/// them and the ledger's earlier releases; what is released is added to the ledger.
/// Returns each question's rows and warnings about disclosures made earlier.
pub fn answer_all(
    data: &PupilData,
    places: &Places,
    opts: &[PupilGapOptions],
    ledger: Option<&Path>,
) -> anyhow::Result<(Vec<Vec<PupilGapRow>>, Vec<String>)> {
    let mut queries = Vec::new();
    // One set of prior-attainment means per run (the first given).
    let means = opts
        .iter()
        .find_map(|o| o.prior_means)
        .map(|p| PriorMeans::read(p, None))
        .transpose()?;
    for o in opts {
        let group = GroupSpec::parse(o.group)?;
        if let Some(la) = o.la {
            crate::commands::validate::pupil_la(la, &data.pupils, places)?;
        }
        if o.level == Level::Partnership && places.partnerships.is_empty() {
            anyhow::bail!(ConfigError::new(
                "--level",
                "partnership level needs --partnerships MAP.csv (urn,partnership)"
            ));
        }
        if o.measure.contains("progress") && o.prior_means.is_none() {
            anyhow::bail!(ConfigError::new(
                "--prior-means",
                format!(
                    "{} needs the national means of each KS1 \
                prior-attainment group: --prior-means FILE.csv",
                    o.measure
                )
            ));
        }
        let year =
            match o.year {
                Some(y) => y,
                None => data.pupils.iter().map(|p| p.year).max().ok_or_else(|| {
                    ConfigError::new("--pupils", "the pupil files hold no pupils")
                })?,
            };
        let years: Vec<i32> = (0..o.years.max(1) as i32).rev().map(|k| year - k).collect();
        queries.push(PupilQuery {
            measure: o.measure,
            group,
            level: o.level,
            years,
            only: o.only.clone(),
            la: o.la.map(str::to_string),
            threshold: o.threshold,
        });
    }
    let earlier = match ledger {
        Some(l) => crate::analysis::ledger::load(l)?,
        None => vec![],
    };
    let (tables, notes) = gap_tables(&data.pupils, &queries, means.as_ref(), places, &earlier)?;
    let mut out = Vec::new();
    for (o, mut rows) in opts.iter().zip(tables) {
        if let Some(n) = o.widest {
            rows = widest_running(rows, n);
        }
        out.push(rows);
    }
    if let Some(l) = ledger {
        let released: Vec<_> = out.iter().flat_map(|rows| released_by(rows)).collect();
        crate::analysis::ledger::record(l, &released)?;
    }
    Ok((out, notes))
}

/// JSON keeps withheld figures as null (with `status`); table and CSV print DfE's `c`.
pub fn print(rows: &[PupilGapRow], format: Format) -> String {
    if format == Format::Json {
        return crate::number::to_json_pretty(rows).unwrap_or_default() + "\n";
    }
    let cols = [
        "code",
        "name",
        "group",
        "cohort",
        "value",
        "comparison_cohort",
        "comparison_value",
        "gap",
        "significance",
        "trend",
        "status",
    ];
    let mut r = Report::new(&cols);
    for row in rows {
        let v = serde_json::to_value(row).unwrap_or(Value::Null);
        r.push(
            cols.iter()
                .map(|c| {
                    let x = v.get(*c).cloned().unwrap_or(Value::Null);
                    let figure = matches!(
                        *c,
                        "cohort" | "value" | "comparison_cohort" | "comparison_value" | "gap"
                    );
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
