//! DfE statistical neighbour lists, in any of their layouts (see catalogue/datasets/neighbours.toml).

use super::table::Table;
use super::{IngestOptions, TableReport};
use crate::catalogue::Dataset;
use crate::error::IngestError;
use crate::store::schema::{AreaRow, Batch, Level, NeighbourRow};

fn list(ds: &Dataset, key: &str) -> Vec<String> {
    ds.settings
        .get(key)
        .and_then(|v| v.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// "Very Close", "Close " and "very close" are the same band.
fn closeness(s: &str) -> Option<String> {
    let t = s
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_ascii_lowercase();
    (!t.is_empty()).then_some(t)
}

/// The model year in a file name ("sn_april_2021.xlsx"): the lists' content does not say
/// which model they are (LAIT's copies of both carry the 2023 Cumbria split).
fn model_in_name(path: &std::path::Path) -> Option<i32> {
    let stem = path.file_stem()?.to_string_lossy().to_string();
    let b = stem.as_bytes();
    let mut years = std::collections::BTreeSet::new();
    for i in 0..b.len().saturating_sub(3) {
        let boundary = |j: usize| j >= b.len() || !b[j].is_ascii_digit();
        if (i == 0 || !b[i - 1].is_ascii_digit())
            && boundary(i + 4)
            && b[i..i + 4].iter().all(u8::is_ascii_digit)
            && b[i] == b'2'
            && b[i + 1] == b'0'
        {
            years.insert(stem[i..i + 4].parse::<i32>().ok()?);
        }
    }
    (years.len() == 1).then(|| *years.iter().next().unwrap())
}

pub fn read(
    t: &Table,
    ds: &Dataset,
    opts: &IngestOptions,
) -> Result<(TableReport, Batch), IngestError> {
    let la_col = t.col_any(&list(ds, "la_code")).ok_or_else(|| {
        IngestError::at(
            &t.path,
            t.header_line,
            Some("LA num"),
            "key column missing".into(),
        )
    })?;
    let name_col = t.col_any(&list(ds, "la_name"));
    let npat = list(ds, "neighbour");
    let cpat = list(ds, "closeness");
    // Neighbour n and its closeness: by name (SN_3 / SN_3P), or, where the header repeats
    // "SNP", the column right after SNn.
    let mut slots = Vec::new();
    for n in 1..=10 {
        let names: Vec<String> = npat
            .iter()
            .map(|p| p.replace("{n}", &n.to_string()))
            .collect();
        let Some(nc) = t.col_any(&names) else {
            return Err(IngestError::at(
                &t.path,
                t.header_line,
                Some(&names[0]),
                "neighbour column missing".into(),
            ));
        };
        let cnames: Vec<String> = cpat
            .iter()
            .map(|p| p.replace("{n}", &n.to_string()))
            .collect();
        let cc = t.col_any(&cnames).or_else(|| {
            (nc + 1 < t.headers.len() && t.headers[nc + 1].eq_ignore_ascii_case("SNP"))
                .then_some(nc + 1)
        });
        slots.push((n, nc, cc));
    }
    let codes: Vec<String> = t
        .rows
        .iter()
        .map(|r| r.get(la_col).trim().to_string())
        .collect();
    let named = model_in_name(&t.path);
    let model = match opts.year.or(named) {
        Some(y) => y,
        None => {
            let rules = ds
                .settings
                .get("model_rules")
                .and_then(|v| v.as_array())
                .cloned()
                .unwrap_or_default();
            let mut found = None;
            for r in rules {
                let Some(pair) = r.as_array() else { continue };
                let (Some(year), Some(code)) = (
                    pair.first().and_then(|v| v.as_integer()),
                    pair.get(1).and_then(|v| v.as_str()),
                ) else {
                    continue;
                };
                if code.is_empty() || codes.iter().any(|c| c == code) {
                    found = Some(year as i32);
                    break;
                }
            }
            found.ok_or_else(|| {
                IngestError::at_file(
                    &t.path,
                    "cannot tell which neighbour model this is: pass --year 2021 or --year 2025",
                )
            })?
        }
    };
    let source_file = super::display_path(&t.path);
    let mut batch = Batch::default();
    let mut report = TableReport {
        year: Some(model),
        year_from: if opts.year.is_some() {
            "--year".into()
        } else if named.is_some() {
            "file name (model year)".into()
        } else {
            "content (LA codes present)".into()
        },
        version: "unknown".into(),
        ..Default::default()
    };
    for row in &t.rows {
        let la = row.get(la_col).trim();
        if la.is_empty() {
            continue;
        }
        if !la.bytes().all(|b| b.is_ascii_digit()) {
            return Err(IngestError::at(
                &t.path,
                row.line,
                Some(&t.headers[la_col]),
                format!("{la:?} is not an LA code"),
            ));
        }
        let la_name = name_col
            .map(|c| row.get(c).trim().to_string())
            .filter(|s| !s.is_empty());
        if let Some(name) = &la_name {
            batch.areas.push(AreaRow {
                level: Level::La,
                code: la.to_string(),
                name: name.clone(),
                new_code: None,
                region_code: None,
                region_name: None,
                source_file: source_file.clone(),
            });
        }
        *report.rows_by_record.entry("la".into()).or_default() += 1;
        for &(n, nc, cc) in &slots {
            let code = row.get(nc).trim();
            // Some LAs have fewer than ten neighbours ("-" in LAIT's copy for the Isles of Scilly).
            if code.is_empty()
                || crate::value::parse_cell(code)
                    .map(|c| c.value.is_none())
                    .unwrap_or(false)
            {
                continue;
            }
            if !code.bytes().all(|b| b.is_ascii_digit()) {
                return Err(IngestError::at(
                    &t.path,
                    row.line,
                    Some(&t.headers[nc]),
                    format!("{code:?} is not an LA code"),
                ));
            }
            batch.neighbours.push(NeighbourRow {
                model,
                la_code: la.to_string(),
                la_name: la_name.clone(),
                position: n,
                neighbour_code: code.to_string(),
                closeness: cc.and_then(|c| closeness(row.get(c))),
                source_file: source_file.clone(),
            });
        }
    }
    report.mapped_columns = slots
        .iter()
        .map(|(_, nc, _)| t.headers[*nc].clone())
        .collect();
    Ok((report, batch))
}
