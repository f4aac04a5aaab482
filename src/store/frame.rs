//! Every polars call in attain lives here, so that a polars upgrade touches one file.
//! Row structs (schema.rs) go in and out of DataFrames; tables are read lazily.

use std::path::Path;

use polars::prelude::*;

use super::schema::*;
use crate::error::StoreError;

pub use polars::prelude::{col, lit, DataFrame, Expr, LazyFrame};

fn s(name: &str) -> PlSmallStr {
    name.into()
}

fn opt_str<T: AsRef<str>>(v: &Option<T>) -> Option<&str> {
    v.as_ref().map(|x| x.as_ref())
}

pub fn results_frame(rows: &[ResultRow]) -> Result<DataFrame, StoreError> {
    let cols = vec![
        Column::new(s("year"), rows.iter().map(|r| r.year).collect::<Vec<i32>>()),
        Column::new(
            s("level"),
            rows.iter().map(|r| r.level.as_str()).collect::<Vec<&str>>(),
        ),
        Column::new(
            s("code"),
            rows.iter().map(|r| r.code.as_str()).collect::<Vec<&str>>(),
        ),
        Column::new(
            s("la_code"),
            rows.iter()
                .map(|r| opt_str(&r.la_code))
                .collect::<Vec<Option<&str>>>(),
        ),
        Column::new(
            s("scope"),
            rows.iter().map(|r| r.scope).collect::<Vec<&str>>(),
        ),
        Column::new(
            s("phase"),
            rows.iter().map(|r| r.phase).collect::<Vec<&str>>(),
        ),
        Column::new(
            s("key_stage"),
            rows.iter().map(|r| &*r.key_stage).collect::<Vec<&str>>(),
        ),
        Column::new(
            s("measure"),
            rows.iter().map(|r| &*r.measure).collect::<Vec<&str>>(),
        ),
        // `pupil_group`, not `group`: a reserved word in SQL (DuckDB, Power BI's queries).
        Column::new(
            s(PUPIL_GROUP),
            rows.iter().map(|r| &*r.group).collect::<Vec<&str>>(),
        ),
        Column::new(
            s("value"),
            rows.iter().map(|r| r.value).collect::<Vec<Option<f64>>>(),
        ),
        Column::new(
            s("cohort"),
            rows.iter().map(|r| r.cohort).collect::<Vec<Option<f64>>>(),
        ),
        Column::new(
            s("numerator"),
            rows.iter()
                .map(|r| r.numerator)
                .collect::<Vec<Option<f64>>>(),
        ),
        Column::new(
            s("ci_low"),
            rows.iter().map(|r| r.ci_low).collect::<Vec<Option<f64>>>(),
        ),
        Column::new(
            s("ci_high"),
            rows.iter().map(|r| r.ci_high).collect::<Vec<Option<f64>>>(),
        ),
        Column::new(
            s("status"),
            rows.iter().map(|r| r.status.token()).collect::<Vec<&str>>(),
        ),
        Column::new(
            s("version"),
            rows.iter().map(|r| &*r.version).collect::<Vec<&str>>(),
        ),
        Column::new(
            s("dataset"),
            rows.iter().map(|r| &*r.dataset).collect::<Vec<&str>>(),
        ),
        Column::new(
            s("source_column"),
            rows.iter()
                .map(|r| &*r.source_column)
                .collect::<Vec<&str>>(),
        ),
        Column::new(
            s("source_file"),
            rows.iter().map(|r| &*r.source_file).collect::<Vec<&str>>(),
        ),
        Column::new(
            s("source_row"),
            rows.iter().map(|r| r.source_row).collect::<Vec<u64>>(),
        ),
    ];
    Ok(DataFrame::new_infer_height(cols)?)
}

pub fn schools_frame(rows: &[SchoolRow]) -> Result<DataFrame, StoreError> {
    let cols = vec![
        Column::new(
            s("urn"),
            rows.iter().map(|r| r.urn.as_str()).collect::<Vec<&str>>(),
        ),
        Column::new(
            s("name"),
            rows.iter().map(|r| opt_str(&r.name)).collect::<Vec<_>>(),
        ),
        Column::new(
            s("la_code"),
            rows.iter().map(|r| opt_str(&r.la_code)).collect::<Vec<_>>(),
        ),
        Column::new(
            s("la_name"),
            rows.iter().map(|r| opt_str(&r.la_name)).collect::<Vec<_>>(),
        ),
        Column::new(
            s("estab"),
            rows.iter().map(|r| opt_str(&r.estab)).collect::<Vec<_>>(),
        ),
        Column::new(
            s("phase"),
            rows.iter().map(|r| opt_str(&r.phase)).collect::<Vec<_>>(),
        ),
        Column::new(
            s("school_type"),
            rows.iter()
                .map(|r| opt_str(&r.school_type))
                .collect::<Vec<_>>(),
        ),
        Column::new(
            s("school_type_code"),
            rows.iter()
                .map(|r| opt_str(&r.school_type_code))
                .collect::<Vec<_>>(),
        ),
        Column::new(
            s("la_maintained"),
            rows.iter()
                .map(|r| r.la_maintained)
                .collect::<Vec<Option<bool>>>(),
        ),
        Column::new(
            s("status"),
            rows.iter().map(|r| opt_str(&r.status)).collect::<Vec<_>>(),
        ),
        Column::new(
            s("address"),
            rows.iter().map(|r| opt_str(&r.address)).collect::<Vec<_>>(),
        ),
        Column::new(
            s("town"),
            rows.iter().map(|r| opt_str(&r.town)).collect::<Vec<_>>(),
        ),
        Column::new(
            s("postcode"),
            rows.iter()
                .map(|r| opt_str(&r.postcode))
                .collect::<Vec<_>>(),
        ),
        Column::new(
            s("low_age"),
            rows.iter().map(|r| r.low_age).collect::<Vec<Option<i32>>>(),
        ),
        Column::new(
            s("high_age"),
            rows.iter()
                .map(|r| r.high_age)
                .collect::<Vec<Option<i32>>>(),
        ),
        Column::new(
            s("open_date"),
            rows.iter()
                .map(|r| r.open_date.map(|d| d as i32))
                .collect::<Vec<Option<i32>>>(),
        )
        .cast(&DataType::Date)?,
        Column::new(
            s("close_date"),
            rows.iter()
                .map(|r| r.close_date.map(|d| d as i32))
                .collect::<Vec<Option<i32>>>(),
        )
        .cast(&DataType::Date)?,
        Column::new(
            s("religious_character"),
            rows.iter()
                .map(|r| opt_str(&r.religious_character))
                .collect::<Vec<_>>(),
        ),
        Column::new(
            s("gender"),
            rows.iter().map(|r| opt_str(&r.gender)).collect::<Vec<_>>(),
        ),
        Column::new(
            s("admissions_policy"),
            rows.iter()
                .map(|r| opt_str(&r.admissions_policy))
                .collect::<Vec<_>>(),
        ),
        Column::new(
            s("trust"),
            rows.iter().map(|r| opt_str(&r.trust)).collect::<Vec<_>>(),
        ),
        Column::new(
            s("pupils"),
            rows.iter().map(|r| r.pupils).collect::<Vec<Option<f64>>>(),
        ),
        Column::new(
            s("as_of_year"),
            rows.iter().map(|r| r.as_of_year).collect::<Vec<i32>>(),
        ),
        Column::new(
            s("precedence"),
            rows.iter()
                .map(|r| r.precedence as i32)
                .collect::<Vec<i32>>(),
        ),
        Column::new(
            s("source_file"),
            rows.iter()
                .map(|r| r.source_file.as_str())
                .collect::<Vec<&str>>(),
        ),
    ];
    Ok(DataFrame::new_infer_height(cols)?)
}

