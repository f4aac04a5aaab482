//! `attain charts`: the committee chart pack for one LA. Figures come from the analysis
//! (`ranking::rank` per year for ranks, neighbour averages and the top-10% threshold;
//! `Data::best` for gaps; `ofsted::ofsted` per snapshot); drawing is `render::committee`.
//! Writes `<stem>.png`, `<stem>.svg` per chart and `charts.json` listing them all.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::analysis::data::Data;
use crate::analysis::ofsted::{ofsted, snapshots, OfstedReport, Phase};
use crate::analysis::rank::Top10Rule;
use crate::analysis::ranking::{rank, RankRequest, RankRow};
use crate::analysis::series_breaks::{Boundary, SeriesOf};
use crate::atomic::write_atomic;
use crate::error::{ConfigError, RenderFailures};
use crate::number;
use crate::render::committee::{self, Bar, Chart, Figure, Line, Role};
use crate::store::frame::ResultRecord;
use crate::store::schema::{Level, ENGLAND};

/// The `[charts]` settings: which measures, years and gaps.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ChartsConfig {
    #[serde(default = "default_measures")]
    pub measures: Vec<String>,
    /// The year of the bar charts (summer-end); default each measure's latest LA year.
    #[serde(default)]
    pub year: Option<i32>,
    /// How many years the trend charts cover, up to the chart year (3 to 10).
    #[serde(default = "default_years")]
    pub years: usize,
    /// Statistical-neighbour model (2021 or 2025).
    #[serde(default = "default_model")]
    pub neighbours: i32,
    #[serde(default = "default_gaps")]
    pub gaps: Vec<GapSpec>,
    /// Draw the Ofsted chart (needs an Ofsted snapshot and a census in the store).
    #[serde(default = "yes")]
    pub ofsted: bool,
}

/// One gap chart: (measure, group) minus (comparison_measure, comparison_group), LA and England.
/// LAIT keeps each group as its own measure (`lait:DAP_NEW_KS2_RWM`), the performance
/// tables as a group of one measure: both are written this way.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct GapSpec {
    pub title: String,
    pub measure: String,
    #[serde(default = "all")]
    pub group: String,
    #[serde(default)]
    pub comparison_measure: Option<String>,
    #[serde(default = "all")]
    pub comparison_group: String,
}

fn default_measures() -> Vec<String> {
    vec!["ks2_rwm_expected".into(), "ks4_attainment8".into()]
}
fn default_years() -> usize {
    10
}
fn default_model() -> i32 {
    2021
}
fn yes() -> bool {
    true
}
fn all() -> String {
    "all".into()
}
fn default_gaps() -> Vec<GapSpec> {
    vec![
        GapSpec {
            title: "Disadvantaged gap: KS2 reading, writing and maths".into(),
            measure: "ks2_rwm_expected".into(),
            group: "disadvantaged".into(),
            comparison_measure: None,
            comparison_group: "not_disadvantaged".into(),
        },
        GapSpec {
            title: "Looked-after gap: KS2 reading, writing and maths".into(),
            measure: "ks2_rwm_expected".into(),
            group: "lac".into(),
            comparison_measure: None,
            comparison_group: "all".into(),
        },
    ]
}

impl Default for ChartsConfig {
    fn default() -> Self {
        ChartsConfig {
            measures: default_measures(),
            year: None,
            years: default_years(),
            neighbours: default_model(),
            gaps: default_gaps(),
            ofsted: true,
        }
    }
}

impl ChartsConfig {
    /// From a TOML table: the `[charts]` section if there is one, else the table itself.
    pub fn from_table(origin: &str, t: &toml::Table) -> Result<ChartsConfig, ConfigError> {
        let section = t.get("charts").and_then(|v| v.as_table()).unwrap_or(t);
        let c: ChartsConfig = section
            .clone()
            .try_into()
            .map_err(|err: toml::de::Error| ConfigError::new(origin, err.to_string()))?;
        c.check(origin)?;
        Ok(c)
    }

