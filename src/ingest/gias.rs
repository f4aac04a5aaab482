//! Get Information About Schools extracts: the authoritative description of each school.

use super::perf::find;
use super::table::Table;
use super::{setting_column, setting_values, IngestOptions, TableReport};
use crate::catalogue::Dataset;
use crate::dates::{academic_year_of, parse_date};
use crate::error::IngestError;
use crate::store::schema::{link_source, AreaRow, Batch, InspectionRow, Level, LinkRow, SchoolRow};

/// GIAS phase names to the store's phase vocabulary.
fn phase(name: &str) -> Option<String> {
    let p = match name.trim() {
        "Primary" | "Middle deemed primary" => "primary",
        "Secondary" | "Middle deemed secondary" => "secondary",
        "All-through" => "all_through",
        "Nursery" => "nursery",
        "16 plus" => "16_plus",
        "Not applicable" | "" => return None,
        other => return Some(other.to_ascii_lowercase()),
    };
    Some(p.to_string())
}

/// The links in one `Linked establishments` cell: (URN, link type) for each "URN Type" part.
/// "Does not have links" and parts without a URN give none.
fn links(cell: &str) -> Vec<(&str, &str)> {
    cell.split([',', ';', '|'])
        .filter_map(|part| {
            let part = part.trim();
            let end = part.find(|c: char| !c.is_ascii_digit())?;
            let (urn, kind) = part.split_at(end);
            let kind = kind.trim();
            (!urn.is_empty() && !kind.is_empty()).then_some((urn, kind))
        })
        .collect()
}

/// GIAS Ofsted rating names to the 1-4 scale.
fn grade(name: &str) -> Option<i32> {
    match name.trim() {
        "Outstanding" => Some(1),
        "Good" => Some(2),
        "Requires improvement" | "Satisfactory" => Some(3),
        "Inadequate" | "Serious Weaknesses" | "Special Measures" => Some(4),
        _ => None,
    }
}

pub fn read(
    t: &Table,
    ds: &Dataset,
    _opts: &IngestOptions,
) -> Result<(TableReport, Batch), IngestError> {
    let k = &ds.keys;
    let urn_col = find(t, &k.urn).ok_or_else(|| {
        IngestError::at(
            &t.path,
            t.header_line,
            Some("URN"),
            "key column missing".into(),
        )
    })?;
    let c = |key: &str| setting_column(t, ds, key);
    let (la, la_name, estab, name, stype) = (
        find(t, &k.la),
        find(t, &k.la_name),
        find(t, &k.estab),
        find(t, &k.name),
        find(t, &k.school_type),
    );
    let maintained_groups = setting_values(ds, "maintained_type_groups");
    let (type_group, ph, status, town, pc, lo, hi, rel, gender, trust, pupils, census, ofr, ofd) = (
        c("type_group"),
        c("phase"),
        c("status"),
        c("town"),
        c("postcode"),
        c("low_age"),
        c("high_age"),
        c("religious_character"),
        c("gender"),
        c("trust"),
        c("pupils"),
        c("census_date"),
        c("ofsted_rating"),
        c("ofsted_date"),
    );
    let address: Vec<usize> = ["Street", "Locality", "Address3"]
        .iter()
        .filter_map(|n| t.col(n))
        .collect();
    let source_file = super::display_path(&t.path);
    let mut batch = Batch::default();
    let mut report = TableReport {
        year_from: "content (CensusDate)".into(),
        version: "current".into(),
        ..Default::default()
    };
    let mut latest_year = 0;
    let mut las = std::collections::BTreeMap::new();
    for row in &t.rows {
        let get = |i: Option<usize>| {
            i.map(|i| row.get(i).trim().to_string())
                .filter(|s| !s.is_empty() && s != "Not applicable")
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
        let year = census
            .and_then(|i| parse_date(row.get(i)))
            .map(academic_year_of)
            .unwrap_or(0);
        latest_year = latest_year.max(year);
        let (opened, closed) = (
            c("open_date").and_then(|i| parse_date(row.get(i))),
            c("close_date").and_then(|i| parse_date(row.get(i))),
        );
        for (linked, kind) in c("links").map(|i| links(row.get(i))).unwrap_or_default() {
            // A predecessor link took effect when this school opened; a successor link when it closed.
            let link_date = if kind.starts_with("Predecessor") {
                opened
            } else if kind.starts_with("Successor") {
                closed
            } else {
                None
            };
            batch.links.push(LinkRow {
                urn: urn.to_string(),
                linked_urn: linked.to_string(),
                link_type: kind.to_string(),
                link_date,
                source: link_source::GIAS,
                source_file: source_file.clone(),
                source_row: row.line,
            });
        }
        let group = get(type_group);
        if let (Some(code), Some(n)) = (get(la), get(la_name)) {
            las.insert(code, n);
        }
        *report.rows_by_record.entry("school".into()).or_default() += 1;
        batch.schools.push(SchoolRow {
            urn: urn.to_string(),
            name: get(name),
            la_code: get(la),
            la_name: get(la_name),
            estab: get(estab),
            phase: ph.and_then(|i| phase(row.get(i))),
            school_type: get(stype),
            school_type_code: None,
            la_maintained: group
                .as_ref()
                .map(|g| maintained_groups.iter().any(|m| m == g)),
            status: get(status),
            town: get(town),
            postcode: get(pc),
            low_age: lo.and_then(|i| row.get(i).trim().parse().ok()),
            high_age: hi.and_then(|i| row.get(i).trim().parse().ok()),
            religious_character: get(rel),
            gender: get(gender),
            trust: get(trust),
            pupils: pupils.and_then(|i| row.get(i).trim().parse().ok()),
            address: Some(
                address
                    .iter()
                    .filter_map(|&i| get(Some(i)))
                    .collect::<Vec<_>>()
                    .join(", "),
            )
            .filter(|a| !a.is_empty()),
            open_date: opened,
            close_date: closed,
            admissions_policy: get(c("admissions_policy")),
            as_of_year: year,
            precedence: 3,
            source_file: source_file.clone(),
        });
        if let (Some(g), Some(d)) = (
            ofr.and_then(|i| grade(row.get(i))),
            ofd.and_then(|i| parse_date(row.get(i))),
        ) {
            batch.inspections.push(InspectionRow {
                urn: urn.to_string(),
                la_code: get(la),
                framework: crate::store::schema::framework::OEIF,
                inspection_type: None,
                inspection_date: Some(d),
                publication_date: None,
                overall_effectiveness: Some(g),
                outcome: super::ofsted::oeif_words(g).map(str::to_string),
                ofsted_phase: None,
                pupils: None,
                source_file: source_file.clone(),
                source_row: row.line,
            });
        }
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
    report.year = (latest_year > 0).then_some(latest_year);
    report.mapped_columns = [urn_col]
        .iter()
        .chain(
            [la, la_name, estab, name, stype, type_group, ph, status]
                .iter()
                .flatten(),
        )
        .map(|&i| t.headers[i].clone())
        .collect();
    Ok((report, batch))
}

#[cfg(test)]
mod tests {
    #[test]
    fn linked_establishments_cells() {
        assert_eq!(
            super::links("115864 Predecessor"),
            [("115864", "Predecessor")]
        );
        assert_eq!(
            super::links("148469 Successor - amalgamated, 116237 Merged - change in age range"),
            [
                ("148469", "Successor - amalgamated"),
                ("116237", "Merged - change in age range")
            ]
        );
        assert!(super::links("Does not have links").is_empty());
        assert!(super::links("").is_empty());
    }
}
