//! `attain bench ...`: timings printed as figures (speed is measured here, never in tests).

use crate::resources::{cpu_seconds, peak_memory_mb};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use crate::catalogue::Catalogue;

/// Ingest each year's directory of the demo national dataset, then all years together.
pub fn ingest(demo: &Path, repeat: usize, catalogue: Arc<Catalogue>) -> anyhow::Result<String> {
    let mut years: Vec<PathBuf> = std::fs::read_dir(demo)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir() && crate::year::year_from_path(&p.join("x")).is_some())
        .collect();
    years.sort();
    anyhow::ensure!(
        !years.is_empty(),
        "no year directories (e.g. 2018-2019) under {}: run `attain demo` first",
        demo.display()
    );
    let scratch = std::env::temp_dir().join(format!("attain-bench-{}", std::process::id()));
    let mut out = String::new();
    let mut time = |paths: &[PathBuf], label: &str| -> anyhow::Result<()> {
        let mut best = f64::INFINITY;
        let mut results = 0;
        for _ in 0..repeat.max(1) {
            let _ = std::fs::remove_dir_all(&scratch);
            let t = Instant::now();
            let s = super::ingest::ingest(paths, &scratch, catalogue.clone(), None)?;
            best = best.min(t.elapsed().as_secs_f64());
            results = s.run.store_rows.get("results").copied().unwrap_or(0);
        }
        let bytes: u64 = crate::pipeline::hash_inputs(paths)?
            .iter()
            .filter_map(|f| std::fs::metadata(&f.path).ok())
            .map(|m| m.len())
            .sum();
        out.push_str(&format!("ingest {label}: {best:.3} s (best of {repeat}), {:.1} MB in, {results} results, {:.0} \
            results/s\n", bytes as f64 / 1e6, results as f64 / best));
        Ok(())
    };
    for y in &years {
        time(
            std::slice::from_ref(y),
            &format!(
                "one national year ({})",
                y.file_name().unwrap_or_default().to_string_lossy()
            ),
        )?;
    }
    time(&years, &format!("all {} years", years.len()))?;
    let _ = std::fs::remove_dir_all(&scratch);
    Ok(out)
}

/// Render a booklet for every school in the store (every LA, academies too): HTML only,
/// then HTML and PDF, into a scratch directory. Prints schools per second and peak memory.
pub fn booklets(
    store: &Path,
    catalogue: Arc<Catalogue>,
    year: Option<i32>,
    limit_la: Option<String>,
) -> anyhow::Result<String> {
    let store = crate::store::Store::at(store);
    let data = crate::analysis::data::Data::open(&store, &catalogue)?;
    let year = crate::commands::year::results_year(
        &data,
        year,
        &["ks2_rwm_expected"],
        crate::store::schema::Level::School,
    )?;
    let scratch =
        std::env::temp_dir().join(format!("attain-bench-booklets-{}", std::process::id()));
    let sel = crate::render::booklet::Selection {
        urns: vec![],
        la: limit_la,
        all_schools: true,
    };
    let mut out = String::new();
    for (label, pdf) in [("HTML", false), ("HTML + PDF", true)] {
        let _ = std::fs::remove_dir_all(&scratch);
        let opts = crate::render::booklet::Options {
            out: scratch.clone(),
            year,
            neighbours_model: 2021,
            la_colour: "#1f4e79".into(),
            la_name: None,
            logo: None,
            templates: None,
            html: true,
            pdf,
            pupils: None,
        };
        let t = Instant::now();
        let cpu0 = cpu_seconds();
        let s = crate::render::booklet::run(&data, &sel, &opts)?;
        let secs = t.elapsed().as_secs_f64();
        let cpu = cpu_seconds()
            .zip(cpu0)
            .map(|(b, a)| b - a)
            .unwrap_or(f64::NAN);
        let threads = rayon::current_num_threads();
        out.push_str(&format!(
            "booklets {label}: {} schools in {secs:.1} s ({:.0} schools/s; figures {:.1} s, rendering {:.1} s, \
             {:.1} ms CPU a school); CPU {cpu:.1} s ({:.1} ms a school; {:.0} schools/s on {threads} cores kept busy); \
             peak memory {:.0} MB\n",
            s.written,
            s.written as f64 / secs,
            s.seconds_prepare,
            s.seconds_render,
            s.cpu_ms_per_booklet().unwrap_or(f64::NAN),
            1000.0 * cpu / s.written as f64,
            s.written as f64 * threads as f64 / cpu,
            peak_memory_mb().unwrap_or(f64::NAN)
        ));
    }
    let _ = std::fs::remove_dir_all(&scratch);
    Ok(out)
}