    pub fn load(path: &Path) -> Result<ChartsConfig, ConfigError> {
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|err| ConfigError::new(&origin, err.to_string()))?;
        let t: toml::Table =
            toml::from_str(&text).map_err(|err| ConfigError::new(&origin, err.to_string()))?;
        ChartsConfig::from_table(&origin, &t)
    }

    pub fn check(&self, origin: &str) -> Result<(), ConfigError> {
        if !(3..=10).contains(&self.years) {
            return Err(ConfigError::new(
                origin,
                format!(
                    "charts.years = {}: trend charts cover 3 to 10 years",
                    self.years
                ),
            ));
        }
        if ![2021, 2025].contains(&self.neighbours) {
            return Err(ConfigError::new(
                origin,
                format!(
                    "charts.neighbours = {}: the neighbour models are 2021 and 2025",
                    self.neighbours
                ),
            ));
        }
        if self.measures.is_empty() {
            return Err(ConfigError::new(origin, "charts.measures is empty"));
        }
        Ok(())
    }
}

/// One chart in `charts.json`: its files, title, alt text and every figure drawn.
#[derive(Debug, Clone, Serialize)]
pub struct ChartEntry {
    pub png: String,
    pub svg: String,
    pub alt_text: String,
    #[serde(flatten)]
    pub chart: Chart,
}

#[derive(Debug, Clone, Serialize)]
pub struct ChartPack {
    pub la_code: String,
    pub la_name: String,
    pub neighbours_model: i32,
    pub charts: Vec<ChartEntry>,
    /// Charts that could not be drawn for want of figures, and why.
    pub skipped: Vec<String>,
}

/// Figures kept across LAs (the all-LA pack reads and ranks each set once): ranks per
/// (measure, year, model), LA and England figures per (measure, group, year), Ofsted
/// standing per snapshot year.
#[derive(Default)]
pub struct RankCache {
    ranks: BTreeMap<(String, i32, i32), Vec<RankRow>>,
    best: BTreeMap<(String, String, i32, bool), BTreeMap<String, ResultRecord>>,
    ofsted: BTreeMap<i32, Option<OfstedReport>>,
    snapshot_years: Option<Vec<i32>>,
}

impl RankCache {
    fn get(
        &mut self,
        data: &Data,
        measure: &str,
        year: i32,
        model: i32,
    ) -> anyhow::Result<&Vec<RankRow>> {
        let key = (measure.to_string(), year, model);
        if !self.ranks.contains_key(&key) {
            let req = RankRequest {
                measure,
                group: "all",
                year,
                neighbours: Some(model),
                rule: Top10Rule::RankCut,
            };
            self.ranks.insert(key.clone(), rank(data, &req)?);
        }
        Ok(&self.ranks[&key])
    }

    /// One LA's (or England's, `national`) figure from the best source for every LA.
    fn figure(
        &mut self,
        data: &Data,
        measure: &str,
        group: &str,
        year: i32,
        code: &str,
        national: bool,
    ) -> anyhow::Result<Option<ResultRecord>> {
        let key = (measure.to_string(), group.to_string(), year, national);
        if !self.best.contains_key(&key) {
            let rows = if national {
                data.national(measure, group, year)?
                    .into_iter()
                    .map(|r| (r.code.clone(), r))
                    .collect()
            } else {
                data.best(measure, group, year, Level::La, None)?
            };
            self.best.insert(key.clone(), rows);
        }
        Ok(self.best[&key].get(code).cloned())
    }

    fn ofsted(&mut self, data: &Data, year: i32) -> Option<&OfstedReport> {
        self.ofsted
            .entry(year)
            .or_insert_with(|| ofsted(data, Some(year), None, &[Phase::All]).ok())
            .as_ref()
    }
}

fn label(data: &Data, measure: &str) -> String {
    match data.catalogue.measure(measure) {
        Some(m) => m.short_label().to_string(),
        None => measure.trim_start_matches("lait:").replace('_', " "),
    }
}

fn unit(data: &Data, measure: &str) -> String {
    match data.catalogue.measure(measure).map(|m| m.unit.as_str()) {
        Some("percent") => "% of pupils".into(),
        Some("score") => "average score".into(),
        Some("progress") => "progress score".into(),
        Some(u) => u.to_string(),
        // LAIT measures: most are percentages; the label names the measure either way.
        None => "value".into(),
    }
}

