//! The store's label tables, for BI tools (DuckDB, Power BI, pandas): one row per measure,
//! pupil group, area and school type, with the names people read, so that a query can join
//! `results` to words without the catalogue. Rebuilt whole on every ingest from the catalogue
//! the files were read with and from what the data itself names (LAIT's dictionary, the areas
//! and schools tables): a code the catalogue does not know still gets a row.

use std::collections::BTreeMap;

use crate::catalogue::{Catalogue, SchoolTypes};
use crate::store::schema::{AreaRow, Level, MeasureMetaRow, SchoolRow, ENGLAND};

/// Where a label came from when the catalogue gave it.
pub const FROM_CATALOGUE: &str = "catalogue";

/// A row of `measure_labels`.
#[derive(Debug, Clone, PartialEq)]
pub struct MeasureLabel {
    pub measure: String,
    pub label: String,
    pub description: String,
    pub unit: Option<String>,
    pub dps: Option<i32>,
    pub polarity: Option<String>,
    pub key_stage: Option<String>,
    pub headline: bool,
    /// `catalogue`, the dictionary file it was read from, or `results` (an id only).
    pub source: String,
}

/// A row of `group_labels`.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupLabel {
    pub pupil_group: String,
    pub label: String,
    pub description: String,
    pub complement: Option<String>,
}

/// A row of `area_labels`: one per level and code.
#[derive(Debug, Clone, PartialEq)]
pub struct AreaLabel {
    pub level: String,
    pub code: String,
    pub name: String,
    pub region_code: Option<String>,
    pub region_name: Option<String>,
}

/// A row of `school_type_labels`.
#[derive(Debug, Clone, PartialEq)]
pub struct SchoolTypeLabel {
    pub school_type_code: Option<String>,
    pub school_type: String,
    /// `maintained`, `academy`, `independent`, or none where the catalogue does not say.
    pub category: Option<String>,
    pub la_maintained: Option<bool>,
    pub special: bool,
}

/// Every label table's rows.
#[derive(Debug, Clone, Default)]
pub struct Labels {
    pub measures: Vec<MeasureLabel>,
    pub groups: Vec<GroupLabel>,
    pub areas: Vec<AreaLabel>,
    pub school_types: Vec<SchoolTypeLabel>,
}

/// What the data names, beside the catalogue.
pub struct Seen<'a> {
    /// Measure ids and group ids in `results`.
    pub measures: &'a [String],
    pub groups: &'a [String],
    pub dictionary: &'a [MeasureMetaRow],
    pub areas: &'a [AreaRow],
    pub schools: &'a [SchoolRow],
}

pub fn labels(cat: &Catalogue, seen: &Seen) -> Result<Labels, crate::error::StoreError> {
    Ok(Labels {
        measures: measure_labels(cat, seen),
        groups: group_labels(cat, seen.groups),
        areas: area_labels(seen.areas, seen.schools),
        school_types: school_type_labels(&cat.school_types, seen.schools),
    })
}

fn measure_labels(cat: &Catalogue, seen: &Seen) -> Vec<MeasureLabel> {
    let mut out: BTreeMap<String, MeasureLabel> = BTreeMap::new();
    for m in &cat.measures {
        out.insert(
            m.id.clone(),
            MeasureLabel {
                measure: m.id.clone(),
                label: m.short_label().to_string(),
                description: m.description.clone(),
                unit: Some(m.unit.clone()),
                dps: Some(m.dps as i32),
                polarity: Some(m.polarity.clone()),
                key_stage: Some(m.key_stage.clone()),
                headline: m.headline,
                source: FROM_CATALOGUE.into(),
            },
        );
    }
    for d in seen.dictionary {
        out.entry(d.measure.clone())
            .or_insert_with(|| MeasureLabel {
                measure: d.measure.clone(),
                // LAIT's ids are `lait:<Short Desc>`: the short description is its label.
                label: d
                    .measure
                    .strip_prefix("lait:")
                    .unwrap_or(&d.measure)
                    .to_string(),
                description: d.description.clone(),
                unit: None,
                dps: d.dps,
                polarity: d.polarity.clone(),
                key_stage: Some("lait".into()),
                headline: false,
                source: d.source_file.clone(),
            });
    }
    for m in seen.measures {
        out.entry(m.clone()).or_insert_with(|| MeasureLabel {
            measure: m.clone(),
            label: m.clone(),
            description: String::new(),
            unit: None,
            dps: None,
            polarity: None,
            key_stage: None,
            headline: false,
            source: "results".into(),
        });
    }
    out.into_values().collect()
}

