//! `attain workbook`: one LA's figures in a workbook for people: rankings of every
//! headline measure, gaps, Ofsted standing, school categories and partnerships.

use std::path::Path;

use serde_json::{json, Value};

use crate::analysis::data::Data;
use crate::analysis::gaps::{gaps, Against, GapRequest};
use crate::analysis::ofsted::{ofsted, Phase};
use crate::analysis::rank::Top10Rule;
use crate::analysis::ranking::{rank, RankRequest};
use crate::error::{ConfigError, RenderFailures};
use crate::output::Report;
use crate::render::workbook::{xlsx, Sheet};
use crate::store::schema::Level;

pub struct WorkbookRequest<'r> {
    pub la: &'r str,
    pub out: &'r Path,
    pub rules: &'r Path,
    pub map: Option<&'r Path>,
    pub neighbours: i32,
}

/// The rankings columns (the same names as `attain rank --format json`).
pub const RANK_COLUMNS: &[&str] = &[
    "measure",
    "year",
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
    "source",
];
/// SEN support and EHC plan as DfE publishes them (LAIT, KS4 characteristics); `sen` (either)
/// only where a file gives that (KS4 characteristics' "Any SEN").
/// The gaps sheets' columns (the same names as `attain gaps --format json`).
const GAP_COLUMNS: &[&str] = &[
    "measure",
    "group",
    "comparison",
    "year",
    "group_value",
    "comparison_value",
    "gap",
    "significance",
    "trend",
];
const GAP_GROUPS: &[&str] = &["disadvantaged", "lac", "sen", "sen_support", "ehcp", "fsm"];

