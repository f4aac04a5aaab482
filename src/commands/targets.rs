//! `attain targets`: the target forms sent to schools (`forms`), the returns read back
//! (`import`) and each agreed target against the result (`compare`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::analysis::data::Data;
use crate::analysis::target_returns::{
    check, compare as compare_targets, school_figures, Expect, Problem, TargetOutcome,
};
use crate::error::{ConfigError, RenderFailures};
use crate::output::{Format, Report};
use crate::render::booklet::model::{slug, target_measures, Prepared};
use crate::render::booklet::{choose, school_path, Selection};
use crate::render::target_form::{xlsx, Form, FormRow};
use crate::store::frame;
use crate::store::schema::{Level, SchoolRow, TargetRow};
use crate::year::academic_label;

pub struct FormsRequest<'r> {
    pub sel: Selection,
    /// The results the suggestions build on; the forms are for targets for `year + 1`.
    pub year: i32,
    pub neighbours: i32,
    pub out: &'r Path,
}

#[derive(Debug, Default)]
pub struct FormsSummary {
    pub written: Vec<PathBuf>,
    /// Schools chosen that have no KS2 or KS4 headline figure for the year (no form).
    pub skipped: Vec<String>,
}

/// The latest year with KS2 or KS4 school results (the default `--year` of booklets and forms).
pub fn latest_results_year(data: &Data) -> anyhow::Result<Option<i32>> {
    Ok(crate::commands::year::results_year(
        data,
        None,
        crate::commands::year::SCHOOL_RESULTS,
        Level::School,
    )
    .ok())
}

/// A school's form: `<out>/<LA code>/<URN>-<slug>-targets.xlsx`, inside `out` whatever the
/// codes and name contain (see `school_path`).
pub fn form_path(out: &Path, la_code: &str, urn: &str, name: &str) -> PathBuf {
    school_path(
        out,
        la_code,
        urn,
        &format!("{}-targets", slug(name)),
        "xlsx",
    )
}

/// One form per chosen school, `<out>/<LA code>/<URN>-<slug>-targets.xlsx`, each written atomically.
pub fn forms(data: &Data, req: &FormsRequest) -> anyhow::Result<FormsSummary> {
    let prepared = Prepared::new(data, req.year, req.neighbours)?;
    let chosen = choose(&prepared, &req.sel)?;
    let measures = target_measures(data.catalogue);
    let mut summary = FormsSummary::default();
    let mut failures = Vec::new();
    for s in chosen {
        let la = s.la_code.clone().unwrap_or_default();
        let rows: Vec<FormRow> = measures
            .iter()
            .filter_map(|m| {
                let meas = data.catalogue.measure(m)?;
                Some(FormRow {
                    measure: m.to_string(),
                    label: meas.short_label().into(),
                    description: meas.description.clone(),
                    unit: meas.unit.clone(),
                    dps: meas.dps,
                    range: meas.value_range(),
                    figures: prepared.target_figures(m, &s.urn, &la)?,
                })
            })
            .collect();
        let name = s.name.clone().unwrap_or_default();
        if rows.is_empty() {
            summary.skipped.push(format!(
                "URN {} {name}: no KS2 or KS4 headline figures for {}",
                s.urn,
                academic_label(req.year)
            ));
            continue;
        }
        let form = Form {
            urn: s.urn.clone(),
            name: name.clone(),
            la_code: la.clone(),
            la_name: s
                .la_name
                .clone()
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| data.name(&la)),
            base_year: req.year,
            rows,
        };
        let path = form_path(req.out, &la, &s.urn, &name);
        match xlsx(&form)
            .map_err(|e| e.to_string())
            .and_then(|b| crate::atomic::write_atomic(&path, &b).map_err(|e| e.to_string()))
        {
            Ok(()) => summary.written.push(path),
            Err(e) => failures.push(format!("{}: {e}", path.display())),
        }
    }
    if !failures.is_empty() {
        return Err(RenderFailures {
            total: summary.written.len() + failures.len(),
            failures,
        }
        .into());
    }
    Ok(summary)
}