pub fn schools_from_frame(df: &DataFrame) -> Result<Vec<SchoolRow>, StoreError> {
    let st = |n: &str| -> Result<Vec<Option<String>>, StoreError> {
        Ok(df
            .column(n)?
            .str()?
            .iter()
            .map(|o| o.map(str::to_string))
            .collect())
    };
    let urn = st("urn")?;
    let (name, la_code, la_name, estab, phase, school_type) = (
        st("name")?,
        st("la_code")?,
        st("la_name")?,
        st("estab")?,
        st("phase")?,
        st("school_type")?,
    );
    let (status, town, postcode, relig, gender, trust, source) = (
        st("status")?,
        st("town")?,
        st("postcode")?,
        st("religious_character")?,
        st("gender")?,
        st("trust")?,
        st("source_file")?,
    );
    // Columns added since a store was first written read as empty from an older store.
    let (address, admissions, open_date, close_date, type_code) = (
        opt_str_col(df, "address")?,
        opt_str_col(df, "admissions_policy")?,
        days_col(df, "open_date")?,
        days_col(df, "close_date")?,
        opt_str_col(df, "school_type_code")?,
    );
    let maintained: Vec<Option<bool>> = df.column("la_maintained")?.bool()?.iter().collect();
    let low: Vec<Option<i32>> = df.column("low_age")?.i32()?.iter().collect();
    let high: Vec<Option<i32>> = df.column("high_age")?.i32()?.iter().collect();
    let pupils: Vec<Option<f64>> = df.column("pupils")?.f64()?.iter().collect();
    let as_of: Vec<Option<i32>> = df.column("as_of_year")?.i32()?.iter().collect();
    let prec: Vec<Option<i32>> = df.column("precedence")?.i32()?.iter().collect();
    let mut out = Vec::with_capacity(df.height());
    for i in 0..df.height() {
        out.push(SchoolRow {
            urn: urn[i].clone().unwrap_or_default(),
            name: name[i].clone(),
            la_code: la_code[i].clone(),
            la_name: la_name[i].clone(),
            estab: estab[i].clone(),
            phase: phase[i].clone(),
            school_type: school_type[i].clone(),
            school_type_code: type_code[i].clone(),
            la_maintained: maintained[i],
            status: status[i].clone(),
            address: address[i].clone(),
            town: town[i].clone(),
            postcode: postcode[i].clone(),
            low_age: low[i],
            high_age: high[i],
            open_date: open_date[i],
            close_date: close_date[i],
            religious_character: relig[i].clone(),
            gender: gender[i].clone(),
            admissions_policy: admissions[i].clone(),
            trust: trust[i].clone(),
            pupils: pupils[i],
            as_of_year: as_of[i].unwrap_or(0),
            precedence: prec[i].unwrap_or(0) as u8,
            source_file: source[i].clone().unwrap_or_default(),
        });
    }
    Ok(out)
}

pub fn neighbours_frame(rows: &[NeighbourRow]) -> Result<DataFrame, StoreError> {
    let cols = vec![
        Column::new(
            s("model"),
            rows.iter().map(|r| r.model).collect::<Vec<i32>>(),
        ),
        Column::new(
            s("la_code"),
            rows.iter()
                .map(|r| r.la_code.as_str())
                .collect::<Vec<&str>>(),
        ),
        Column::new(
            s("la_name"),
            rows.iter().map(|r| opt_str(&r.la_name)).collect::<Vec<_>>(),
        ),
        Column::new(
            s("position"),
            rows.iter().map(|r| r.position).collect::<Vec<i32>>(),
        ),
        Column::new(
            s("neighbour_code"),
            rows.iter()
                .map(|r| r.neighbour_code.as_str())
                .collect::<Vec<&str>>(),
        ),
        Column::new(
            s("closeness"),
            rows.iter()
                .map(|r| opt_str(&r.closeness))
                .collect::<Vec<_>>(),
        ),
        Column::new(
            s("source_file"),
            rows.iter()
                .map(|r| r.source_file.as_str())
                .collect::<Vec<&str>>(),
        ),
    ];
    Ok(DataFrame::new_infer_height(cols)?)
}