/// Build every sheet and write the workbook atomically. Returns sheet name -> rows written.
pub fn run(data: &Data, req: &WorkbookRequest) -> anyhow::Result<Vec<(String, usize)>> {
    let la = req.la;
    let name = data.name(la);
    let headline: Vec<String> = data
        .catalogue
        .measures
        .iter()
        .filter(|m| m.headline)
        .map(|m| m.id.clone())
        .collect();

    let mut latest = 1900;
    let mut rankings = Report::new(&[&["measure_label"][..], RANK_COLUMNS].concat());
    let mut gap_rep = Report::new(GAP_COLUMNS);
    // Each row's published places, for the workbook's number formats.
    let (mut rank_dps, mut gap_dps) = (Vec::new(), Vec::new());
    let dps_of = |m: &str| Some(crate::number::dps_of(data.catalogue.measure(m)));
    for m in &headline {
        let Some(year) = data.latest_year(m, Level::La)? else {
            continue;
        };
        latest = latest.max(year);
        let req_r = RankRequest {
            measure: m,
            group: "all",
            year,
            neighbours: Some(req.neighbours),
            rule: Top10Rule::RankCut,
        };
        let rows = rank(data, &req_r)?;
        if let Some(r) = rows.iter().find(|r| r.la_code == la) {
            let v = serde_json::to_value(r)?;
            rank_dps.push(Some(r.dps));
            let label = data
                .catalogue
                .measure(m)
                .map(|x| x.short_label().to_string())
                .unwrap_or_default();
            rankings.push(
                std::iter::once(json!(label))
                    .chain(
                        RANK_COLUMNS
                            .iter()
                            .map(|c| v.get(*c).cloned().unwrap_or(Value::Null)),
                    )
                    .collect(),
            );
        }
        for g in GAP_GROUPS {
            let gr = GapRequest {
                measure: m,
                group: g,
                level: Level::La,
                la: Some(la),
                year,
                against: Against::Within,
                trend_years: 3,
            };
            for r in gaps(data, &gr)?.into_iter().filter(|r| r.code == la) {
                push_gap(&mut gap_rep, &r)?;
                gap_dps.push(dps_of(m));
            }
        }
    }
    let school_gaps = school_gaps(data, la)?;
    if rankings.rows.is_empty() {
        anyhow::bail!(ConfigError::new(
            "--la",
            format!("LA {la} has no headline figures in the store")
        ));
    }

    let mut of_rep = Report::new(&[
        "phase",
        "snapshot_year",
        "schools",
        "pct_schools_good_or_better",
        "rank_schools",
        "pct_pupils_good_or_better",
        "rank_pupils",
        "of",
        "england_pct_schools_good_or_better",
        "england_pct_pupils_good_or_better",
        "sentence",
    ]);
    if let Ok(report) = ofsted(
        data,
        None,
        Some(la),
        &[Phase::Primary, Phase::Secondary, Phase::All],
    ) {
        for r in report.rows.iter().filter(|r| r.la_code == la) {
            let v = serde_json::to_value(r)?;
            of_rep.push(
                of_rep
                    .columns
                    .clone()
                    .iter()
                    .map(|c| v.get(c).cloned().unwrap_or(Value::Null))
                    .collect(),
            );
        }
    }

    let mut category_scale = vec![];
    let categories = match super::categorise::run(
        data,
        &super::categorise::CategoriseRequest {
            rules: req.rules,
            la: Some(la),
            year: None,
        },
    ) {
        Ok((rules, results)) => {
            category_scale = super::categorise::category_scale(&rules);
            super::categorise::categories_report(&results)
        }
        // No school results for the LA is a note on the sheet; a bad rules file is an error.
        Err(e)
            if e.chain().any(|c| {
                c.downcast_ref::<ConfigError>()
                    .is_some_and(|c| c.file != req.rules.display().to_string())
            }) =>
        {
            let mut r = Report::new(&["note"]);
            r.push(vec![json!(format!("{e:#}"))]);
            r
        }
        Err(e) => return Err(e),
    };

    let mut part_rep = Report::new(&[
        "partnership",
        "measure",
        "year",
        "value",
        "cohort",
        "numerator",
        "schools",
        "schools_included",
        "schools_excluded",
        "schools_without_results",
        "excluded",
    ]);
    let mut part_notes = vec![
        "Partnership figures: pupils meeting the measure over pupils (never an average of \
        school percentages); withheld figures excluded."
            .to_string(),
    ];
    match req.map {
        Some(map) => {
            let measures = vec!["ks2_rwm_expected".to_string()];
            for r in super::partnerships::run(
                data,
                &super::partnerships::PartnershipRequest {
                    map,
                    measures: &measures,
                    year: None,
                },
            )? {
                let v = serde_json::to_value(&r)?;
                part_rep.push(
                    part_rep
                        .columns
                        .clone()
                        .iter()
                        .map(|c| {
                            if c == "excluded" {
                                json!(r.excluded.join("; "))
                            } else {
                                v.get(c).cloned().unwrap_or(Value::Null)
                            }
                        })
                        .collect(),
                );
            }
        }
        None => {
            part_notes.push("No partnership map was given (attain workbook --map FILE).".into())
        }
    }

    let src = format!(
        "{name} ({la}). Made by attain {} from the store; neighbours: DfE {} model.",
        crate::version(),
        req.neighbours
    );
    let measure_dps = |rep: &Report| -> Vec<Option<u32>> {
        let col = rep.columns.iter().position(|c| c == "measure");
        rep.rows
            .iter()
            .map(|r| col.and_then(|c| r[c].as_str()).and_then(dps_of))
            .collect()
    };
    let school_gap_dps = measure_dps(&school_gaps);
    let part_dps = measure_dps(&part_rep);
    let sheets = [
        Sheet {
            name: "Rankings",
            report: &rankings,
            frozen_columns: 1,
            notes: vec![format!(
                "Rankings of every headline measure, latest year: {src}"
            )],
            dps: rank_dps,
            scales: vec![],
        },
        Sheet {
            name: "Gaps",
            report: &gap_rep,
            frozen_columns: 2,
            notes: vec![format!("Gaps (group minus comparison), latest year: {src}")],
            dps: gap_dps,
            scales: vec![],
        },
        Sheet {
            name: "School gaps",
            report: &school_gaps,
            frozen_columns: 2,
            notes: vec![format!(
                "Each school's gaps as its booklet prints them (catalogue/booklet.toml), latest year with the LA's \
                    school figures: {src}"
            )],
            dps: school_gap_dps,
            scales: vec![],
        },
        Sheet {
            name: "Ofsted",
            report: &of_rep,
            frozen_columns: 1,
            notes: vec![format!("Ofsted standing, latest snapshot: {src}")],
            dps: vec![],
            scales: vec![],
        },
        Sheet {
            name: "Categories",
            report: &categories,
            frozen_columns: 2,
            notes: vec![format!(
                "School categories under {}: {src}",
                req.rules.display()
            )],
            dps: vec![],
            scales: vec![("category".into(), category_scale)],
        },
        Sheet {
            name: "Partnerships",
            report: &part_rep,
            frozen_columns: 1,
            notes: part_notes,
            dps: part_dps,
            scales: vec![],
        },
    ];
    let bytes =
        xlsx(&sheets, &format!("{name}: LA workbook"), latest).map_err(|e| RenderFailures {
            total: 1,
            failures: vec![format!("{}: {e}", req.out.display())],
        })?;
    crate::atomic::write_atomic(req.out, &bytes)?;
    Ok(sheets
        .iter()
        .map(|s| (s.name.to_string(), s.report.rows.len()))
        .collect())
}