/// What happened to one return.
#[derive(Debug, Clone)]
pub struct ReturnOutcome {
    pub file: String,
    /// The targets stored (none if the return had problems).
    pub targets: Vec<TargetRow>,
    pub problems: Vec<Problem>,
}

#[derive(Debug, Clone)]
pub struct ImportSummary {
    /// The results year the targets are for.
    pub year: i32,
    pub returns: Vec<ReturnOutcome>,
    /// Rows in the store's targets table after the import.
    pub table_rows: usize,
}

impl ImportSummary {
    pub fn failed(&self) -> usize {
        self.returns
            .iter()
            .filter(|r| !r.problems.is_empty())
            .count()
    }
}

/// The files to read: files as named, and the workbooks inside named directories (walked
/// as ingest walks them: hidden files skipped, each file once, symlink loops stopped).
fn return_files(paths: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let is_workbook = |p: &PathBuf| {
        p.extension().is_some_and(|x| {
            ["xlsx", "xlsm", "xls", "ods"]
                .contains(&x.to_string_lossy().to_ascii_lowercase().as_str())
        })
    };
    // Office lock files (~$x.xlsx) are not returns.
    let is_lock = |p: &PathBuf| {
        p.file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("~$"))
    };
    Ok(crate::ingest::collect_files(paths)?
        .into_iter()
        .filter(|(p, named)| *named || (is_workbook(p) && !is_lock(p)))
        .map(|(p, _)| p)
        .collect())
}

/// Read and check every return; store the targets of those without problems (replacing
/// earlier imports for the same school, year and measure), whatever the others hold.
pub fn import(data: &Data, files: &[PathBuf], year: Option<i32>) -> anyhow::Result<ImportSummary> {
    let year = match year {
        Some(y) => y,
        None => latest_results_year(data)?.map(|y| y + 1).ok_or_else(|| {
            ConfigError::new(
                "--year",
                "the store has no KS2 or KS4 school results to set targets from",
            )
        })?,
    };
    let schools: HashMap<String, SchoolRow> =
        frame::schools_from_frame(&data.store.read("schools")?)?
            .into_iter()
            .map(|s| (s.urn.clone(), s))
            .collect();
    // Each school's form has a row for each headline measure it had a figure for the year before.
    let mut form_measures: HashMap<String, Vec<String>> = HashMap::new();
    for m in target_measures(data.catalogue) {
        for (urn, r) in school_figures(data, m, year - 1)? {
            if r.value.is_some() {
                form_measures.entry(urn).or_default().push(m.to_string());
            }
        }
    }
    let expect = Expect {
        year,
        schools: &schools,
        catalogue: data.catalogue,
        form_measures: &form_measures,
    };
    let mut returns = Vec::new();
    for f in return_files(files)? {
        let file = crate::ingest::display_path(&f);
        let outcome = match crate::ingest::target_return::read(&f) {
            Err(e) => {
                let message = match e.row {
                    Some(r) => format!("row {r}: {}", e.message),
                    None => e.message,
                };
                ReturnOutcome {
                    file: file.clone(),
                    targets: vec![],
                    problems: vec![Problem {
                        file: file.clone(),
                        sheet: None,
                        cell: None,
                        urn: None,
                        measure: None,
                        message,
                    }],
                }
            }
            Ok(ret) => match check(&ret, &expect) {
                Ok(targets) => ReturnOutcome {
                    file,
                    targets,
                    problems: vec![],
                },
                Err(problems) => ReturnOutcome {
                    file,
                    targets: vec![],
                    problems,
                },
            },
        };
        returns.push(outcome);
    }
    anyhow::ensure!(
        !returns.is_empty(),
        ConfigError::new("FILES", "no returns (.xlsx) found in the paths given")
    );
    let valid: Vec<TargetRow> = returns
        .iter()
        .flat_map(|r| r.targets.iter().cloned())
        .collect();
    let table_rows = if valid.is_empty() {
        data.store.targets()?.len()
    } else {
        data.store.write_targets(&valid)?
    };
    Ok(ImportSummary {
        year,
        returns,
        table_rows,
    })
}