fn group_labels(cat: &Catalogue, seen: &[String]) -> Vec<GroupLabel> {
    let mut out: BTreeMap<String, GroupLabel> = cat
        .groups
        .iter()
        .map(|g| {
            (
                g.id.clone(),
                GroupLabel {
                    pupil_group: g.id.clone(),
                    label: g.label.clone(),
                    description: g.description.clone(),
                    complement: g.complement.clone(),
                },
            )
        })
        .collect();
    for g in seen {
        out.entry(g.clone()).or_insert_with(|| GroupLabel {
            pupil_group: g.clone(),
            label: g.clone(),
            description: String::new(),
            complement: None,
        });
    }
    out.into_values().collect()
}

/// One row per area: the first name and region any source gives (sources that name a region
/// first), LAs known only from the schools table, and England.
fn area_labels(areas: &[AreaRow], schools: &[SchoolRow]) -> Vec<AreaLabel> {
    let mut sorted: Vec<&AreaRow> = areas.iter().collect();
    sorted.sort_by(|a, b| {
        (a.level, &a.code, a.region_name.is_none(), &a.source_file).cmp(&(
            b.level,
            &b.code,
            b.region_name.is_none(),
            &b.source_file,
        ))
    });
    let mut out: BTreeMap<(Level, String), AreaLabel> = BTreeMap::new();
    for a in sorted {
        let e = out
            .entry((a.level, a.code.clone()))
            .or_insert_with(|| AreaLabel {
                level: a.level.as_str().into(),
                code: a.code.clone(),
                name: a.name.clone(),
                region_code: None,
                region_name: None,
            });
        if e.region_code.is_none() {
            e.region_code = a.region_code.clone();
        }
        if e.region_name.is_none() {
            e.region_name = a.region_name.clone();
        }
    }
    for s in schools {
        if let (Some(code), Some(name)) = (&s.la_code, &s.la_name) {
            out.entry((Level::La, code.clone()))
                .or_insert_with(|| AreaLabel {
                    level: Level::La.as_str().into(),
                    code: code.clone(),
                    name: name.clone(),
                    region_code: None,
                    region_name: None,
                });
        }
    }
    out.entry((Level::National, ENGLAND.into()))
        .or_insert_with(|| AreaLabel {
            level: Level::National.as_str().into(),
            code: ENGLAND.into(),
            name: "England".into(),
            region_code: None,
            region_name: None,
        });
    out.into_values().collect()
}

fn school_type_labels(types: &SchoolTypes, schools: &[SchoolRow]) -> Vec<SchoolTypeLabel> {
    let mut out: BTreeMap<(String, Option<String>), SchoolTypeLabel> = BTreeMap::new();
    let codes = types
        .maintained
        .iter()
        .chain(&types.academy)
        .chain(&types.independent)
        .chain(types.names.keys());
    let pairs = codes
        .map(|c| types.name_and_code(c))
        .chain(schools.iter().filter_map(|s| {
            s.school_type
                .as_ref()
                .map(|t| (t.clone(), s.school_type_code.clone()))
        }));
    for (name, code) in pairs {
        let key = code.clone().unwrap_or_else(|| name.clone());
        out.entry((key, code.clone()))
            .or_insert_with(|| SchoolTypeLabel {
                category: types.category(code.as_deref().unwrap_or(&name)),
                la_maintained: types.la_maintained(code.as_deref().unwrap_or(&name)),
                special: types.is_special(code.as_deref().unwrap_or(&name)),
                school_type_code: code,
                school_type: name,
            });
    }
    out.into_values().collect()
}

/// A school's type as a name, with its code beside it (GIAS gives names, the performance
/// tables codes: `ACC` becomes "Academy (converter)" with code `ACC`).
pub fn name_school_type(row: &mut SchoolRow, types: &SchoolTypes) {
    if let Some(t) = row.school_type.take() {
        let (name, code) = types.name_and_code(&t);
        row.school_type = Some(name);
        if row.school_type_code.is_none() {
            row.school_type_code = code;
        }
    }
}
