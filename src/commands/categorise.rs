//! `attain categorise`: every school's category under a rules file, and the
//! schools-causing-concern register (CSV and xlsx).

use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::analysis::categorise::{categorise, latest_year, register, SchoolCategory};
use crate::analysis::data::Data;
use crate::analysis::rules::Rules;
use crate::error::ConfigError;
use crate::output::{self, Report};

pub struct CategoriseRequest<'r> {
    pub rules: &'r Path,
    pub la: Option<&'r str>,
    pub year: Option<i32>,
}

/// Load the rules (a bad file is a config error naming it) and categorise the schools.
pub fn run(data: &Data, req: &CategoriseRequest) -> anyhow::Result<(Rules, Vec<SchoolCategory>)> {
    let rules = Rules::load(req.rules)?;
    let year = match req.year {
        Some(y) => y,
        None => latest_year(data, req.la)?.ok_or_else(|| {
            ConfigError::new(
                "--year",
                "the store has no school KS2 or KS4 results to categorise",
            )
        })?,
    };
    let results = categorise(data, &rules, year, req.la)?;
    if results.is_empty() {
        anyhow::bail!(ConfigError::new(
            if req.la.is_some() { "--la" } else { "--year" },
            format!(
                "no school KS2 or KS4 results for {year}{}",
                req.la.map(|l| format!(" in LA {l}")).unwrap_or_default()
            )
        ));
    }
    Ok((rules, results))
}

const COLUMNS: &[&str] = &[
    "urn",
    "school_name",
    "la_code",
    "phase",
    "category",
    "level_of_support",
    "rules_fired",
    "no_data",
    "evidence",
];

fn cells(r: &SchoolCategory) -> Vec<Value> {
    vec![
        json!(r.urn),
        json!(r.school_name),
        json!(r.la_code),
        json!(r.phase),
        json!(r.category),
        json!(r.level_of_support),
        json!(r.rules_fired.join("; ")),
        json!(r.no_data.join("; ")),
        json!(r.evidence_text()),
    ]
}

/// Every school's category as a report (the workbook's categories sheet).
pub fn categories_report(results: &[SchoolCategory]) -> Report {
    let mut rep = Report::new(COLUMNS);
    for r in results {
        rep.push(cells(r));
    }
    rep
}

pub fn print(results: &[SchoolCategory], format: output::Format) -> String {
    match format {
        output::Format::Json => crate::number::to_json_pretty(results).unwrap_or_default() + "\n",
        f => {
            let mut rep = Report::new(COLUMNS);
            for r in results {
                rep.push(cells(r));
            }
            rep.render(f)
        }
    }
}

/// The register's rows as a report: the fixed columns, then one column per fact the rules use.
pub fn register_report(rules: &Rules, results: &[SchoolCategory]) -> Report {
    let facts: Vec<String> = rules.facts().into_iter().collect();
    let columns: Vec<&str> = COLUMNS
        .iter()
        .copied()
        .chain(facts.iter().map(String::as_str))
        .collect();
    let mut rep = Report::new(&columns);
    for r in register(rules, results) {
        let mut row = cells(r);
        // Facts a school's phase did not need were not looked at: blank, not "no data".
        row.extend(
            facts
                .iter()
                .map(|f| r.evidence.get(f).cloned().unwrap_or(Value::Null)),
        );
        rep.push(row);
    }
    rep
}

/// Write `schools-causing-concern.csv` and `.xlsx` into `dir` (each atomically). Returns the paths.
pub fn write_register(
    dir: &Path,
    rules: &Rules,
    results: &[SchoolCategory],
) -> anyhow::Result<Vec<PathBuf>> {
    let rep = register_report(rules, results);
    let csv_path = dir.join("schools-causing-concern.csv");
    crate::atomic::write_atomic(&csv_path, rep.render(output::Format::Csv).as_bytes())?;
    let xlsx_path = dir.join("schools-causing-concern.xlsx");
    let year = results.iter().map(|r| r.year).max().unwrap_or(1900);
    let bytes = xlsx(&rep, category_scale(rules), &rules.name, year).map_err(|e| {
        crate::error::RenderFailures {
            total: 1,
            failures: vec![format!("{}: {e}", xlsx_path.display())],
        }
    })?;
    crate::atomic::write_atomic(&xlsx_path, &bytes)?;
    Ok(vec![csv_path, xlsx_path])
}

/// The categories' labels, least support first (the rules file lists the most serious
/// first): the workbook colours them along this scale.
pub fn category_scale(rules: &Rules) -> Vec<String> {
    rules
        .categories
        .iter()
        .rev()
        .map(|c| c.label.clone())
        .collect()
}

/// The register as a workbook (frozen header and URN/name columns).
fn xlsx(
    rep: &Report,
    scale: Vec<String>,
    title: &str,
    results_year: i32,
) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    crate::render::workbook::xlsx(
        &[crate::render::workbook::Sheet {
            frozen_columns: 2,
            scales: vec![("category".into(), scale)],
            ..crate::render::workbook::Sheet::new("Register", rep)
        }],
        title,
        results_year,
    )
}

/// `attain categorise`: categories printed; with `--out`, the register written.
pub fn cli(
    a: &crate::cli::CategoriseArgs,
    ctx: &crate::commands::Ctx,
) -> anyhow::Result<crate::commands::Code> {
    let opened = ctx.open(&a.store.store)?;
    let data = opened.data(a.la.as_deref())?;
    let (rules, results) = run(
        &data,
        &CategoriseRequest {
            rules: &a.rules,
            la: a.la.as_deref(),
            year: a.year.year,
        },
    )?;
    crate::output::stdout(&print(&results, a.format.format))?;
    if let Some(dir) = &a.out {
        for p in write_register(dir, &rules, &results)? {
            crate::output::status(format!("wrote {}", p.display()));
        }
    }
    Ok(crate::commands::Code::Ok)
}