/// A figure for print: whole numbers without `.0`.
fn num(v: f64) -> Value {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        json!(v as i64)
    } else {
        json!(v)
    }
}

/// `table`: each problem as `file, sheet S, cell C: message` and a line per stored return;
/// `csv` / `json`: one row per problem or stored target.
pub fn print_import(s: &ImportSummary, data: &Data, format: Format) -> String {
    match format {
        Format::Table => {
            let mut out = String::new();
            for r in &s.returns {
                for p in &r.problems {
                    out.push_str(&format!("{p}\n"));
                }
                if let Some(t) = r.targets.first() {
                    out.push_str(&format!(
                        "{}: stored {} agreed target(s) for {} for URN {} {}\n",
                        r.file,
                        r.targets.len(),
                        academic_label(s.year),
                        t.urn,
                        data.name(&t.urn)
                    ));
                }
            }
            out
        }
        f => {
            let mut rep = Report::new(&[
                "file", "sheet", "cell", "urn", "measure", "outcome", "target", "message",
            ]);
            for r in &s.returns {
                for p in &r.problems {
                    rep.push(vec![
                        json!(p.file),
                        json!(p.sheet),
                        json!(p.cell),
                        json!(p.urn),
                        json!(p.measure),
                        json!("error"),
                        Value::Null,
                        json!(p.message),
                    ]);
                }
                for t in &r.targets {
                    rep.push(vec![
                        json!(r.file),
                        json!(t.source_sheet),
                        json!(t.source_cell),
                        json!(t.urn),
                        json!(t.measure),
                        json!("stored"),
                        num(t.target),
                        json!(format!("agreed target for {}", academic_label(t.year))),
                    ]);
                }
            }
            rep.render(f)
        }
    }
}

/// The one-line summary (stderr).
pub fn import_summary_line(s: &ImportSummary) -> String {
    let stored: Vec<&ReturnOutcome> = s.returns.iter().filter(|r| r.problems.is_empty()).collect();
    let targets: usize = stored.iter().map(|r| r.targets.len()).sum();
    let problems: usize = s.returns.iter().map(|r| r.problems.len()).sum();
    format!(
        "{} return(s) for {}: {} stored ({targets} targets), {} with errors ({problems} problem(s)); the store holds \
            {} target(s)",
        s.returns.len(),
        academic_label(s.year),
        stored.len(),
        s.failed(),
        s.table_rows
    )
}

/// Stored targets (of an LA, for a year: default the latest with targets) against the results.
pub fn compare(
    data: &Data,
    la: Option<&str>,
    year: Option<i32>,
) -> anyhow::Result<Vec<TargetOutcome>> {
    let all = data.store.targets()?;
    anyhow::ensure!(
        !all.is_empty(),
        ConfigError::new(
            "targets",
            format!(
                "the store at {} has no imported targets: \
        run `attain targets import FILES...` first",
                data.store.dir.display()
            )
        )
    );
    let mut rows: Vec<TargetRow> = all
        .into_iter()
        .filter(|t| la.is_none_or(|l| t.la_code.as_deref() == Some(l)))
        .collect();
    let year = match year {
        Some(y) => y,
        None => rows.iter().map(|t| t.year).max().ok_or_else(|| {
            ConfigError::new(
                "--la",
                format!("no targets for LA {}", la.unwrap_or_default()),
            )
        })?,
    };
    rows.retain(|t| t.year == year);
    anyhow::ensure!(
        !rows.is_empty(),
        ConfigError::new(
            "--year",
            format!(
                "no targets for {}{}",
                academic_label(year),
                la.map(|l| format!(" in LA {l}")).unwrap_or_default()
            )
        )
    );
    let order: Vec<&str> = target_measures(data.catalogue);
    let pos = |m: &str| order.iter().position(|x| *x == m).unwrap_or(usize::MAX);
    rows.sort_by(|a, b| {
        a.la_code
            .cmp(&b.la_code)
            .then(a.urn.cmp(&b.urn))
            .then(pos(&a.measure).cmp(&pos(&b.measure)))
            .then(a.measure.cmp(&b.measure))
    });
    Ok(compare_targets(data, &rows)?)
}

