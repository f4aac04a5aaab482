//! `attain partnerships`: partnership summary tables (and a chart) from a URN map.

use std::path::{Path, PathBuf};

use crate::analysis::data::Data;
use crate::analysis::partnerships::{read_map, summarise, PartnershipRow};
use crate::error::{ConfigError, RenderFailures};
use crate::output::Format;
use crate::render::committee::{self, Bar, Chart, Figure, Role};
use crate::store::schema::Level;

pub struct PartnershipRequest<'r> {
    pub map: &'r Path,
    pub measures: &'r [String],
    pub year: Option<i32>,
}

pub fn run(data: &Data, req: &PartnershipRequest) -> anyhow::Result<Vec<PartnershipRow>> {
    let map = read_map(req.map)?;
    let mut out = Vec::new();
    for m in req.measures {
        if data.catalogue.measure(m).is_none() {
            anyhow::bail!(ConfigError::new(
                "--measure",
                format!("unknown measure {m:?} (see `attain measures`)")
            ));
        }
        let year = match req.year {
            Some(y) => y,
            None => data.latest_year(m, Level::School)?.ok_or_else(|| {
                ConfigError::new(
                    "--measure",
                    format!("the store has no school figures for {m}"),
                )
            })?,
        };
        out.extend(summarise(data, &map, m, year)?);
    }
    Ok(out)
}

pub fn print(rows: &[PartnershipRow], format: Format) -> String {
    super::analysis::print(
        rows,
        &[
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
        ],
        format,
    )
}

/// One bar chart per measure: each partnership, with every mapped school together marked.
pub fn charts(data: &Data, rows: &[PartnershipRow], map: &Path) -> Vec<Chart> {
    let mut measures: Vec<(&str, i32)> =
        rows.iter().map(|r| (r.measure.as_str(), r.year)).collect();
    measures.dedup();
    let file = map
        .file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .to_string();
    measures
        .into_iter()
        .map(|(m, year)| {
            let these: Vec<&PartnershipRow> = rows
                .iter()
                .filter(|r| r.measure == m && r.year == year)
                .collect();
            let (parts, total): (Vec<&PartnershipRow>, Vec<&PartnershipRow>) = these
                .iter()
                .partition(|r| r.partnership != "All mapped schools");
            let bars = parts
                .iter()
                .map(|r| Bar {
                    label: r.partnership.clone(),
                    code: r.partnership.clone(),
                    value: r.value,
                    role: Role::La,
                })
                .collect();
            let excluded: usize = parts.iter().map(|r| r.schools_excluded).sum();
            let label = data
                .catalogue
                .measure(m)
                .map(|x| x.short_label().to_string())
                .unwrap_or_else(|| m.to_string());
            Chart {
                name: format!("partnerships-{}-{year}", m.replace('_', "-")),
                title: format!(
                    "{label}, {}: partnerships",
                    crate::year::academic_label(year)
                ),
                x_label: String::new(),
                y_label: "% of pupils (from pupil counts)".into(),
                caption: format!(
                    "Source: DfE performance tables (school figures), {}; partnerships \
                     from {file}. Each partnership's figure is its pupils meeting the \
                     measure over its pupils, not an average of school percentages. \
                     Orange line: all mapped schools together. {excluded} school(s) \
                     with withheld figures are excluded.",
                    crate::year::academic_label(year)
                ),
                figure: Figure::Bars {
                    bars,
                    reference: total
                        .first()
                        .and_then(|t| t.value)
                        .map(|v| ("All mapped schools".to_string(), v)),
                },
            }
        })
        .collect()
}

/// Write each chart as PNG and SVG into `dir`.
pub fn write_charts(charts: &[Chart], dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    let mut failures = Vec::new();
    std::fs::create_dir_all(dir).map_err(|e| crate::error::RenderError::write(dir, e))?;
    for c in charts {
        let svg = dir.join(format!("{}.svg", c.name));
        match committee::svg(c).and_then(|s| {
            crate::atomic::write_atomic(&svg, s.as_bytes()).map_err(|e| e.to_string())
        }) {
            Ok(()) => written.push(svg),
            Err(e) => failures.push(format!("{}: {e}", c.name)),
        }
        let png = dir.join(format!("{}.png", c.name));
        match committee::png(c, &png) {
            Ok(()) => written.push(png),
            Err(e) => failures.push(format!("{}: {e}", c.name)),
        }
    }
    if !failures.is_empty() {
        anyhow::bail!(RenderFailures {
            total: charts.len() * 2,
            failures
        });
    }
    Ok(written)
}

/// `attain partnerships`: figures for the map's partnerships, or (`--write-map`) a starting map.
pub fn cli(
    a: &crate::cli::PartnershipsArgs,
    ctx: &crate::commands::Ctx,
) -> anyhow::Result<crate::commands::Code> {
    use crate::output::status;
    let opened = ctx.open(&a.store.store)?;
    let (cat, data) = (&opened.catalogue, opened.data(None)?);
    let measures = if a.measures.is_empty() {
        vec!["ks2_rwm_expected".to_string()]
    } else {
        a.measures.clone()
    };
    for m in &measures {
        crate::commands::validate::measure(cat, m)?;
    }
    if let Some(path) = &a.write_map {
        let la = a.la.as_deref().ok_or_else(|| {
            crate::error::ConfigError::new("--write-map", "give --la for the starting map")
        })?;
        crate::commands::validate::la(&data, la)?;
        let y = crate::commands::year::results_year(
            &data,
            a.year.year,
            &[&measures[0]],
            crate::store::schema::Level::School,
        )?;
        crate::atomic::write_atomic(
            path,
            crate::analysis::partnerships::starter_map(&data, la, &measures[0], y, 5)?.as_bytes(),
        )?;
        status(format!("wrote {}", path.display()));
        return Ok(crate::commands::Code::Ok);
    }
    let map = a
        .map
        .as_deref()
        .ok_or_else(|| crate::error::ConfigError::new("--map", "give --map (or --write-map)"))?;
    let rows = run(
        &data,
        &PartnershipRequest {
            map,
            measures: &measures,
            year: a.year.year,
        },
    )?;
    crate::output::stdout(&print(&rows, a.format.format))?;
    let excluded: usize = rows
        .iter()
        .filter(|r| r.partnership != "All mapped schools")
        .map(|r| r.schools_excluded)
        .sum();
    if excluded > 0 {
        status(format!(
            "{excluded} school figure(s) withheld and excluded (listed in --format json)"
        ));
    }
    if let Some(dir) = &a.chart_dir {
        for p in write_charts(&charts(&data, &rows, map), dir)? {
            status(format!("wrote {}", p.display()));
        }
    }
    Ok(crate::commands::Code::Ok)
}