pub fn inspections_frame(rows: &[InspectionRow]) -> Result<DataFrame, StoreError> {
    let date = |v: Vec<Option<i32>>, n: &str| -> Result<Column, StoreError> {
        Ok(Column::new(s(n), v).cast(&DataType::Date)?)
    };
    let cols = vec![
        Column::new(
            s("urn"),
            rows.iter().map(|r| r.urn.as_str()).collect::<Vec<&str>>(),
        ),
        Column::new(
            s("la_code"),
            rows.iter().map(|r| opt_str(&r.la_code)).collect::<Vec<_>>(),
        ),
        Column::new(
            s("framework"),
            rows.iter().map(|r| r.framework).collect::<Vec<&str>>(),
        ),
        Column::new(
            s("inspection_type"),
            rows.iter()
                .map(|r| opt_str(&r.inspection_type))
                .collect::<Vec<_>>(),
        ),
        date(
            rows.iter()
                .map(|r| r.inspection_date.map(|d| d as i32))
                .collect(),
            "inspection_date",
        )?,
        date(
            rows.iter()
                .map(|r| r.publication_date.map(|d| d as i32))
                .collect(),
            "publication_date",
        )?,
        Column::new(
            s("overall_effectiveness"),
            rows.iter()
                .map(|r| r.overall_effectiveness)
                .collect::<Vec<Option<i32>>>(),
        ),
        Column::new(
            s("outcome"),
            rows.iter().map(|r| opt_str(&r.outcome)).collect::<Vec<_>>(),
        ),
        Column::new(
            s("ofsted_phase"),
            rows.iter()
                .map(|r| opt_str(&r.ofsted_phase))
                .collect::<Vec<_>>(),
        ),
        Column::new(
            s("pupils"),
            rows.iter().map(|r| r.pupils).collect::<Vec<Option<f64>>>(),
        ),
        Column::new(
            s("source_file"),
            rows.iter()
                .map(|r| r.source_file.as_str())
                .collect::<Vec<&str>>(),
        ),
        Column::new(
            s("source_row"),
            rows.iter().map(|r| r.source_row).collect::<Vec<u64>>(),
        ),
    ];
    Ok(DataFrame::new_infer_height(cols)?)
}

pub fn judgements_frame(rows: &[JudgementRow]) -> Result<DataFrame, StoreError> {
    let date = |v: Vec<Option<i32>>, n: &str| -> Result<Column, StoreError> {
        Ok(Column::new(s(n), v).cast(&DataType::Date)?)
    };
    let cols = vec![
        Column::new(
            s("urn"),
            rows.iter().map(|r| r.urn.as_str()).collect::<Vec<&str>>(),
        ),
        Column::new(
            s("framework"),
            rows.iter().map(|r| r.framework).collect::<Vec<&str>>(),
        ),
        date(
            rows.iter()
                .map(|r| r.inspection_date.map(|d| d as i32))
                .collect(),
            "inspection_date",
        )?,
        Column::new(
            s("area"),
            rows.iter().map(|r| r.area.as_str()).collect::<Vec<&str>>(),
        ),
        Column::new(
            s("grade"),
            rows.iter().map(|r| r.grade).collect::<Vec<i32>>(),
        ),
        Column::new(
            s("grade_label"),
            rows.iter()
                .map(|r| r.grade_label.as_str())
                .collect::<Vec<&str>>(),
        ),
        date(
            rows.iter()
                .map(|r| r.judgement_date.map(|d| d as i32))
                .collect(),
            "judgement_date",
        )?,
        Column::new(
            s("source_file"),
            rows.iter()
                .map(|r| r.source_file.as_str())
                .collect::<Vec<&str>>(),
        ),
        Column::new(
            s("source_row"),
            rows.iter().map(|r| r.source_row).collect::<Vec<u64>>(),
        ),
        Column::new(
            s("source_column"),
            rows.iter()
                .map(|r| r.source_column.as_str())
                .collect::<Vec<&str>>(),
        ),
    ];
    Ok(DataFrame::new_infer_height(cols)?)
}

pub fn areas_frame(rows: &[AreaRow]) -> Result<DataFrame, StoreError> {
    let cols = vec![
        Column::new(
            s("level"),
            rows.iter().map(|r| r.level.as_str()).collect::<Vec<&str>>(),
        ),
        Column::new(
            s("code"),
            rows.iter().map(|r| r.code.as_str()).collect::<Vec<&str>>(),
        ),
        Column::new(
            s("name"),
            rows.iter().map(|r| r.name.as_str()).collect::<Vec<&str>>(),
        ),
        Column::new(
            s("new_code"),
            rows.iter()
                .map(|r| opt_str(&r.new_code))
                .collect::<Vec<_>>(),
        ),
        Column::new(
            s("region_code"),
            rows.iter()
                .map(|r| opt_str(&r.region_code))
                .collect::<Vec<_>>(),
        ),
        Column::new(
            s("region_name"),
            rows.iter()
                .map(|r| opt_str(&r.region_name))
                .collect::<Vec<_>>(),
        ),
        Column::new(
            s("source_file"),
            rows.iter()
                .map(|r| r.source_file.as_str())
                .collect::<Vec<&str>>(),
        ),
    ];
    Ok(DataFrame::new_infer_height(cols)?)
}

pub fn measures_frame(rows: &[MeasureMetaRow]) -> Result<DataFrame, StoreError> {
    let cols = vec![
        Column::new(
            s("measure"),
            rows.iter()
                .map(|r| r.measure.as_str())
                .collect::<Vec<&str>>(),
        ),
        Column::new(
            s("description"),
            rows.iter()
                .map(|r| r.description.as_str())
                .collect::<Vec<&str>>(),
        ),
        Column::new(
            s("polarity"),
            rows.iter()
                .map(|r| opt_str(&r.polarity))
                .collect::<Vec<_>>(),
        ),
        Column::new(
            s("topic"),
            rows.iter().map(|r| opt_str(&r.topic)).collect::<Vec<_>>(),
        ),
        Column::new(
            s("year_type"),
            rows.iter()
                .map(|r| opt_str(&r.year_type))
                .collect::<Vec<_>>(),
        ),
        Column::new(
            s("dps"),
            rows.iter().map(|r| r.dps).collect::<Vec<Option<i32>>>(),
        ),
        Column::new(
            s("no_quartile"),
            rows.iter().map(|r| r.no_quartile).collect::<Vec<bool>>(),
        ),
        Column::new(
            s("source_file"),
            rows.iter()
                .map(|r| r.source_file.as_str())
                .collect::<Vec<&str>>(),
        ),
    ];
    Ok(DataFrame::new_infer_height(cols)?)
}

pub fn links_frame(rows: &[LinkRow]) -> Result<DataFrame, StoreError> {
    let text = |n: &str, f: &dyn Fn(&LinkRow) -> &str| {
        Column::new(s(n), rows.iter().map(f).collect::<Vec<&str>>())
    };
    let cols = vec![
        text("urn", &|r| r.urn.as_str()),
        text("linked_urn", &|r| r.linked_urn.as_str()),
        text("link_type", &|r| r.link_type.as_str()),
        Column::new(
            s("link_date"),
            rows.iter()
                .map(|r| r.link_date.map(|d| d as i32))
                .collect::<Vec<Option<i32>>>(),
        )
        .cast(&DataType::Date)?,
        text("source", &|r| r.source),
        text("source_file", &|r| r.source_file.as_str()),
        Column::new(
            s("source_row"),
            rows.iter().map(|r| r.source_row).collect::<Vec<u64>>(),
        ),
    ];
    Ok(DataFrame::new_infer_height(cols)?)
}

