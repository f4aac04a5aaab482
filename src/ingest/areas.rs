//! LA and region code lists.

use super::perf::find;
use super::table::Table;
use super::{IngestOptions, TableReport};
use crate::catalogue::Dataset;
use crate::error::IngestError;
use crate::store::schema::{AreaRow, Batch, Level};

pub fn read(
    t: &Table,
    ds: &Dataset,
    _opts: &IngestOptions,
) -> Result<(TableReport, Batch), IngestError> {
    let k = &ds.keys;
    let la = find(t, &k.la).ok_or_else(|| {
        IngestError::at(
            &t.path,
            t.header_line,
            Some("LEA"),
            "key column missing".into(),
        )
    })?;
    let name = find(t, &k.la_name).ok_or_else(|| {
        IngestError::at(
            &t.path,
            t.header_line,
            Some("LA Name"),
            "key column missing".into(),
        )
    })?;
    let (region, region_name) = (find(t, &k.region), find(t, &k.region_name));
    let source_file = super::display_path(&t.path);
    let mut batch = Batch::default();
    let mut report = TableReport {
        year_from: "not applicable (code list)".into(),
        version: "unknown".into(),
        ..Default::default()
    };
    for row in &t.rows {
        let code = row.get(la).trim();
        if code.is_empty() {
            continue;
        }
        if !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(IngestError::at(
                &t.path,
                row.line,
                Some(&t.headers[la]),
                format!("{code:?} is not an LA code"),
            ));
        }
        *report.rows_by_record.entry("la".into()).or_default() += 1;
        let get = |c: Option<usize>| {
            c.map(|i| row.get(i).trim().to_string())
                .filter(|s| !s.is_empty())
        };
        batch.areas.push(AreaRow {
            level: Level::La,
            code: code.to_string(),
            name: row.get(name).trim().to_string(),
            new_code: None,
            region_code: get(region),
            region_name: get(region_name),
            source_file: source_file.clone(),
        });
    }
    report.mapped_columns = [Some(la), Some(name), region, region_name]
        .iter()
        .flatten()
        .map(|&i| t.headers[i].clone())
        .collect();
    Ok((report, batch))
}
