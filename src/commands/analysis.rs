//! `attain rank`, `attain gaps`, `attain reconcile`, `attain trend`: flags checked, the
//! analysis run, and its rows printed.

use serde::Serialize;
use serde_json::Value;

use crate::analysis::aggregate::Reconciliation;
use crate::analysis::gaps::GapRow;
use crate::analysis::ranking::RankRow;
use crate::output::{Format, Report};

/// JSON prints every field of the rows; table and CSV print the named columns.
pub fn report<T: Serialize>(rows: &[T], columns: &[&str]) -> Report {
    let mut r = Report::new(columns);
    for row in rows {
        let v = serde_json::to_value(row).unwrap_or(Value::Null);
        r.push(
            columns
                .iter()
                .map(|c| v.get(*c).cloned().unwrap_or(Value::Null))
                .map(denoise)
                .collect(),
        );
    }
    r
}

/// Figures come rounded from the analysis; float noise is removed here as a last guard.
fn denoise(mut v: Value) -> Value {
    crate::number::denoise_json(&mut v);
    v
}

pub fn print<T: Serialize>(rows: &[T], columns: &[&str], format: Format) -> String {
    match format {
        Format::Json => crate::number::to_json_pretty(rows).unwrap_or_default() + "\n",
        f => report(rows, columns).render(f),
    }
}

pub fn print_rank(rows: &[RankRow], format: Format) -> String {
    print(
        rows,
        &[
            "la_code",
            "la_name",
            "value",
            "rank",
            "of",
            "quartile",
            "top10",
            "top10_threshold",
            "distance_to_top10",
            "sn_rank",
            "sn_of",
            "sn_average",
            "sn_top_quartile",
        ],
        format,
    )
}

pub fn print_gaps(rows: &[GapRow], format: Format) -> String {
    print(
        rows,
        &[
            "code",
            "name",
            "group",
            "group_value",
            "comparison",
            "comparison_value",
            "gap",
            "significance",
            "trend",
            "reason",
        ],
        format,
    )
}

pub fn print_reconcile(rows: &[Reconciliation], format: Format) -> String {
    print(
        rows,
        &[
            "code",
            "name",
            "group",
            "phase",
            "computed",
            "computed_rounded",
            "published",
            "difference",
            "schools",
            "schools_withheld",
            "cohort_withheld",
            "explanation",
        ],
        format,
    )
}

use crate::cli::{GapsArgs, RankArgs, ReconcileArgs, TrendArgs};
use crate::commands::{validate, year::results_year, Code, Ctx};
use crate::error::ConfigError;
use crate::store::schema::Level;
use crate::store::Store;

/// `attain rank`: every LA ranked; `--la` keeps that LA's row.
pub fn rank(a: &RankArgs, ctx: &Ctx) -> anyhow::Result<Code> {
    let opened = ctx.open(&a.store.store)?;
    validate::measure(&opened.catalogue, &a.measure)?;
    validate::group(&opened.catalogue, &a.group)?;
    let data = opened.data(a.la.as_deref())?;
    let year = results_year(&data, a.year.year, &[&a.measure], Level::La)?;
    let req = crate::analysis::ranking::RankRequest {
        measure: &a.measure,
        group: &a.group,
        year,
        neighbours: a.neighbours,
        rule: match a.top10_percentile {
            Some(p) => crate::analysis::rank::Top10Rule::Percentile(p),
            None => crate::analysis::rank::Top10Rule::RankCut,
        },
    };
    let mut rows = crate::analysis::ranking::rank(&data, &req)?;
    anyhow::ensure!(
        !rows.is_empty(),
        ConfigError::new(
            "--group",
            format!(
                "the store has no LA figures for {} ({}) in {year}",
                a.measure, a.group
            )
        )
    );
    if let Some(la) = &a.la {
        rows.retain(|r| &r.la_code == la);
        anyhow::ensure!(
            !rows.is_empty(),
            ConfigError::new(
                "--la",
                format!("LA {la} has no {} figure for {year}", a.measure)
            )
        );
    }
    crate::output::stdout(&print_rank(&rows, a.format.format))?;
    Ok(Code::Ok)
}