/// One row of the school_links table as read back.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkRecord {
    pub urn: String,
    pub linked_urn: String,
    pub link_type: String,
    pub link_date: Option<i64>,
    pub source: String,
    pub source_file: String,
    pub source_row: u64,
}

/// Every row of the school_links table.
pub fn link_rows(links: LazyFrame) -> Result<Vec<LinkRecord>, StoreError> {
    let df = links.collect()?;
    let (urn, linked, kind, source, file) = (
        opt_str_col(&df, "urn")?,
        opt_str_col(&df, "linked_urn")?,
        opt_str_col(&df, "link_type")?,
        opt_str_col(&df, "source")?,
        opt_str_col(&df, "source_file")?,
    );
    let date = days_col(&df, "link_date")?;
    let row: Vec<Option<u64>> = df.column("source_row")?.u64()?.iter().collect();
    let u = |v: &Option<String>| v.clone().unwrap_or_default();
    Ok((0..df.height())
        .map(|i| LinkRecord {
            urn: u(&urn[i]),
            linked_urn: u(&linked[i]),
            link_type: u(&kind[i]),
            link_date: date[i],
            source: u(&source[i]),
            source_file: u(&file[i]),
            source_row: row[i].unwrap_or(0),
        })
        .collect())
}

/// (source_file, year) of every ingested file whose year is known.
pub fn source_years(df: &DataFrame) -> Result<Vec<(String, i32)>, StoreError> {
    let f: Vec<Option<&str>> = df.column("source_file")?.str()?.iter().collect();
    let y: Vec<Option<i32>> = df.column("year")?.i32()?.iter().collect();
    Ok(f.into_iter()
        .zip(y)
        .filter_map(|(f, y)| Some((f?.to_string(), y?)))
        .collect())
}

pub fn sources_frame(rows: &[SourceRow]) -> Result<DataFrame, StoreError> {
    let cols = vec![
        Column::new(
            s("source_file"),
            rows.iter()
                .map(|r| r.source_file.as_str())
                .collect::<Vec<&str>>(),
        ),
        Column::new(
            s("sha256"),
            rows.iter()
                .map(|r| r.sha256.as_str())
                .collect::<Vec<&str>>(),
        ),
        Column::new(
            s("dataset"),
            rows.iter()
                .map(|r| r.dataset.as_str())
                .collect::<Vec<&str>>(),
        ),
        Column::new(
            s("year"),
            rows.iter().map(|r| r.year).collect::<Vec<Option<i32>>>(),
        ),
        Column::new(
            s("year_from"),
            rows.iter()
                .map(|r| r.year_from.as_str())
                .collect::<Vec<&str>>(),
        ),
        Column::new(
            s("version"),
            rows.iter()
                .map(|r| r.version.as_str())
                .collect::<Vec<&str>>(),
        ),
        Column::new(s("rows"), rows.iter().map(|r| r.rows).collect::<Vec<u64>>()),
    ];
    Ok(DataFrame::new_infer_height(cols)?)
}

pub fn targets_frame(rows: &[TargetRow]) -> Result<DataFrame, StoreError> {
    let cols = vec![
        Column::new(
            s("urn"),
            rows.iter().map(|r| r.urn.as_str()).collect::<Vec<&str>>(),
        ),
        Column::new(
            s("la_code"),
            rows.iter().map(|r| opt_str(&r.la_code)).collect::<Vec<_>>(),
        ),
        Column::new(s("year"), rows.iter().map(|r| r.year).collect::<Vec<i32>>()),
        Column::new(
            s("measure"),
            rows.iter()
                .map(|r| r.measure.as_str())
                .collect::<Vec<&str>>(),
        ),
        Column::new(
            s("target"),
            rows.iter().map(|r| r.target).collect::<Vec<f64>>(),
        ),
        Column::new(
            s("source_file"),
            rows.iter()
                .map(|r| r.source_file.as_str())
                .collect::<Vec<&str>>(),
        ),
        Column::new(
            s("source_sheet"),
            rows.iter()
                .map(|r| r.source_sheet.as_str())
                .collect::<Vec<&str>>(),
        ),
        Column::new(
            s("source_cell"),
            rows.iter()
                .map(|r| r.source_cell.as_str())
                .collect::<Vec<&str>>(),
        ),
    ];
    Ok(DataFrame::new_infer_height(cols)?)
}

/// Every row of the targets table.
pub fn target_rows(targets: LazyFrame) -> Result<Vec<TargetRow>, StoreError> {
    let df = targets.collect()?;
    let st = |n: &str| -> Result<Vec<Option<String>>, StoreError> {
        Ok(df
            .column(n)?
            .str()?
            .iter()
            .map(|o| o.map(str::to_string))
            .collect())
    };
    let (urn, la, measure, file, sheet, cell) = (
        st("urn")?,
        st("la_code")?,
        st("measure")?,
        st("source_file")?,
        st("source_sheet")?,
        st("source_cell")?,
    );
    let year: Vec<Option<i32>> = df.column("year")?.i32()?.iter().collect();
    let target: Vec<Option<f64>> = df.column("target")?.f64()?.iter().collect();
    let u = |v: &Option<String>| v.clone().unwrap_or_default();
    Ok((0..df.height())
        .filter_map(|i| {
            Some(TargetRow {
                urn: u(&urn[i]),
                la_code: la[i].clone(),
                year: year[i]?,
                measure: u(&measure[i]),
                target: target[i]?,
                source_file: u(&file[i]),
                source_sheet: u(&sheet[i]),
                source_cell: u(&cell[i]),
            })
        })
        .collect())
}

/// Write a frame as parquet to `path` (the caller handles atomic placement).
pub fn write_parquet(df: &mut DataFrame, path: &Path) -> Result<(), StoreError> {
    let write = |e: String| StoreError::Write {
        path: path.to_path_buf(),
        message: e,
    };
    let file = std::fs::File::create(path).map_err(|e| write(e.to_string()))?;
    ParquetWriter::new(file)
        .finish(df)
        .map_err(|e| write(e.to_string()))?;
    Ok(())
}

pub fn scan_parquet(path: &Path) -> Result<LazyFrame, StoreError> {
    let p = PlRefPath::try_from_path(path)?;
    Ok(LazyFrame::scan_parquet(p, ScanArgsParquet::default())?)
}

/// The results column of the pupil group (`group` in stores written before it was renamed).
pub const PUPIL_GROUP: &str = "pupil_group";