fn slug(s: &str) -> String {
    let mut out = String::new();
    for ch in s.chars() {
        if ch.is_ascii_alphanumeric() {
            out.push(ch.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
        if out.len() >= 60 {
            break;
        }
    }
    out.trim_matches('-').to_string()
}

/// A chart's file stem: ASCII letters, digits and hyphens only (an LA code or a gap title
/// from the data or the config cannot reach another directory), at most 100 characters.
pub fn file_stem(name: &str) -> String {
    let mut out = String::new();
    for ch in name.chars() {
        if ch.is_ascii_alphanumeric() {
            out.push(ch);
        } else if !out.ends_with('-') {
            out.push('-');
        }
        if out.len() >= 100 {
            break;
        }
    }
    let out = out.trim_matches('-');
    if out.is_empty() {
        "chart".into()
    } else {
        out.to_string()
    }
}

/// The source file names (no directories) behind a set of rows, for captions.
fn sources<'a>(it: impl Iterator<Item = &'a str>) -> String {
    let set: BTreeSet<String> = it
        .map(|s| {
            s.split(" (")
                .next()
                .unwrap_or(s)
                .rsplit('/')
                .next()
                .unwrap_or(s)
                .to_string()
        })
        .collect();
    set.into_iter().collect::<Vec<_>>().join(", ")
}

/// The caption's sentence on breaks: where the lines stop and why (each note once).
fn breaks_caption(breaks: &[Boundary]) -> String {
    crate::render::committee::notes_by_reason(breaks)
        .iter()
        .map(|(years, note)| {
            format!(
                " Lines are not joined across the break before {} (dashed rule): {note}.",
                committee::and_list(years)
            )
        })
        .collect()
}

fn years_label(years: &[i32]) -> String {
    match (years.first(), years.last()) {
        (Some(a), Some(b)) if a != b => format!(
            "{} to {}",
            crate::year::academic_label(*a),
            crate::year::academic_label(*b)
        ),
        (Some(a), _) => crate::year::academic_label(*a),
        _ => String::new(),
    }
}

/// Build every chart's figures for one LA (no drawing).
pub fn build(
    data: &Data,
    la: &str,
    cfg: &ChartsConfig,
    cache: &mut RankCache,
) -> anyhow::Result<ChartPack> {
    let la_name = data.name(la);
    let neighbours = data.neighbours(cfg.neighbours, la)?;
    let mut charts = Vec::new();
    let mut skipped = Vec::new();
    let mut any_figure = false;
    for m in &cfg.measures {
        if data.catalogue.measure(m).is_none() && !m.starts_with("lait:") {
            anyhow::bail!(ConfigError::new(
                "charts.measures",
                format!("unknown measure {m:?} (see `attain measures`)")
            ));
        }
        let mut years: Vec<i32> = data.years(m, Level::La)?;
        years.sort_unstable();
        let Some(year) = cfg.year.filter(|y| years.contains(y)).or_else(|| {
            if cfg.year.is_none() {
                years.last().copied()
            } else {
                None
            }
        }) else {
            skipped.push(format!(
                "{m}: no LA figures{}",
                cfg.year.map(|y| format!(" for {y}")).unwrap_or_default()
            ));
            continue;
        };
        let upto: Vec<i32> = years.iter().copied().filter(|y| *y <= year).collect();
        let window: Vec<i32> = upto[upto.len().saturating_sub(cfg.years)..].to_vec();
        let name = label(data, m);
        let rows = cache.get(data, m, year, cfg.neighbours)?.clone();
        let Some(me) = rows.iter().find(|r| r.la_code == la).cloned() else {
            skipped.push(format!("{m}: LA {la} has no figure for {year}"));
            continue;
        };
        any_figure = true;
        let by_code: BTreeMap<&str, &RankRow> =
            rows.iter().map(|r| (r.la_code.as_str(), r)).collect();
        let england = data.national(m, "all", year)?;
        let dps = data.catalogue.measure(m).map(|x| x.dps);
        let publish = |v: Option<f64>| match dps {
            Some(d) => v.map(|x| number::round(x, d)),
            None => v,
        };

        // 1. The LA, its neighbours (highest first) and England.
        let mut bars: Vec<Bar> = std::iter::once(la.to_string())
            .chain(neighbours.iter().cloned())
            .map(|code| Bar {
                label: data.name(&code),
                value: by_code.get(code.as_str()).and_then(|r| r.value),
                role: if code == la {
                    Role::La
                } else {
                    Role::Neighbour
                },
                code,
            })
            .collect();
        bars.sort_by(|a, b| {
            b.value
                .unwrap_or(f64::NEG_INFINITY)
                .total_cmp(&a.value.unwrap_or(f64::NEG_INFINITY))
                .then(a.code.cmp(&b.code))
        });
        bars.push(Bar {
            label: "England".into(),
            code: crate::store::schema::ENGLAND.into(),
            value: publish(england.as_ref().and_then(|r| r.value)),
            role: Role::England,
        });
        let src = sources(
            std::iter::once(me.source.as_str())
                .chain(england.as_ref().map(|r| r.source_file.as_str())),
        );
        let missing = bars.iter().filter(|b| b.value.is_none()).count();
        charts.push(Chart {
            name: format!("{la}-{}-neighbours-{year}", slug(m)),
            title: format!("{name}, {}: {la_name} against its statistical \
                neighbours", crate::year::academic_label(year)),
            x_label: String::new(),
            y_label: unit(data, m),
            caption: format!(
                "Source: {src} (DfE), {}. Neighbours: DfE {} statistical neighbour model. Orange line: the \
                    neighbours' average without {la_name}{}. {la_name} is ranked {} of {} LAs in England.{}",
                crate::year::academic_label(year),
                cfg.neighbours,
                me.sn_average.map(|v| format!(" ({})", committee::fmt_value(v))).unwrap_or_default(),
                me.rank.map(|r| r.to_string()).unwrap_or_else(|| "-".into()),
                me.of,
                if missing > 0 { format!(" {missing} area(s) have no published figure.") } else { String::new() }
            ),
            figure: Figure::Bars { bars, reference: me.sn_average.map(|v| ("Neighbour \
                average".to_string(), number::round(v, dps.unwrap_or(1) + 1))) },
        });

        // 2. Trends and 3. ranks, from the ranking of each year.
        let (mut la_v, mut sn_v, mut en_v, mut top_v, mut ranks, mut notes) =
            (vec![], vec![], vec![], vec![], vec![], vec![]);
        let mut of_max = 0;
        let mut trend_sources = BTreeSet::new();
        for &y in &window {
            let rows = cache.get(data, m, y, cfg.neighbours)?;
            let mine = rows.iter().find(|r| r.la_code == la);
            let top = rows.iter().find_map(|r| r.top10_threshold);
            let of = rows.first().map(|r| r.of).unwrap_or(0);
            of_max = of_max.max(of);
            if let Some(r) = mine {
                trend_sources.insert(r.source.clone());
            }
            la_v.push((y, mine.and_then(|r| r.value)));
            // One more decimal place than the published figures (averages of rounded figures).
            sn_v.push((
                y,
                mine.and_then(|r| r.sn_average)
                    .map(|v| number::round(v, dps.unwrap_or(1) + 1)),
            ));
            top_v.push((y, top));
            let rk = mine.and_then(|r| r.rank);
            ranks.push((y, rk.map(|r| r as f64)));
            notes.push(
                rk.map(|r| format!("{} of {of}", crate::analysis::ofsted::ordinal(r)))
                    .unwrap_or_default(),
            );
            let nat = cache.figure(data, m, "all", y, ENGLAND, true)?;
            if let Some(n) = &nat {
                trend_sources.insert(n.source_file.clone());
            }
            en_v.push((y, publish(nat.and_then(|r| r.value))));
        }
        let src = sources(trend_sources.iter().map(String::as_str));
        let breaks = SeriesOf::new(data.catalogue, m, "all", "la").chart_breaks(&window);
        let gaps_in: Vec<String> = la_v
            .iter()
            .filter(|p| p.1.is_none())
            .map(|p| crate::year::academic_label(p.0))
            .collect();
        let one = format!(
            "{}{}{}",
            if window.len() == 1 {
                " The store has one year of LA figures, so each line is a single point."
            } else {
                ""
            },
            if gaps_in.is_empty() {
                String::new()
            } else {
                format!(" No {la_name} figure for {}.", gaps_in.join(", "))
            },
            breaks_caption(&breaks)
        );
        charts.push(Chart {
            name: format!("{la}-{}-trend", slug(m)),
            title: format!("{name}: {la_name}, neighbours, England and the top 10%"),
            x_label: "Academic year".into(),
            y_label: unit(data, m),
            caption: format!("Source: {src} (DfE), {}. Neighbour average: DfE {} model, without {la_name}. Top 10%: \
                the figure of the LA ranked at the 10% cut-off.{one}", years_label(&window), cfg.neighbours),
            figure: Figure::Lines {
                lines: vec![
                    Line { label: la_name.clone(), role: Role::La, points: la_v, notes: vec![] },
                    Line { label: "Neighbour \
                        average".into(), role: Role::NeighbourAverage, points: sn_v, notes: vec![] },
                    Line { label: "England".into(), role: Role::England, points: en_v, notes: vec![] },
                    Line { label: "Top 10% of LAs".into(), role: Role::Top10, points: top_v, notes: vec![] },
                ],
                rank_of: None,
                breaks: breaks.clone(),
            },
        });
        charts.push(Chart {
            name: format!("{la}-{}-rank", slug(m)),
            title: format!("{name}: {la_name}'s rank among LAs in England"),
            x_label: "Academic year".into(),
            y_label: format!("Rank (1 = best, of up to {of_max})"),
            caption: format!("Source: {src} (DfE), {}. LAs ranked on published figures; LAs with the same figure \
                share a rank.{one}", years_label(&window)),
            figure: Figure::Lines { lines: vec![Line { label: format!("{la_name}'s \
                rank"), role: Role::La, points: ranks, notes }], rank_of: Some(of_max), breaks },
        });
    }
    if !any_figure && !cfg.measures.is_empty() {
        anyhow::bail!(ConfigError::new(
            "--la",
            format!(
                "LA {la} has no figures for {} in the store",
                cfg.measures.join(", ")
            )
        ));
    }

    // 4. Gaps: the LA and England, over the years with figures.
    for g in &cfg.gaps {
        match gap_chart(data, la, &la_name, g, cfg, cache)? {
            Some(c) => charts.push(c),
            None => skipped.push(format!("{}: no figures for LA {la}", g.title)),
        }
    }

    // 5. Ofsted: every snapshot in the store.
    if cfg.ofsted {
        match ofsted_chart(data, la, &la_name, cache)? {
            Some(c) => charts.push(c),
            None => skipped
                .push("Ofsted: the store has no Ofsted snapshot with a census to match".into()),
        }
    }

    let charts = charts
        .into_iter()
        .map(|mut c| {
            c.name = file_stem(&c.name);
            ChartEntry {
                png: format!("{}.png", c.name),
                svg: format!("{}.svg", c.name),
                alt_text: committee::alt_text(&c),
                chart: c,
            }
        })
        .collect();
    Ok(ChartPack {
        la_code: la.to_string(),
        la_name,
        neighbours_model: cfg.neighbours,
        charts,
        skipped,
    })
}

fn gap_chart(
    data: &Data,
    la: &str,
    la_name: &str,
    g: &GapSpec,
    cfg: &ChartsConfig,
    cache: &mut RankCache,
) -> anyhow::Result<Option<Chart>> {
    let cm = g
        .comparison_measure
        .clone()
        .unwrap_or_else(|| g.measure.clone());
    let mut years: Vec<i32> = data.years(&g.measure, Level::La)?;
    years.sort_unstable();
    if let Some(y) = cfg.year {
        years.retain(|x| *x <= y);
    }
    let window: Vec<i32> = years.iter().rev().take(cfg.years).rev().copied().collect();
    let dps = data
        .catalogue
        .measure(&g.measure)
        .map(|m| m.dps)
        .unwrap_or(1)
        .max(1);
    let diff = |a: Option<f64>, b: Option<f64>| Some(number::round(a? - b?, dps));
    let (mut la_gap, mut en_gap, mut srcs) = (vec![], vec![], BTreeSet::new());
    for &y in &window {
        let mine = cache.figure(data, &g.measure, &g.group, y, la, false)?;
        let theirs = cache.figure(data, &cm, &g.comparison_group, y, la, false)?;
        let ng = cache.figure(data, &g.measure, &g.group, y, ENGLAND, true)?;
        let nc = cache.figure(data, &cm, &g.comparison_group, y, ENGLAND, true)?;
        for r in [&mine, &theirs, &ng, &nc].into_iter().flatten() {
            srcs.insert(r.source_file.clone());
        }
        la_gap.push((
            y,
            diff(mine.and_then(|r| r.value), theirs.and_then(|r| r.value)),
        ));
        en_gap.push((y, diff(ng.and_then(|r| r.value), nc.and_then(|r| r.value))));
    }
    if la_gap.iter().all(|p| p.1.is_none()) {
        return Ok(None);
    }
    let breaks = SeriesOf::new(data.catalogue, &g.measure, &g.group, "la").chart_breaks(&window);
    let what = |m: &str, grp: &str| {
        if grp == "all" {
            label(data, m)
        } else {
            format!(
                "{} ({})",
                label(data, m),
                data.catalogue
                    .group(grp)
                    .map(|x| x.label.clone())
                    .unwrap_or_else(|| grp.to_string())
            )
        }
    };
    Ok(Some(Chart {
        name: format!("{la}-gap-{}", slug(&g.title)),
        title: format!("{} ({la_name} and England)", g.title),
        x_label: "Academic year".into(),
        y_label: "Gap (percentage points)".into(),
        caption: format!(
            "Source: {} (DfE), {}. Gap = {} minus {}; below zero, the group does worse. Suppressed or missing figures \
                leave a break in the line.{}",
            sources(srcs.iter().map(String::as_str)),
            years_label(&window),
            what(&g.measure, &g.group),
            what(&cm, &g.comparison_group),
            breaks_caption(&breaks)
        ),
        figure: Figure::Lines {
            lines: vec![
                Line {
                    label: la_name.to_string(),
                    role: Role::La,
                    points: la_gap,
                    notes: vec![],
                },
                Line {
                    label: "England".into(),
                    role: Role::England,
                    points: en_gap,
                    notes: vec![],
                },
            ],
            rank_of: None,
            breaks,
        },
    }))
}

fn ofsted_chart(
    data: &Data,
    la: &str,
    la_name: &str,
    cache: &mut RankCache,
) -> anyhow::Result<Option<Chart>> {
    if cache.snapshot_years.is_none() {
        let mut years: Vec<i32> = snapshots(&data.inspections()?)
            .iter()
            .map(|s| s.year)
            .collect();
        years.dedup();
        cache.snapshot_years = Some(years);
    }
    let years = cache.snapshot_years.clone().unwrap_or_default();
    let (mut sch, mut pup, mut en_sch, mut en_pup) = (vec![], vec![], vec![], vec![]);
    let mut files = BTreeSet::new();
    let mut census = BTreeSet::new();
    for &y in &years {
        let Some(report) = cache.ofsted(data, y) else {
            continue;
        };
        let Some(row) = report.rows.iter().find(|r| r.la_code == la) else {
            continue;
        };
        files.insert(report.matching.snapshot.clone());
        census.extend(report.matching.census_year);
        sch.push((y, row.pct_schools_good_or_better));
        pup.push((y, row.pct_pupils_good_or_better));
        en_sch.push((y, row.england_pct_schools_good_or_better));
        en_pup.push((y, row.england_pct_pupils_good_or_better));
    }
    if sch.is_empty() {
        return Ok(None);
    }
    let one = if sch.len() == 1 {
        format!(
            " The store holds one Ofsted snapshot ({}), so each line is a single point.",
            crate::year::academic_label(sch[0].0)
        )
    } else {
        String::new()
    };
    let years: Vec<i32> = sch.iter().map(|p| p.0).collect();
    Ok(Some(Chart {
        name: format!("{la}-ofsted-good-or-outstanding"),
        title: format!("Schools and pupils in good or outstanding schools: {la_name}"),
        x_label: "Academic year of the Ofsted snapshot".into(),
        y_label: "% good or outstanding".into(),
        caption: format!(
            "Source: Ofsted latest-inspection snapshot(s) {} and the January {} school census (pupils), {}. All \
                phases; graded inspections only.{one}",
            sources(files.iter().map(String::as_str)),
            census.iter().map(|c| c.to_string()).collect::<Vec<_>>().join(", "),
            years_label(&years)
        ),
        figure: Figure::Lines {
            lines: vec![
                Line { label: format!("{la_name}: % of schools"), role: Role::La, points: sch, notes: vec![] },
                Line { label: format!("{la_name}: % of pupils"), role: Role::Top10, points: pup, notes: vec![] },
                Line { label: "England: % of schools".into(), role: Role::England, points: en_sch, notes: vec![] },
                Line { label: "England: % of pupils".into(), role: Role::Neighbour, points: en_pup, notes: vec![] },
            ],
            rank_of: None,
            breaks: vec![],
        },
    }))
}

/// Draw every chart of a pack into `out` (PNG and SVG) and write `charts.json`.
/// A chart that fails to draw does not stop the others; the failures are reported together.
pub fn write(pack: &ChartPack, out: &Path) -> anyhow::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(out).map_err(|e| crate::error::RenderError::write(out, e))?;
    let mut written = Vec::new();
    let mut failures = Vec::new();
    let progress = crate::progress::task("charts", pack.charts.len());
    for c in &pack.charts {
        progress.step();
        let svg_path = out.join(&c.svg);
        match committee::svg(&c.chart)
            .map_err(|err| err.to_string())
            .and_then(|s| write_atomic(&svg_path, s.as_bytes()).map_err(|err| err.to_string()))
        {
            Ok(()) => written.push(svg_path),
            Err(err) => failures.push(format!("{}: {err}", c.svg)),
        }
        let png_path = out.join(&c.png);
        match committee::png(&c.chart, &png_path) {
            Ok(()) => written.push(png_path),
            Err(err) => failures.push(format!("{}: {err}", c.png)),
        }
    }
    let json = out.join("charts.json");
    write_atomic(&json, crate::number::to_json_pretty(pack)?.as_bytes())?;
    written.push(json);
    if !failures.is_empty() {
        anyhow::bail!(RenderFailures {
            total: pack.charts.len() * 2,
            failures
        });
    }
    Ok(written)
}