/// Each of the LA's schools' gaps, the pairs and measures the booklet shows, from the one
/// gap computation (`analysis::gaps`) the booklet and `attain gaps` use.
fn school_gaps(data: &Data, la: &str) -> anyhow::Result<Report> {
    let mut rep = Report::new(&[&["code", "name"][..], GAP_COLUMNS].concat());
    let contents = &data.catalogue.booklet;
    for m in contents.sections.iter().flat_map(|s| &s.gaps) {
        // The latest year in which the LA's schools have the measure.
        let mut years = data.years(m, Level::School)?;
        years.sort_unstable_by(|a, b| b.cmp(a));
        let mut year = None;
        for y in years {
            if !data
                .best(m, "all", y, Level::School, None)?
                .values()
                .any(|r| r.la_code.as_deref() == Some(la) && r.value.is_some())
            {
                continue;
            }
            year = Some(y);
            break;
        }
        let Some(year) = year else { continue };
        for pair in &contents.gaps {
            let req = GapRequest {
                measure: m,
                group: &pair.group,
                level: Level::School,
                la: Some(la),
                year,
                against: if pair.against == "national" {
                    Against::National
                } else {
                    Against::Within
                },
                trend_years: 3,
            };
            let mut rows = gaps(data, &req)?;
            rows.retain(|r| r.group_value.is_some());
            rows.sort_by(|a, b| a.code.cmp(&b.code));
            for r in rows {
                push_gap(&mut rep, &r)?;
            }
        }
    }
    Ok(rep)
}

/// One gap row into a report, its columns named as `attain gaps --format json` names them.
fn push_gap(rep: &mut Report, r: &crate::analysis::gaps::GapRow) -> anyhow::Result<()> {
    let v = serde_json::to_value(r)?;
    let cells = rep
        .columns
        .iter()
        .map(|c| v.get(c).cloned().unwrap_or(Value::Null))
        .collect();
    rep.push(cells);
    Ok(())
}

/// The workbook for `attain workbook` and the `workbook` stage: its sheets and their rows.
pub fn from_args(
    a: &crate::cli::WorkbookArgs,
    data: &Data,
) -> anyhow::Result<Vec<(String, usize)>> {
    crate::commands::validate::la(data, &a.la)?;
    run(
        data,
        &WorkbookRequest {
            la: &a.la,
            out: &a.out,
            rules: &a.rules,
            map: a.map.as_deref(),
            neighbours: a.neighbours,
        },
    )
}

pub fn cli(
    a: &crate::cli::WorkbookArgs,
    ctx: &crate::commands::Ctx,
) -> anyhow::Result<crate::commands::Code> {
    let opened = ctx.open(&a.store.store)?;
    let data = opened.data(None)?;
    let sheets = from_args(a, &data)?;
    crate::output::status(format!(
        "wrote {}: {}",
        a.out.display(),
        sheets
            .iter()
            .map(|(n, r)| format!("{n} {r} rows"))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    Ok(crate::commands::Code::Ok)
}