/// A store table, lazily, in today's columns: a results table written before `group` was
/// renamed `pupil_group` (a reserved word in SQL) reads as if renamed, and is written with
/// the new name by the next ingest.
pub fn scan_store_table(path: &Path) -> Result<LazyFrame, StoreError> {
    let mut lf = scan_parquet(path)?;
    let schema = lf.collect_schema()?;
    if schema.contains("group") && !schema.contains(PUPIL_GROUP) {
        lf = lf.rename(["group"], [PUPIL_GROUP], true);
    }
    Ok(lf)
}

/// Keep the rows of `existing` not from `replaced` source files, then append `new`.
pub fn replace_sources(
    existing: Option<LazyFrame>,
    new: DataFrame,
    replaced: &[String],
) -> Result<DataFrame, StoreError> {
    let Some(old) = existing else { return Ok(new) };
    let names = Series::new(
        s("replaced"),
        replaced.iter().map(String::as_str).collect::<Vec<&str>>(),
    );
    let kept = old.filter(
        col("source_file")
            .is_in(lit(names).implode(false), false)
            .not(),
    );
    // Diagonal: a table written before a column was added (e.g. `inspections.framework`)
    // gets nulls there; the columns keep the new frame's order.
    let order: Vec<Expr> = new
        .get_column_names()
        .iter()
        .map(|n| col(n.as_str()))
        .collect();
    let args = UnionArgs {
        rechunk: true,
        to_supertypes: true,
        diagonal: true,
        ..Default::default()
    };
    Ok(concat([kept, new.lazy()], args)?.select(order).collect()?)
}

/// Column names and row count of a parquet file (for recognising parquet inputs).
pub fn parquet_columns(path: &Path) -> Result<Vec<String>, StoreError> {
    let mut lf = scan_parquet(path)?;
    let schema = lf.collect_schema()?;
    Ok(schema.iter_names().map(|n| n.to_string()).collect())
}

/// Read string columns of a parquet file into plain vectors (LAIT: every value is text).
pub fn parquet_string_columns(
    path: &Path,
    names: &[&str],
) -> Result<(usize, Vec<Vec<Option<String>>>), StoreError> {
    let exprs: Vec<Expr> = names
        .iter()
        .map(|n| col(*n).cast(DataType::String))
        .collect();
    let df = scan_parquet(path)?.select(exprs).collect()?;
    let mut out = Vec::with_capacity(names.len());
    for n in names {
        let c = df.column(n)?.str()?;
        out.push(c.iter().map(|o| o.map(str::to_string)).collect());
    }
    Ok((df.height(), out))
}

/// A selection of result rows (every field optional).
#[derive(Debug, Default, Clone)]
pub struct ResultFilter {
    pub year: Option<i32>,
    pub level: Option<Level>,
    pub code: Option<String>,
    pub la_code: Option<String>,
    pub measure: Option<String>,
    pub group: Option<String>,
    pub dataset: Option<String>,
    pub source_file: Option<String>,
    pub phase: Option<String>,
    pub scope: Option<String>,
}

/// A result row as read back from the store.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ResultRecord {
    pub year: i32,
    pub level: String,
    pub code: String,
    pub la_code: Option<String>,
    pub scope: String,
    pub phase: String,
    pub measure: String,
    pub group: String,
    pub value: Option<f64>,
    pub cohort: Option<f64>,
    pub numerator: Option<f64>,
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
    pub status: String,
    pub version: String,
    pub dataset: String,
    pub source_column: String,
    pub source_file: String,
    pub source_row: u64,
}

impl ResultFilter {
    fn expr(&self) -> Expr {
        let mut e = lit(true);
        let eq = |e: Expr, c: &str, v: &Option<String>| match v {
            Some(v) => e.and(col(c).eq(lit(v.clone()))),
            None => e,
        };
        if let Some(y) = self.year {
            e = e.and(col("year").eq(lit(y)));
        }
        if let Some(l) = self.level {
            e = e.and(col("level").eq(lit(l.as_str())));
        }
        e = eq(e, "code", &self.code);
        e = eq(e, "la_code", &self.la_code);
        e = eq(e, "measure", &self.measure);
        e = eq(e, PUPIL_GROUP, &self.group);
        e = eq(e, "dataset", &self.dataset);
        e = eq(e, "phase", &self.phase);
        e = eq(e, "scope", &self.scope);
        if let Some(f) = &self.source_file {
            e = e.and(col("source_file").str().ends_with(lit(f.clone())));
        }
        e
    }
}

/// Read the rows of the results table that match `filter`.
pub fn query_results(
    results: LazyFrame,
    filter: &ResultFilter,
) -> Result<Vec<ResultRecord>, StoreError> {
    let df = results.filter(filter.expr()).collect()?;
    records_from_frame(&df)
}

pub fn records_from_frame(df: &DataFrame) -> Result<Vec<ResultRecord>, StoreError> {
    let st = |n: &str| -> Result<Vec<Option<String>>, StoreError> {
        Ok(df
            .column(n)?
            .str()?
            .iter()
            .map(|o| o.map(str::to_string))
            .collect())
    };
    let f = |n: &str| -> Result<Vec<Option<f64>>, StoreError> {
        Ok(df.column(n)?.f64()?.iter().collect())
    };
    let year: Vec<Option<i32>> = df.column("year")?.i32()?.iter().collect();
    let row: Vec<Option<u64>> = df.column("source_row")?.u64()?.iter().collect();
    let (level, code, la, scope, phase, measure, group, status, version, dataset, scol, sfile) = (
        st("level")?,
        st("code")?,
        st("la_code")?,
        st("scope")?,
        st("phase")?,
        st("measure")?,
        st(PUPIL_GROUP)?,
        st("status")?,
        st("version")?,
        st("dataset")?,
        st("source_column")?,
        st("source_file")?,
    );
    let (value, cohort, num, lo, hi) = (
        f("value")?,
        f("cohort")?,
        f("numerator")?,
        f("ci_low")?,
        f("ci_high")?,
    );
    let u = |v: &Option<String>| v.clone().unwrap_or_default();
    Ok((0..df.height())
        .map(|i| ResultRecord {
            year: year[i].unwrap_or(0),
            level: u(&level[i]),
            code: u(&code[i]),
            la_code: la[i].clone(),
            scope: u(&scope[i]),
            phase: u(&phase[i]),
            measure: u(&measure[i]),
            group: u(&group[i]),
            value: value[i],
            cohort: cohort[i],
            numerator: num[i],
            ci_low: lo[i],
            ci_high: hi[i],
            status: u(&status[i]),
            version: u(&version[i]),
            dataset: u(&dataset[i]),
            source_column: u(&scol[i]),
            source_file: u(&sfile[i]),
            source_row: row[i].unwrap_or(0),
        })
        .collect())
}