/// `attain gaps`: from published figures, or from pupil-level files with `--pupils`.
pub fn gaps(a: &GapsArgs, ctx: &Ctx) -> anyhow::Result<Code> {
    if !a.pupils.is_empty() {
        return pupil_gaps(a);
    }
    anyhow::ensure!(
        a.level.is_published(),
        ConfigError::new(
            "--level",
            "published figures have no partnership level: use `attain partnerships`, or --pupils with --partnerships"
        )
    );
    let opened = ctx.open(&a.store.store)?;
    validate::measure(&opened.catalogue, &a.measure)?;
    validate::group(&opened.catalogue, &a.group)?;
    let data = opened.data(a.la.as_deref())?;
    let level = a.level;
    let year = results_year(&data, a.year.year, &[&a.measure], level)?;
    let req = crate::analysis::gaps::GapRequest {
        measure: &a.measure,
        group: &a.group,
        level,
        la: a.la.as_deref(),
        year,
        against: a.against,
        trend_years: 3,
    };
    let rows = crate::analysis::gaps::gaps(&data, &req)?;
    crate::output::stdout(&print_gaps(&rows, a.format.format))?;
    Ok(Code::Ok)
}

/// Gaps from pupil-level files: always against the rest of the school, partnership or LA.
fn pupil_gaps(a: &GapsArgs) -> anyhow::Result<Code> {
    anyhow::ensure!(
        a.against == crate::analysis::gaps::Against::Within,
        ConfigError::new(
            "--against",
            "pupil data compares a group with the rest of its school, partnership or LA (within); \
             national and all comparisons need published figures (drop --pupils)"
        )
    );
    let level = a.level;
    anyhow::ensure!(
        Level::PUPIL_DATA.contains(&level),
        ConfigError::new(
            "--level",
            "pupil data is the LA's own: use school, partnership or la"
        )
    );
    let o = crate::commands::pupils::PupilGapOptions {
        pupils: &a.pupils,
        measure: &a.measure,
        group: &a.group,
        level,
        year: a.year.year,
        years: a.years,
        only: a.only.clone(),
        la: a.la.as_deref(),
        prior_means: a.prior_means.as_ref(),
        partnerships: a.partnerships.as_ref(),
        threshold: a.threshold,
        widest: a.widest,
        allow_bad_rows: a.allow_bad_rows,
        ledger: a.ledger.as_deref(),
    };
    let (rows, warnings, notes) = crate::commands::pupils::run(&Store::at(&a.store.store), &o)?;
    for w in &warnings {
        crate::output::warn(format!("dropped a bad pupil row: {w}"));
    }
    for n in &notes {
        crate::output::warn(n);
    }
    crate::output::stdout(&crate::commands::pupils::print(&rows, a.format.format))?;
    Ok(if warnings.is_empty() {
        Code::Ok
    } else {
        Code::DataWarnings
    })
}

/// `attain reconcile`: LA figures rebuilt from school rows against DfE's.
pub fn reconcile(a: &ReconcileArgs, ctx: &Ctx) -> anyhow::Result<Code> {
    let opened = ctx.open(&a.store.store)?;
    validate::measure(&opened.catalogue, &a.measure)?;
    validate::group(&opened.catalogue, &a.group)?;
    let data = opened.data(a.la.as_deref())?;
    let year = results_year(&data, a.year.year, &[&a.measure], Level::La)?;
    let rows =
        crate::analysis::aggregate::reconcile(&data, &a.measure, &a.group, year, a.la.as_deref())?;
    crate::output::stdout(&print_reconcile(&rows, a.format.format))?;
    Ok(Code::Ok)
}

/// `attain trend`: one school's, LA's or England's series, breaks marked.
pub fn trend(a: &TrendArgs, ctx: &Ctx) -> anyhow::Result<Code> {
    let opened = ctx.open(&a.store.store)?;
    let cat = &opened.catalogue;
    validate::measure(cat, &a.measure)?;
    validate::group(cat, &a.group)?;
    let data = opened.data(None)?;
    let years = match (a.from, a.to) {
        (Some(f), Some(t)) => Some((f, t)),
        (None, None) => None,
        _ => anyhow::bail!(ConfigError::new("--from/--to", "give both or neither")),
    };
    let t = crate::commands::trend::series(&data, &a.measure, &a.group, &a.code, years)?;
    match a.format.format {
        Format::Json => {
            crate::output::stdout(&format!("{}\n", crate::number::to_json_pretty(&t)?))?
        }
        f => {
            let mut text = print(
                &crate::commands::trend::lines(&t),
                &[
                    "year",
                    "value",
                    "comparable",
                    "reason",
                    "break_note",
                    "source",
                ],
                f,
            );
            if f == Format::Table {
                text.push_str(&format!(
                    "{} {} ({}): {}{}\n",
                    t.name,
                    t.measure,
                    t.group,
                    t.trend.summary,
                    t.trend
                        .change
                        .map(|c| format!(
                            ", change {}",
                            crate::number::format_gap(cat.measure(&a.measure), Some(c))
                        ))
                        .unwrap_or_default()
                ));
            }
            crate::output::stdout(&text)?;
        }
    }
    Ok(Code::Ok)
}
