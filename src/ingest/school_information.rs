//! The performance tables' school information file (and the older spine): one row per
//! establishment, open or closed, describing it. It adds no results, only `schools` rows,
//! ranked between the performance tables and Get Information About Schools.

use super::perf::find;
use super::table::{Row, Table};
use super::{
    resolve_year, setting_column, setting_columns, setting_values, IngestOptions, TableReport,
};
use crate::catalogue::Dataset;
use crate::dates::parse_date;
use crate::error::IngestError;
use crate::store::schema::{AreaRow, Batch, Level, SchoolRow};

/// Where a descriptive field of this file stands against other sources (GIAS 3, performance tables 1).
pub const PRECEDENCE: u8 = 2;

/// The phase the ISPRIMARY / ISSECONDARY / ISPOST16 flags describe.
fn phase_of(primary: bool, secondary: bool, post16: bool) -> Option<&'static str> {
    match (primary, secondary, post16) {
        (true, true, _) => Some("all_through"),
        (true, false, _) => Some("primary"),
        (false, true, _) => Some("secondary"),
        (false, false, true) => Some("16_plus"),
        (false, false, false) => None,
    }
}

pub fn read(
    t: &Table,
    ds: &Dataset,
    opts: &IngestOptions,
) -> Result<(TableReport, Batch), IngestError> {
    let (year, year_from) = resolve_year(t, ds, opts, None)?;
    let k = &ds.keys;
    let urn_col = find(t, &k.urn).ok_or_else(|| {
        IngestError::at(
            &t.path,
            t.header_line,
            Some("URN"),
            "key column missing".into(),
        )
    })?;
    let first = |key: &str| setting_column(t, ds, key);
    let (la, la_name, estab, name, stype) = (
        find(t, &k.la),
        find(t, &k.la_name),
        find(t, &k.estab),
        find(t, &k.name),
        find(t, &k.school_type),
    );
    let address = setting_columns(t, ds, "address");
    let (town, postcode, status, closed_flag) = (
        first("town"),
        first("postcode"),
        first("status"),
        first("closed_flag"),
    );
    let (open_date, close_date, type_group) =
        (first("open_date"), first("close_date"), first("type_group"));
    let (is_primary, is_secondary, is_post16) = (
        first("is_primary"),
        first("is_secondary"),
        first("is_post16"),
    );
    let (low_age, high_age, gender, religion, admissions) = (
        first("low_age"),
        first("high_age"),
        first("gender"),
        first("religious_character"),
        first("admissions_policy"),
    );
    let maintained_groups = setting_values(ds, "maintained_type_groups");
    let other_groups = setting_values(ds, "not_maintained_type_groups");

    let source_file = super::display_path(&t.path);
    let mut batch = Batch::default();
    let mut report = TableReport {
        year: Some(year),
        year_from,
        version: "current".into(),
        ..Default::default()
    };
    let mut las = std::collections::BTreeMap::new();
    for row in &t.rows {
        let text = |c: Option<usize>| {
            c.map(|i| row.get(i).trim().to_string())
                .filter(|s| !s.is_empty() && s != "NA" && s != "Not applicable")
        };
        let urn = row.get(urn_col).trim();
        if urn.is_empty() || !urn.bytes().all(|b| b.is_ascii_digit()) {
            return Err(IngestError::at(
                &t.path,
                row.line,
                Some(&t.headers[urn_col]),
                format!("{urn:?} is not a URN"),
            ));
        }
        let date = |c: Option<usize>| -> Result<Option<i64>, IngestError> {
            let Some(raw) = text(c) else { return Ok(None) };
            parse_date(&raw).map(Some).ok_or_else(|| {
                IngestError::at(
                    &t.path,
                    row.line,
                    c.map(|i| t.headers[i].as_str()),
                    format!("{raw:?} is not a date"),
                )
            })
        };
        // 99 is the files' "no upper age" (further education colleges).
        let age = |c: Option<usize>| -> Result<Option<i32>, IngestError> {
            let Some(raw) = text(c) else { return Ok(None) };
            raw.parse::<i32>()
                .ok()
                .filter(|a| (0..=99).contains(a))
                .map(Some)
                .ok_or_else(|| {
                    IngestError::at(
                        &t.path,
                        row.line,
                        c.map(|i| t.headers[i].as_str()),
                        format!("{raw:?} is not an age"),
                    )
                })
        };
        let flag = |c: Option<usize>| -> Result<bool, IngestError> { flag_value(t, row, c) };
        let school_type = text(stype);
        let group = text(type_group);
        let la_maintained = match &group {
            Some(g) if maintained_groups.iter().any(|m| m.eq_ignore_ascii_case(g)) => Some(true),
            Some(g) if other_groups.iter().any(|m| m.eq_ignore_ascii_case(g)) => Some(false),
            _ => school_type
                .as_deref()
                .and_then(|s| opts.catalogue.school_types.la_maintained(s)),
        };
        let status = text(status).or(match flag(closed_flag)? {
            true => Some("Closed".to_string()),
            false if closed_flag.is_some() => Some("Open".to_string()),
            false => None,
        });
        let parts: Vec<String> = address.iter().filter_map(|&c| text(Some(c))).collect();
        if let (Some(code), Some(n)) = (text(la), text(la_name)) {
            las.insert(code, n);
        }
        *report.rows_by_record.entry("school".into()).or_default() += 1;
        batch.schools.push(SchoolRow {
            urn: urn.to_string(),
            name: text(name),
            la_code: text(la),
            la_name: text(la_name),
            estab: text(estab),
            phase: phase_of(flag(is_primary)?, flag(is_secondary)?, flag(is_post16)?)
                .map(str::to_string),
            school_type,
            la_maintained,
            status,
            address: (!parts.is_empty()).then(|| parts.join(", ")),
            town: text(town),
            postcode: text(postcode),
            open_date: date(open_date)?,
            close_date: date(close_date)?,
            low_age: age(low_age)?,
            high_age: age(high_age)?,
            religious_character: text(religion),
            gender: text(gender),
            admissions_policy: text(admissions),
            as_of_year: year,
            precedence: PRECEDENCE,
            source_file: source_file.clone(),
            ..Default::default()
        });
    }
    for (code, name) in las {
        batch.areas.push(AreaRow {
            level: Level::La,
            code,
            name,
            new_code: None,
            region_code: None,
            region_name: None,
            source_file: source_file.clone(),
        });
    }
    let used = [
        Some(urn_col),
        la,
        la_name,
        estab,
        name,
        stype,
        town,
        postcode,
        status,
        closed_flag,
        open_date,
        close_date,
        type_group,
        is_primary,
        is_secondary,
        is_post16,
        low_age,
        high_age,
        gender,
        religion,
        admissions,
    ];
    report.mapped_columns = used
        .iter()
        .flatten()
        .chain(address.iter())
        .map(|&i| t.headers[i].clone())
        .collect();
    report.unmapped_columns = t
        .headers
        .iter()
        .filter(|h| !h.is_empty() && !report.mapped_columns.contains(h))
        .cloned()
        .collect();
    Ok((report, batch))
}

/// A 0/1 flag; blank is "no". Anything else is an error naming the cell.
fn flag_value(t: &Table, row: &Row, c: Option<usize>) -> Result<bool, IngestError> {
    let Some(i) = c else { return Ok(false) };
    match row.get(i).trim() {
        "1" => Ok(true),
        "0" | "" => Ok(false),
        other => Err(IngestError::at(
            &t.path,
            row.line,
            Some(&t.headers[i]),
            format!("{other:?} is not a 0/1 flag"),
        )),
    }
}