/// Read the neighbours table: (model, la_code, position, neighbour_code, closeness).
pub fn neighbour_rows(
    df: &DataFrame,
) -> Result<Vec<(i32, String, i32, String, Option<String>, String)>, StoreError> {
    let model: Vec<Option<i32>> = df.column("model")?.i32()?.iter().collect();
    let la: Vec<Option<&str>> = df.column("la_code")?.str()?.iter().collect();
    let pos: Vec<Option<i32>> = df.column("position")?.i32()?.iter().collect();
    let nb: Vec<Option<&str>> = df.column("neighbour_code")?.str()?.iter().collect();
    let cl: Vec<Option<&str>> = df.column("closeness")?.str()?.iter().collect();
    let sf: Vec<Option<&str>> = df.column("source_file")?.str()?.iter().collect();
    Ok((0..df.height())
        .map(|i| {
            (
                model[i].unwrap_or(0),
                la[i].unwrap_or("").to_string(),
                pos[i].unwrap_or(0),
                nb[i].unwrap_or("").to_string(),
                cl[i].map(str::to_string),
                sf[i].unwrap_or("").to_string(),
            )
        })
        .collect())
}

/// Overall-effectiveness grades of the inspections table, with their source files.
pub fn inspection_grades(df: &DataFrame) -> Result<Vec<(String, Option<i32>, String)>, StoreError> {
    let urn: Vec<Option<&str>> = df.column("urn")?.str()?.iter().collect();
    let g: Vec<Option<i32>> = df.column("overall_effectiveness")?.i32()?.iter().collect();
    let sf: Vec<Option<&str>> = df.column("source_file")?.str()?.iter().collect();
    Ok((0..df.height())
        .map(|i| {
            (
                urn[i].unwrap_or("").to_string(),
                g[i],
                sf[i].unwrap_or("").to_string(),
            )
        })
        .collect())
}

/// (code, name) of every area.
pub fn area_names(df: &DataFrame) -> Result<Vec<(String, String)>, StoreError> {
    let c: Vec<Option<&str>> = df.column("code")?.str()?.iter().collect();
    let n: Vec<Option<&str>> = df.column("name")?.str()?.iter().collect();
    Ok(c.into_iter()
        .zip(n)
        .filter_map(|(c, n)| Some((c?.to_string(), n?.to_string())))
        .filter(|(_, n)| !n.is_empty())
        .collect())
}

/// (urn, name) of every school.
pub fn school_names(df: &DataFrame) -> Result<Vec<(String, String)>, StoreError> {
    let c: Vec<Option<&str>> = df.column("urn")?.str()?.iter().collect();
    let n: Vec<Option<&str>> = df.column("name")?.str()?.iter().collect();
    Ok(c.into_iter()
        .zip(n)
        .filter_map(|(c, n)| Some((c?.to_string(), n?.to_string())))
        .collect())
}

/// Years that have rows for a measure at a level.
pub fn distinct_years(
    results: LazyFrame,
    measure: &str,
    level: &str,
) -> Result<Vec<i32>, StoreError> {
    let df = results
        .filter(
            col("measure")
                .eq(lit(measure.to_string()))
                .and(col("level").eq(lit(level.to_string()))),
        )
        .select([col("year")])
        .unique(None, UniqueKeepStrategy::Any)
        .sort(["year"], SortMultipleOptions::default())
        .collect()?;
    Ok(df.column("year")?.i32()?.iter().flatten().collect())
}

/// Years with any figures of a key stage at a level (`ks2`, `la`): the years a file of that
/// key stage was ingested for, whichever of its measures it carried.
pub fn distinct_key_stage_years(
    results: LazyFrame,
    key_stage: &str,
    level: &str,
) -> Result<Vec<i32>, StoreError> {
    let df = results
        .filter(
            col("key_stage")
                .eq(lit(key_stage.to_string()))
                .and(col("level").eq(lit(level.to_string()))),
        )
        .select([col("year")])
        .unique(None, UniqueKeepStrategy::Any)
        .sort(["year"], SortMultipleOptions::default())
        .collect()?;
    Ok(df.column("year")?.i32()?.iter().flatten().collect())
}

/// Every (measure, year) with LA-level rows: what a "rank everything" run covers.
pub fn la_measure_years(results: LazyFrame) -> Result<Vec<(String, String, i32)>, StoreError> {
    let df = results
        .filter(col("level").eq(lit("la")))
        .select([col("measure"), col(PUPIL_GROUP), col("year")])
        .unique(None, UniqueKeepStrategy::Any)
        .sort(
            ["measure", PUPIL_GROUP, "year"],
            SortMultipleOptions::default(),
        )
        .collect()?;
    let m: Vec<Option<&str>> = df.column("measure")?.str()?.iter().collect();
    let g: Vec<Option<&str>> = df.column(PUPIL_GROUP)?.str()?.iter().collect();
    let y: Vec<Option<i32>> = df.column("year")?.i32()?.iter().collect();
    Ok((0..df.height())
        .filter_map(|i| Some((m[i]?.to_string(), g[i]?.to_string(), y[i]?)))
        .collect())
}

/// (measure, polarity) from the measures table (LAIT dictionary).
pub fn measure_polarities(df: &DataFrame) -> Result<Vec<(String, Option<String>)>, StoreError> {
    let m: Vec<Option<&str>> = df.column("measure")?.str()?.iter().collect();
    let p: Vec<Option<&str>> = df.column("polarity")?.str()?.iter().collect();
    Ok(m.into_iter()
        .zip(p)
        .filter_map(|(m, p)| Some((m?.to_string(), p.map(str::to_string))))
        .collect())
}

/// Each stored measure's published decimal places and no-quartile flag (`measure, dps,
/// no_quartile`). A store written before `no_quartile` was added reads as `false`.
pub fn measure_precisions(df: &DataFrame) -> Result<Vec<(String, Option<i32>, bool)>, StoreError> {
    let m: Vec<Option<&str>> = df.column("measure")?.str()?.iter().collect();
    let d: Vec<Option<i32>> = df
        .column("dps")?
        .cast(&DataType::Int32)?
        .i32()?
        .iter()
        .collect();
    let q: Vec<bool> = match df.column("no_quartile") {
        Ok(c) => c.bool()?.iter().map(|b| b.unwrap_or(false)).collect(),
        Err(_) => vec![false; df.height()],
    };
    Ok(m.into_iter()
        .zip(d)
        .zip(q)
        .filter_map(|((m, d), q)| Some((m?.to_string(), d, q)))
        .collect())
}

