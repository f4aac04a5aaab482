//! `attain ofsted`: Ofsted standing of every LA (or one), by phase.

use crate::analysis::data::Data;
use crate::analysis::ofsted::{ofsted, OfstedReport, Phase};
use crate::error::ConfigError;
use crate::output::Format;

pub struct OfstedRequest<'r> {
    pub la: Option<&'r str>,
    /// None: primary, secondary and all phases.
    pub phase: Option<Phase>,
    pub year: Option<i32>,
}

/// The report, with rows kept for the LA asked for (every LA is still ranked).
pub fn run(data: &Data, req: &OfstedRequest) -> anyhow::Result<OfstedReport> {
    let phases: Vec<Phase> = match req.phase {
        None => vec![Phase::Primary, Phase::Secondary, Phase::All],
        Some(p) => vec![p],
    };
    let mut report = ofsted(data, req.year, req.la, &phases)?;
    if let Some(la) = req.la {
        report.rows.retain(|r| r.la_code == la);
        if report.rows.is_empty() {
            let source = match report.matching.census_year {
                Some(y) => format!("the January {y} census"),
                None => format!("the Ofsted snapshot {}", report.matching.snapshot),
            };
            anyhow::bail!(ConfigError::new(
                "--la",
                format!("LA {la} has no schools in {source}")
            ));
        }
    }
    Ok(report)
}

pub fn print(report: &OfstedReport, format: Format) -> String {
    let cols = [
        "la_code",
        "la_name",
        "phase",
        "schools",
        "pct_schools_good_or_better",
        "rank_schools",
        "pupils",
        "pct_pupils_good_or_better",
        "rank_pupils",
        "of",
        "pupils_in_ri_or_inadequate",
        "region",
        "region_pct_schools_good_or_better",
        "region_pct_pupils_good_or_better",
        "england_pct_schools_good_or_better",
        "england_pct_pupils_good_or_better",
    ];
    match format {
        Format::Json => super::analysis::print(&report.rows, &cols, format),
        Format::Csv => {
            let extra = [
                "schools_without_pupil_numbers",
                "census_schools_not_inspected",
                "snapshot_year",
                "census_year",
                "sentence",
                "schools_oeif_not_judged",
                "schools_report_card",
                "schools_no_graded_inspection",
                "schools_report_card_expected_or_better",
                "pct_schools_report_card_expected_or_better",
                "pupils_report_card",
                "pupils_report_card_expected_or_better",
                "pct_pupils_report_card_expected_or_better",
                "england_pct_schools_report_card_expected_or_better",
                "england_pct_pupils_report_card_expected_or_better",
                "sentence_frameworks",
                "definition_good_or_better",
                "definition_report_card",
            ];
            super::analysis::print(&report.rows, &[&cols[..], &extra[..]].concat(), format)
        }
        Format::Table => {
            let mut out = super::analysis::print(&report.rows, &cols[..11], format);
            out.push('\n');
            for r in &report.rows {
                out.push_str(&r.sentence);
                out.push('\n');
                out.push_str(&r.sentence_frameworks);
                out.push('\n');
            }
            out.push_str(&format!(
                "\nGood or outstanding — {}.\nReport cards, expected standard or better — {}.\n",
                crate::analysis::ofsted::DEFINITION_GOOD_OR_BETTER,
                crate::analysis::ofsted::DEFINITION_REPORT_CARD
            ));
            out
        }
    }
}

/// `attain ofsted`: how the inspections matched the census on stderr, the standing on stdout.
pub fn cli(
    a: &crate::cli::OfstedArgs,
    ctx: &crate::commands::Ctx,
) -> anyhow::Result<crate::commands::Code> {
    let opened = ctx.open(&a.store.store)?;
    let data = opened.data(a.la.as_deref())?;
    let report = run(
        &data,
        &OfstedRequest {
            la: a.la.as_deref(),
            phase: a.phase,
            year: a.year,
        },
    )?;
    for line in report.matching.lines() {
        crate::output::status(line);
    }
    crate::output::stdout(&print(&report, a.format.format))?;
    Ok(crate::commands::Code::Ok)
}