/// The whole job: figures, then files. Returns the pack (for summaries and tests).
pub fn run(data: &Data, la: &str, cfg: &ChartsConfig, out: &Path) -> anyhow::Result<ChartPack> {
    let pack = build(data, la, cfg, &mut RankCache::default())?;
    write(&pack, out)?;
    Ok(pack)
}

/// The pack for `attain charts` and the `charts` stage: settings from `--config` (or the
/// pipeline's `[charts]`), `--neighbours` over them.
pub fn from_args(
    a: &crate::cli::ChartsArgs,
    data: &Data,
    default_config: Option<&toml::Table>,
) -> anyhow::Result<ChartPack> {
    crate::commands::validate::la(data, &a.la)?;
    let mut cfg = match (&a.config, default_config) {
        (Some(p), _) => ChartsConfig::load(p)?,
        (None, Some(t)) => ChartsConfig::from_table("[charts]", t)?,
        (None, None) => ChartsConfig::default(),
    };
    if let Some(m) = a.neighbours {
        cfg.neighbours = m;
    }
    cfg.check("--neighbours")?;
    run(data, &a.la, &cfg, &a.out)
}

pub fn cli(
    a: &crate::cli::ChartsArgs,
    ctx: &crate::commands::Ctx,
) -> anyhow::Result<crate::commands::Code> {
    let opened = ctx.open(&a.store.store)?;
    let data = opened.data(None)?;
    let pack = from_args(a, &data, None)?;
    for s in &pack.skipped {
        crate::output::status(format!("skipped: {s}"));
    }
    crate::output::status(format!(
        "{} chart(s) for {} {} in {} (PNG and SVG; list in charts.json)",
        pack.charts.len(),
        pack.la_code,
        pack.la_name,
        a.out.display()
    ));
    Ok(crate::commands::Code::Ok)
}