/// Result rows for any of `measures` in any of `years` (one scan for a whole booklet run).
pub fn query_results_in(
    results: LazyFrame,
    measures: &[String],
    groups: &[&str],
    years: &[i32],
) -> Result<Vec<ResultRecord>, StoreError> {
    let m = Series::new(
        s("m"),
        measures.iter().map(String::as_str).collect::<Vec<&str>>(),
    );
    let g = Series::new(s("g"), groups.to_vec());
    let y = Series::new(s("y"), years.to_vec());
    let df = results
        .filter(
            col("measure")
                .is_in(lit(m).implode(false), false)
                .and(col("year").is_in(lit(y).implode(false), false))
                .and(col(PUPIL_GROUP).is_in(lit(g).implode(false), false))
                .and(col("scope").eq(lit("state_funded"))),
        )
        .collect()?;
    records_from_frame(&df)
}

/// One row of the inspections table as read back (dates as days since 1970-01-01).
#[derive(Debug, Clone, PartialEq)]
pub struct InspectionRecord {
    pub urn: String,
    pub la_code: Option<String>,
    /// `oeif`, `report_card`, `ungraded` (rows from stores written before frameworks were kept: `oeif`).
    pub framework: String,
    pub inspection_type: Option<String>,
    pub inspection_date: Option<i64>,
    pub publication_date: Option<i64>,
    pub overall_effectiveness: Option<i32>,
    pub outcome: Option<String>,
    pub ofsted_phase: Option<String>,
    pub pupils: Option<f64>,
    pub source_file: String,
    pub source_row: u64,
}

/// A string column, or all nulls where a store written before the column existed lacks it.
fn opt_str_col(df: &DataFrame, n: &str) -> Result<Vec<Option<String>>, StoreError> {
    match df.column(n) {
        Ok(c) => Ok(c.str()?.iter().map(|o| o.map(str::to_string)).collect()),
        Err(_) => Ok(vec![None; df.height()]),
    }
}

fn days_col(df: &DataFrame, n: &str) -> Result<Vec<Option<i64>>, StoreError> {
    match df.column(n) {
        Ok(c) => Ok(c
            .cast(&DataType::Int32)?
            .i32()?
            .iter()
            .map(|d| d.map(i64::from))
            .collect()),
        Err(_) => Ok(vec![None; df.height()]),
    }
}

/// Every row of the inspections table.
pub fn inspection_rows(inspections: LazyFrame) -> Result<Vec<InspectionRecord>, StoreError> {
    let df = inspections.collect()?;
    let urn = opt_str_col(&df, "urn")?;
    let la = opt_str_col(&df, "la_code")?;
    let fw = opt_str_col(&df, "framework")?;
    let itype = opt_str_col(&df, "inspection_type")?;
    let (days, publ) = (
        days_col(&df, "inspection_date")?,
        days_col(&df, "publication_date")?,
    );
    let g: Vec<Option<i32>> = df.column("overall_effectiveness")?.i32()?.iter().collect();
    let outcome = opt_str_col(&df, "outcome")?;
    let ph = opt_str_col(&df, "ofsted_phase")?;
    let pupils: Vec<Option<f64>> = match df.column("pupils") {
        Ok(c) => c.f64()?.iter().collect(),
        Err(_) => vec![None; df.height()],
    };
    let sf = opt_str_col(&df, "source_file")?;
    let row: Vec<Option<u64>> = df.column("source_row")?.u64()?.iter().collect();
    Ok((0..df.height())
        .map(|i| InspectionRecord {
            urn: urn[i].clone().unwrap_or_default(),
            la_code: la[i].clone(),
            framework: fw[i].clone().unwrap_or_else(|| framework::OEIF.to_string()),
            inspection_type: itype[i].clone(),
            inspection_date: days[i],
            publication_date: publ[i],
            overall_effectiveness: g[i],
            outcome: outcome[i].clone(),
            ofsted_phase: ph[i].clone(),
            pupils: pupils[i],
            source_file: sf[i].clone().unwrap_or_default(),
            source_row: row[i].unwrap_or(0),
        })
        .collect())
}

/// One row of the inspection_judgements table as read back.
#[derive(Debug, Clone, PartialEq)]
pub struct JudgementRecord {
    pub urn: String,
    pub framework: String,
    pub inspection_date: Option<i64>,
    pub area: String,
    pub grade: i32,
    pub grade_label: String,
    pub judgement_date: Option<i64>,
    pub source_file: String,
    pub source_row: u64,
    pub source_column: String,
}

/// Every row of the inspection_judgements table.
pub fn judgement_rows(judgements: LazyFrame) -> Result<Vec<JudgementRecord>, StoreError> {
    let df = judgements.collect()?;
    let (urn, fw, area, label, sf, sc) = (
        opt_str_col(&df, "urn")?,
        opt_str_col(&df, "framework")?,
        opt_str_col(&df, "area")?,
        opt_str_col(&df, "grade_label")?,
        opt_str_col(&df, "source_file")?,
        opt_str_col(&df, "source_column")?,
    );
    let (days, jd) = (
        days_col(&df, "inspection_date")?,
        days_col(&df, "judgement_date")?,
    );
    let grade: Vec<Option<i32>> = df.column("grade")?.i32()?.iter().collect();
    let row: Vec<Option<u64>> = df.column("source_row")?.u64()?.iter().collect();
    let u = |v: &Option<String>| v.clone().unwrap_or_default();
    Ok((0..df.height())
        .filter_map(|i| {
            Some(JudgementRecord {
                urn: u(&urn[i]),
                framework: u(&fw[i]),
                inspection_date: days[i],
                area: u(&area[i]),
                grade: grade[i]?,
                grade_label: u(&label[i]),
                judgement_date: jd[i],
                source_file: u(&sf[i]),
                source_row: row[i].unwrap_or(0),
                source_column: u(&sc[i]),
            })
        })
        .collect())
}