pub const COMPARE_COLUMNS: &[&str] = &[
    "urn",
    "school",
    "la_code",
    "year",
    "measure",
    "target",
    "actual",
    "difference",
    "outcome",
    "source",
];

pub fn print_compare(rows: &[TargetOutcome], format: Format) -> String {
    let mut rep = Report::new(COMPARE_COLUMNS);
    for r in rows {
        rep.push(vec![
            json!(r.urn),
            json!(r.school),
            json!(r.la_code),
            json!(r.year),
            json!(r.measure),
            num(r.target),
            r.actual.map(num).unwrap_or(Value::Null),
            r.difference.map(num).unwrap_or(Value::Null),
            json!(r.outcome),
            json!(r.source),
        ]);
    }
    rep.render(format)
}

/// Forms for `attain targets forms` and the `target-forms` stage: the selection and year checked.
pub fn forms_from_args(
    a: &crate::cli::FormsArgs,
    data: &Data,
) -> anyhow::Result<(FormsSummary, i32)> {
    let sel = a.sel.selection()?;
    if let Some(la) = &sel.la {
        crate::commands::validate::la(data, la)?;
    }
    let year = crate::commands::booklet::school_year(data, a.year)?;
    let s = forms(
        data,
        &FormsRequest {
            sel,
            year,
            neighbours: a.neighbours,
            out: &a.out,
        },
    );
    if s.is_err() {
        crate::commands::validate::schools_in_year(data, &a.sel.schools, year)?;
    }
    Ok((s?, year))
}

pub fn cli_forms(
    a: &crate::cli::FormsArgs,
    ctx: &crate::commands::Ctx,
) -> anyhow::Result<crate::commands::Code> {
    let opened = ctx.open(&a.store.store)?;
    let data = opened.data(None)?;
    let (s, year) = forms_from_args(a, &data)?;
    for k in &s.skipped {
        crate::output::status(format!("no form: {k}"));
    }
    crate::output::status(format!(
        "{} target form(s) for {} (from the {} results) in {}",
        s.written.len(),
        academic_label(year + 1),
        academic_label(year),
        a.out.display()
    ));
    Ok(crate::commands::Code::Ok)
}

pub fn cli_import(
    a: &crate::cli::ImportArgs,
    ctx: &crate::commands::Ctx,
) -> anyhow::Result<crate::commands::Code> {
    let opened = ctx.open(&a.store.store)?;
    let data = opened.data(None)?;
    let s = import(&data, &a.files, a.year)?;
    crate::output::stdout(&print_import(&s, &data, a.format.format))?;
    crate::output::status(import_summary_line(&s));
    Ok(if s.failed() > 0 {
        crate::commands::Code::Input
    } else {
        crate::commands::Code::Ok
    })
}

pub fn cli_compare(
    a: &crate::cli::CompareArgs,
    ctx: &crate::commands::Ctx,
) -> anyhow::Result<crate::commands::Code> {
    let opened = ctx.open(&a.store.store)?;
    let data = opened.data(a.la.as_deref())?;
    crate::output::stdout(&print_compare(
        &compare(&data, a.la.as_deref(), a.year)?,
        a.format.format,
    ))?;
    Ok(crate::commands::Code::Ok)
}