/// The committee chart pack (default settings) for one LA, then for every LA in the
/// store: figures (ranks cached across LAs) and drawing (PNG + SVG, in parallel) timed apart.
pub fn charts(
    store: &Path,
    catalogue: Arc<Catalogue>,
    la: Option<String>,
) -> anyhow::Result<String> {
    use super::charts::{build, write, ChartsConfig, RankCache};
    use rayon::prelude::*;
    let store = crate::store::Store::at(store);
    let data = crate::analysis::data::Data::open(&store, &catalogue)?;
    let cfg = ChartsConfig::default();
    let m = &cfg.measures[0];
    let year = data
        .latest_year(m, crate::store::schema::Level::La)?
        .ok_or_else(|| anyhow::anyhow!("the store has no LA figures for {m}"))?;
    let mut cache = RankCache::default();
    let las: Vec<String> = crate::analysis::ranking::rank(
        &data,
        &crate::analysis::ranking::RankRequest {
            measure: m,
            group: "all",
            year,
            neighbours: None,
            rule: crate::analysis::rank::Top10Rule::RankCut,
        },
    )?
    .into_iter()
    .filter(|r| r.value.is_some())
    .map(|r| r.la_code)
    .collect();
    let one = la
        .or_else(|| las.first().cloned())
        .ok_or_else(|| anyhow::anyhow!("no LA has a {m} figure"))?;
    let scratch = std::env::temp_dir().join(format!("attain-bench-charts-{}", std::process::id()));
    let mut out = String::new();
    let t = Instant::now();
    let pack = build(&data, &one, &cfg, &mut RankCache::default())?;
    let t_build = t.elapsed().as_secs_f64();
    write(&pack, &scratch.join(&one))?;
    let secs = t.elapsed().as_secs_f64();
    out.push_str(&format!(
        "charts for one LA ({one} {}): {} charts in {secs:.2} s (figures {t_build:.2} s, drawing \
        {:.2} s)\n",
        pack.la_name,
        pack.charts.len(),
        secs - t_build
    ));
    let t = Instant::now();
    let packs: Vec<_> = las
        .iter()
        .map(|la| build(&data, la, &cfg, &mut cache))
        .collect::<anyhow::Result<_>>()?;
    let t_build = t.elapsed().as_secs_f64();
    packs
        .par_iter()
        .map(|p| write(p, &scratch.join(&p.la_code)).map(|_| ()))
        .collect::<anyhow::Result<Vec<()>>>()?;
    let secs = t.elapsed().as_secs_f64();
    let n: usize = packs.iter().map(|p| p.charts.len()).sum();
    out.push_str(&format!(
        "charts for all {} LAs: {n} charts ({} files) in {secs:.1} s (figures {t_build:.1} s, drawing {:.1} s, {:.0} \
            charts/s); peak memory {:.0} MB\n",
        packs.len(),
        n * 2 + packs.len(),
        secs - t_build,
        n as f64 / secs,
        peak_memory_mb().unwrap_or(f64::NAN)
    ));
    let _ = std::fs::remove_dir_all(&scratch);
    Ok(out)
}