/// (la_code, region_name, source_file) of every LA row of the areas table that names a region.
pub fn la_region_names(df: &DataFrame) -> Result<Vec<(String, String, String)>, StoreError> {
    let lv: Vec<Option<&str>> = df.column("level")?.str()?.iter().collect();
    let c: Vec<Option<&str>> = df.column("code")?.str()?.iter().collect();
    let r: Vec<Option<&str>> = df.column("region_name")?.str()?.iter().collect();
    let sf: Vec<Option<&str>> = df.column("source_file")?.str()?.iter().collect();
    Ok((0..df.height())
        .filter(|&i| lv[i] == Some("la"))
        .filter_map(|i| {
            Some((
                c[i]?.to_string(),
                r[i].filter(|s| !s.trim().is_empty())?.trim().to_string(),
                sf[i].unwrap_or("").to_string(),
            ))
        })
        .collect())
}

/// (source_file, dataset) of every ingested file.
pub fn source_datasets(df: &DataFrame) -> Result<Vec<(String, String)>, StoreError> {
    let f: Vec<Option<&str>> = df.column("source_file")?.str()?.iter().collect();
    let d: Vec<Option<&str>> = df.column("dataset")?.str()?.iter().collect();
    Ok(f.into_iter()
        .zip(d)
        .filter_map(|(f, d)| Some((f?.to_string(), d?.to_string())))
        .collect())
}

/// (source_file, sha256) of every ingested file.
pub fn source_hashes(df: &DataFrame) -> Result<Vec<(String, String)>, StoreError> {
    let f: Vec<Option<&str>> = df.column("source_file")?.str()?.iter().collect();
    let h: Vec<Option<&str>> = df.column("sha256")?.str()?.iter().collect();
    Ok(f.into_iter()
        .zip(h)
        .filter_map(|(f, h)| Some((f?.to_string(), h?.to_string())))
        .collect())
}

/// The distinct non-null values of a string column, sorted.
pub fn distinct_strings(df: &DataFrame, name: &str) -> Result<Vec<String>, StoreError> {
    let u = df.column(name)?.unique()?;
    let mut v: Vec<String> = u.str()?.iter().flatten().map(str::to_string).collect();
    v.sort();
    Ok(v)
}

/// The areas table's rows as read back.
pub fn area_rows(df: &DataFrame) -> Result<Vec<AreaRow>, StoreError> {
    let st = |n: &str| opt_str_col(df, n);
    let (lv, code, name, new_code, rc, rn, sf) = (
        st("level")?,
        st("code")?,
        st("name")?,
        st("new_code")?,
        st("region_code")?,
        st("region_name")?,
        st("source_file")?,
    );
    Ok((0..df.height())
        .filter_map(|i| {
            Some(AreaRow {
                level: Level::parse(lv[i].as_deref()?)?,
                code: code[i].clone()?,
                name: name[i].clone().unwrap_or_default(),
                new_code: new_code[i].clone(),
                region_code: rc[i].clone().filter(|s| !s.trim().is_empty()),
                region_name: rn[i].clone().filter(|s| !s.trim().is_empty()),
                source_file: sf[i].clone().unwrap_or_default(),
            })
        })
        .collect())
}

/// The measures table's rows (LAIT's dictionary) as read back.
pub fn measure_meta_rows(df: &DataFrame) -> Result<Vec<MeasureMetaRow>, StoreError> {
    let st = |n: &str| opt_str_col(df, n);
    let (m, d, p, t, y, sf) = (
        st("measure")?,
        st("description")?,
        st("polarity")?,
        st("topic")?,
        st("year_type")?,
        st("source_file")?,
    );
    let precisions = measure_precisions(df)?;
    Ok((0..df.height())
        .filter_map(|i| {
            Some(MeasureMetaRow {
                measure: m[i].clone()?,
                description: d[i].clone().unwrap_or_default(),
                polarity: p[i].clone(),
                topic: t[i].clone(),
                year_type: y[i].clone(),
                dps: precisions.get(i).and_then(|x| x.1),
                no_quartile: precisions.get(i).is_some_and(|x| x.2),
                source_file: sf[i].clone().unwrap_or_default(),
            })
        })
        .collect())
}

/// The label tables (see `store::labels`), by table name.
pub fn label_frames(
    l: &super::labels::Labels,
) -> Result<Vec<(&'static str, DataFrame)>, StoreError> {
    fn text<T>(n: &str, rows: &[T], f: impl Fn(&T) -> Option<&str>) -> Column {
        Column::new(s(n), rows.iter().map(f).collect::<Vec<Option<&str>>>())
    }
    let m = &l.measures;
    let measures = DataFrame::new_infer_height(vec![
        text("measure", m, |r| Some(&r.measure)),
        text("label", m, |r| Some(&r.label)),
        text("description", m, |r| Some(&r.description)),
        text("unit", m, |r| r.unit.as_deref()),
        Column::new(s("dps"), m.iter().map(|r| r.dps).collect::<Vec<_>>()),
        text("polarity", m, |r| r.polarity.as_deref()),
        text("key_stage", m, |r| r.key_stage.as_deref()),
        Column::new(
            s("headline"),
            m.iter().map(|r| r.headline).collect::<Vec<bool>>(),
        ),
        text("source", m, |r| Some(&r.source)),
    ])?;
    let g = &l.groups;
    let groups = DataFrame::new_infer_height(vec![
        text(PUPIL_GROUP, g, |r| Some(&r.pupil_group)),
        text("label", g, |r| Some(&r.label)),
        text("description", g, |r| Some(&r.description)),
        text("complement", g, |r| r.complement.as_deref()),
    ])?;
    let a = &l.areas;
    let areas = DataFrame::new_infer_height(vec![
        text("level", a, |r| Some(&r.level)),
        text("code", a, |r| Some(&r.code)),
        text("name", a, |r| Some(&r.name)),
        text("region_code", a, |r| r.region_code.as_deref()),
        text("region_name", a, |r| r.region_name.as_deref()),
    ])?;
    let t = &l.school_types;
    let types = DataFrame::new_infer_height(vec![
        text("school_type_code", t, |r| r.school_type_code.as_deref()),
        text("school_type", t, |r| Some(&r.school_type)),
        text("category", t, |r| r.category.as_deref()),
        Column::new(
            s("la_maintained"),
            t.iter().map(|r| r.la_maintained).collect::<Vec<_>>(),
        ),
        Column::new(
            s("special"),
            t.iter().map(|r| r.special).collect::<Vec<bool>>(),
        ),
    ])?;
    Ok(vec![
        ("measure_labels", measures),
        ("group_labels", groups),
        ("area_labels", areas),
        ("school_type_labels", types),
    ])
}