/// A synthetic national KS2 cohort (`n` pupils in schools of about 44) written as one pupil
/// file, then read and validated, then aggregated by school for several groups.
pub fn pupils(n: usize) -> anyhow::Result<String> {
    use crate::analysis::pupils::{gap_rows, gap_tables, GroupSpec, Places, PupilQuery};
    use crate::level::Level;
    use std::fmt::Write as _;
    let scratch = std::env::temp_dir().join(format!("attain-bench-pupils-{}", std::process::id()));
    std::fs::create_dir_all(&scratch)?;
    let file = scratch.join("ks2_pupils.csv");
    // The demo generator's random numbers: the same file on every machine.
    let mut rng = crate::demo::Rng(20190701);
    let mut next = move || rng.unit();
    let t = Instant::now();
    let mut text = String::with_capacity(n * 70);
    text.push_str("pupil_id,urn,year,key_stage,gender,disadvantaged,fsm,lac,sen,eal,ethnicity,ks1_aps,ks2_reading,\
        ks2_writing,ks2_maths,ks2_gps\n");
    for i in 0..n {
        let urn = 100_000 + i / 44;
        let lac = next() < 0.007;
        let fsm = next() < 0.25;
        let dis = fsm || lac;
        let ability = next() + next() + next() - 1.5 - if dis { 0.5 } else { 0.0 };
        let score = |a: f64, u: f64| {
            (102.0 + 12.0 * a + 6.0 * (u - 0.5))
                .round()
                .clamp(80.0, 120.0)
        };
        let w = if ability > 0.6 {
            "GDS"
        } else if ability > -0.3 {
            "EXS"
        } else {
            "WTS"
        };
        let eth = [
            "WHIT", "WHIT", "WHIT", "WHIT", "ASIA", "BLAC", "MIXD", "AOEG",
        ][(next() * 8.0) as usize];
        let yn = |b: bool| if b { "Y" } else { "N" };
        let _ = writeln!(
            text,
            "B{i},{urn},2019,KS2,{},{},{},{},{},{},{eth},{:.1},{},{w},{},{}",
            if next() < 0.51 { "M" } else { "F" },
            yn(dis),
            yn(fsm),
            yn(lac),
            if next() < 0.13 { "K" } else { "N" },
            yn(next() < 0.2),
            9.0 + 12.0 * next(),
            score(ability, next()),
            score(ability, next()),
            score(ability, next())
        );
    }
    crate::atomic::write_atomic(&file, text.as_bytes())?;
    let mut out = format!(
        "synthetic national KS2 cohort: {n} pupils in {} schools, {:.1} MB, written in {:.2} s\n",
        n.div_ceil(44),
        text.len() as f64 / 1e6,
        t.elapsed().as_secs_f64()
    );
    drop(text);
    let t = Instant::now();
    let (data, _) = crate::ingest::pupils::read_pupils(std::slice::from_ref(&file), false)?;
    let read = t.elapsed().as_secs_f64();
    let _ = writeln!(
        out,
        "read and validate: {read:.2} s ({:.0} pupils/s)",
        data.pupils.len() as f64 / read
    );
    let places = Places::default();
    let mut total = 0.0;
    for group in ["all", "disadvantaged", "lac", "disadvantaged+boys", "asian"] {
        let q = PupilQuery {
            measure: "ks2_rwm_expected",
            group: GroupSpec::parse(group)?,
            level: Level::School,
            years: vec![2019],
            only: vec![],
            la: None,
            threshold: crate::analysis::disclosure::DEFAULT_THRESHOLD,
        };
        let t = Instant::now();
        let rows = gap_rows(&data.pupils, &q, None, &places)?;
        let s = t.elapsed().as_secs_f64();
        total += s;
        let withheld = rows.iter().filter(|r| r.suppressed()).count();
        let _ = writeln!(out, "aggregate ks2_rwm_expected by school for {group}: {s:.2} s, {} school rows, {withheld} \
            withheld ({:.0} pupils/s)", rows.len(), data.pupils.len() as f64 / s);
    }
    let _ = writeln!(
        out,
        "five aggregations: {total:.2} s; peak memory {:.0} MB",
        peak_memory_mb().unwrap_or(f64::NAN)
    );
    // The same five tables released together: disclosure control across all of them.
    let queries = ["all", "disadvantaged", "lac", "disadvantaged+boys", "asian"]
        .iter()
        .map(|g| {
            Ok(PupilQuery {
                measure: "ks2_rwm_expected",
                group: GroupSpec::parse(g)?,
                level: Level::School,
                years: vec![2019],
                only: vec![],
                la: None,
                threshold: crate::analysis::disclosure::DEFAULT_THRESHOLD,
            })
        })
        .collect::<Result<Vec<_>, crate::error::ConfigError>>()?;
    let t = Instant::now();
    let (tables, _) = gap_tables(&data.pupils, &queries, None, &places, &[])?;
    let s = t.elapsed().as_secs_f64();
    let withheld: usize = tables
        .iter()
        .map(|rows| rows.iter().filter(|r| r.suppressed()).count())
        .sum();
    let _ = writeln!(out, "the five released together (joint disclosure control): {s:.2} s, {withheld} rows withheld; \
        peak memory {:.0} MB", peak_memory_mb().unwrap_or(f64::NAN));
    let _ = std::fs::remove_dir_all(&scratch);
    Ok(out)
}

// The CLI's side of `attain bench`: each timing printed to stdout.

pub fn cli_rank(store: &Path, ctx: &crate::commands::Ctx) -> anyhow::Result<crate::commands::Code> {
    let opened = ctx.open(store)?;
    let data = opened.data(None)?;
    for model in [None, Some(2021)] {
        let t = std::time::Instant::now();
        let (sets, rows) = crate::analysis::ranking::rank_everything(&data, model)?;
        println!(
            "rank everything{}: {sets} measure-group-years, {rows} LA rows in {:.3} s",
            model
                .map(|m| format!(" with {m} neighbours"))
                .unwrap_or_default(),
            t.elapsed().as_secs_f64()
        );
    }
    Ok(crate::commands::Code::Ok)
}

pub fn cli_booklets(
    store: &Path,
    year: Option<i32>,
    la: Option<String>,
    ctx: &crate::commands::Ctx,
) -> anyhow::Result<crate::commands::Code> {
    crate::output::stdout(&booklets(store, ctx.catalogue()?, year, la)?)?;
    Ok(crate::commands::Code::Ok)
}

pub fn cli_charts(
    store: &Path,
    la: Option<String>,
    ctx: &crate::commands::Ctx,
) -> anyhow::Result<crate::commands::Code> {
    crate::output::stdout(&charts(store, ctx.catalogue()?, la)?)?;
    Ok(crate::commands::Code::Ok)
}

pub fn cli_ingest(
    demo: &Path,
    repeat: usize,
    ctx: &crate::commands::Ctx,
) -> anyhow::Result<crate::commands::Code> {
    crate::output::stdout(&ingest(demo, repeat, ctx.catalogue()?)?)?;
    Ok(crate::commands::Code::Ok)
}

pub fn cli_pupils(n: usize) -> anyhow::Result<crate::commands::Code> {
    crate::output::stdout(&pupils(n)?)?;
    Ok(crate::commands::Code::Ok)
}
