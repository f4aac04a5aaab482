//! The `attain` command line: a thin clap layer over the library.

use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;

use attain::catalogue::Catalogue;
use attain::cli::{BenchWhat, Cli, Command, Lvl, TargetsWhat};
use attain::error::{exit_code_for, ExitCode as Code};
use attain::output::Format;
use attain::store::schema::Level;
use attain::store::Store;

// Booklet PDFs (Typst, krilla) allocate and free at a great rate; mimalloc does that with
// less CPU than the system allocator, on several threads at once.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_env("ATTAIN_LOG"))
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => ExitCode::from(code as u8),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(exit_code_for(&e) as u8)
        }
    }
}

/// `--year`, or the latest year in the store with figures for the measure.
fn resolve_year(
    data: &attain::analysis::data::Data,
    measure: &str,
    level: Level,
    year: Option<i32>,
) -> anyhow::Result<i32> {
    if data.catalogue.measure(measure).is_none() && !measure.starts_with("lait:") {
        anyhow::bail!(attain::error::ConfigError::new(
            "--measure",
            format!("unknown measure {measure:?} (see `attain measures`)")
        ));
    }
    match year {
        Some(y) => Ok(y),
        None => data.latest_year(measure, level)?.ok_or_else(|| {
            anyhow::anyhow!(attain::error::ConfigError::new(
                "--measure",
                format!("the store has no {} figures for {measure}", level.as_str())
            ))
        }),
    }
}

fn run(cli: Cli) -> anyhow::Result<Code> {
    let catalogue = || -> anyhow::Result<Arc<Catalogue>> {
        Ok(Arc::new(Catalogue::load(cli.catalogue.as_deref())?))
    };
    match &cli.command {
        Command::Ingest {
            paths,
            store,
            year,
            format,
        } => {
            let summary = attain::commands::ingest::ingest(paths, store, catalogue()?, *year)?;
            attain::commands::ingest::summary_report(&summary.run).print(*format);
            let results = summary.run.store_rows.get("results").copied().unwrap_or(0);
            eprintln!(
                "store {}: {} results, {} schools",
                store.display(),
                results,
                summary.run.store_rows.get("schools").copied().unwrap_or(0)
            );
            for n in &summary.run.store_notes {
                eprintln!("note: {n}");
            }
            for w in &summary.warnings {
                eprintln!("warning: {w}");
            }
            if summary.unrecognised > 0 {
                eprintln!(
                    "warning: {} file(s) were not recognised and were not read",
                    summary.unrecognised
                );
            }
            Ok(
                if summary.unrecognised > 0 || !summary.warnings.is_empty() {
                    Code::DataWarnings
                } else {
                    Code::Ok
                },
            )
        }
        Command::Inspect {
            file,
            year,
            store,
            format,
        } => {
            let inspection = attain::commands::ingest::inspect(
                file,
                catalogue()?,
                *year,
                store.as_deref(),
                *format,
            )?;
            print!("{}", inspection.text);
            for w in &inspection.warnings {
                eprintln!("warning: {w}");
            }
            Ok(if inspection.warnings.is_empty() {
                Code::Ok
            } else {
                Code::DataWarnings
            })
        }
        Command::Measures {
            key_stage,
            groups,
            format,
        } => {
            let cat = catalogue()?;
            let report = if *groups {
                attain::commands::measures::groups_report(&cat)
            } else {
                attain::commands::measures::measures_report(&cat, key_stage.as_deref())
            };
            report.print(*format);
            Ok(Code::Ok)
        }
        Command::Demo {
            out,
            schools,
            las,
            seed,
        } => {
            let s = attain::demo::generate(&attain::demo::DemoOptions {
                out_dir: out.clone(),
                seed: *seed,
                schools: *schools,
                las: *las,
            })?;
            eprintln!(
                "demo data: {} files, {} schools, {} LAs in {}; demo LA {} {}",
                s.files.len(),
                s.schools,
                s.las,
                out.display(),
                s.demo_la_code,
                s.demo_la_name
            );
            Ok(Code::Ok)
        }
        Command::Run { pipeline, force } => {
            let m = attain::pipeline::run(pipeline, *force, |line| eprintln!("{line}"))?;
            let ran = m.stages.iter().filter(|s| s.outcome == "ran").count();
            if ran == 0 {
                eprintln!("nothing to do: every stage's inputs are unchanged");
            }
            let manifest = if m.written {
                format!("manifest in {}", m.path.display())
            } else {
                format!(
                    "nothing written; manifest of the last run in {}",
                    m.path.display()
                )
            };
            eprintln!(
                "pipeline {}: {} stage(s) ran, {} skipped; {manifest}",
                m.pipeline,
                ran,
                m.stages.len() - ran
            );
            for w in &m.warnings {
                eprintln!("warning: {w}");
            }
            Ok(if m.warnings.is_empty() {
                Code::Ok
            } else {
                Code::DataWarnings
            })
        }
        Command::Rank {
            measure,
            year,
            group,
            la,
            neighbours,
            top10_percentile,
            store,
            format,
        } => {
            let cat = catalogue()?;
            let store = Store::at(store);
            let data = attain::analysis::data::Data::open(&store, &cat)?;
            let year = resolve_year(&data, measure, Level::La, *year)?;
            let rule = match top10_percentile {
                Some(p) => attain::analysis::rank::Top10Rule::Percentile(*p),
                None => attain::analysis::rank::Top10Rule::RankCut,
            };
            let req = attain::analysis::ranking::RankRequest {
                measure,
                group,
                year,
                neighbours: *neighbours,
                rule,
            };
            let mut rows = attain::analysis::ranking::rank(&data, &req)?;
            if let Some(la) = la {
                rows.retain(|r| &r.la_code == la);
                anyhow::ensure!(
                    !rows.is_empty(),
                    attain::error::ConfigError::new(
                        "--la",
                        format!("LA {la} has no {measure} figure for {year}")
                    )
                );
            }
            print!("{}", attain::commands::analysis::print_rank(&rows, *format));
            Ok(Code::Ok)
        }
        Command::Audit {
            dir,
            threshold,
            format,
        } => {
            let r = attain::audit::audit(dir, *threshold)?;
            match format {
                Format::Json => println!("{}", attain::number::to_json_pretty(&r)?),
                _ => println!("{}", attain::audit::describe(&r, dir)),
            }
            if !r.findings.is_empty() {
                anyhow::bail!(attain::error::DisclosureFindings(
                    r.findings
                        .iter()
                        .map(|f| format!("{}, {}: {}", f.file, f.location, f.figure))
                        .collect()
                ));
            }
            Ok(if r.not_checked.is_empty() {
                Code::Ok
            } else {
                Code::DataWarnings
            })
        }
        Command::Gaps {
            measure,
            group,
            level,
            la,
            year,
            against,
            pupils,
            prior_means,
            partnerships,
            only,
            years,
            widest,
            threshold,
            allow_bad_rows,
            ledger,
            store,
            format,
        } if !pupils.is_empty() => {
            let level = match level {
                Lvl::School => attain::analysis::pupils::Unit::School,
                Lvl::La => attain::analysis::pupils::Unit::La,
                Lvl::Partnership => attain::analysis::pupils::Unit::Partnership,
                Lvl::National => anyhow::bail!(attain::error::ConfigError::new(
                    "--level",
                    "pupil data is the LA's own: use school, partnership or la"
                )),
            };
            let o = attain::commands::pupils::PupilGapOptions {
                pupils,
                measure,
                group,
                level,
                year: *year,
                years: *years,
                only: only.clone(),
                la: la.as_deref(),
                prior_means: prior_means.as_ref(),
                partnerships: partnerships.as_ref(),
                threshold: *threshold,
                widest: *widest,
                allow_bad_rows: *allow_bad_rows,
                ledger: ledger.as_deref(),
            };
            let _ = against;
            let (rows, warnings, notes) = attain::commands::pupils::run(&Store::at(store), &o)?;
            for w in &warnings {
                eprintln!("warning: dropped a bad pupil row: {w}");
            }
            for n in &notes {
                eprintln!("warning: {n}");
            }
            print!("{}", attain::commands::pupils::print(&rows, *format));
            Ok(if warnings.is_empty() {
                Code::Ok
            } else {
                Code::DataWarnings
            })
        }
        Command::Gaps {
            measure,
            group,
            level,
            la,
            year,
            against,
            store,
            format,
            ..
        } => {
            anyhow::ensure!(*level != Lvl::Partnership, attain::error::ConfigError::new("--level", "published figures have no partnership level: use `attain partnerships`, or --pupils with --partnerships"));
            let cat = catalogue()?;
            let store = Store::at(store);
            let data = attain::analysis::data::Data::open(&store, &cat)?;
            let level: Level = (*level).into();
            let year = resolve_year(&data, measure, level, *year)?;
            let req = attain::analysis::gaps::GapRequest {
                measure,
                group,
                level,
                la: la.as_deref(),
                year,
                against: *against,
                trend_years: 3,
            };
            let rows = attain::analysis::gaps::gaps(&data, &req)?;
            print!("{}", attain::commands::analysis::print_gaps(&rows, *format));
            Ok(Code::Ok)
        }
        Command::Booklet {
            sel,
            year,
            out,
            neighbours,
            templates,
            colour,
            la_name,
            logo,
            html_only,
            pupils,
            prior_means,
            threshold,
            store,
        } => {
            let cat = catalogue()?;
            let store = Store::at(store);
            let data = attain::analysis::data::Data::open(&store, &cat)?;
            let year = resolve_year(&data, "ks2_rwm_expected", Level::School, *year)
                .or_else(|_| resolve_year(&data, "ks4_attainment8", Level::School, None))?;
            let sel = sel.selection();
            let opts = attain::render::booklet::Options {
                out: out.clone(),
                year,
                neighbours_model: *neighbours,
                la_colour: colour.clone(),
                la_name: la_name.clone(),
                logo: logo.clone(),
                templates: templates.clone(),
                html: true,
                pdf: !html_only,
                pupils: (!pupils.is_empty()).then(|| attain::render::booklet::PupilInputs {
                    paths: pupils.clone(),
                    prior_means: prior_means.clone(),
                    threshold: *threshold,
                    ledger: None,
                }),
            };
            let s = attain::render::booklet::run(&data, &sel, &opts)?;
            eprintln!(
                "{} booklet(s) for {} in {} (figures {:.1} s, rendering {:.1} s); index {}",
                s.written,
                attain::year::academic_label(year),
                out.display(),
                s.seconds_prepare,
                s.seconds_render,
                out.join("index.html").display()
            );
            if !s.no_attainment.is_empty() {
                eprintln!("{}", s.no_attainment_line());
            }
            Ok(Code::Ok)
        }
        Command::Trend {
            measure,
            code,
            group,
            from,
            to,
            store,
            format,
        } => {
            let cat = catalogue()?;
            let store = Store::at(store);
            let data = attain::analysis::data::Data::open(&store, &cat)?;
            let years = match (from, to) {
                (Some(a), Some(b)) => Some((*a, *b)),
                (None, None) => None,
                _ => anyhow::bail!(attain::error::ConfigError::new(
                    "--from/--to",
                    "give both or neither"
                )),
            };
            let t = attain::commands::trend::series(&data, measure, group, code, years)?;
            match format {
                Format::Json => println!("{}", attain::number::to_json_pretty(&t)?),
                f => {
                    print!(
                        "{}",
                        attain::commands::analysis::print(
                            &attain::commands::trend::lines(&t),
                            &[
                                "year",
                                "value",
                                "comparable",
                                "reason",
                                "break_note",
                                "source"
                            ],
                            *f
                        )
                    );
                    if *f == Format::Table {
                        println!(
                            "{} {} ({}): {}{}",
                            t.name,
                            t.measure,
                            t.group,
                            t.trend.summary,
                            t.trend
                                .change
                                .map(|c| format!(
                                    ", change {}",
                                    attain::number::format_gap(cat.measure(measure), Some(c))
                                ))
                                .unwrap_or_default()
                        );
                    }
                }
            }
            Ok(Code::Ok)
        }
        Command::Reconcile {
            measure,
            group,
            year,
            la,
            store,
            format,
        } => {
            let cat = catalogue()?;
            let store = Store::at(store);
            let data = attain::analysis::data::Data::open(&store, &cat)?;
            let year = resolve_year(&data, measure, Level::La, *year)?;
            let rows =
                attain::analysis::aggregate::reconcile(&data, measure, group, year, la.as_deref())?;
            print!(
                "{}",
                attain::commands::analysis::print_reconcile(&rows, *format)
            );
            Ok(Code::Ok)
        }
        Command::Ofsted {
            la,
            phase,
            year,
            store,
            format,
        } => {
            let cat = catalogue()?;
            let store = Store::at(store);
            let data = attain::analysis::data::Data::open(&store, &cat)?;
            let req = attain::commands::ofsted::OfstedRequest {
                la: la.as_deref(),
                phase: *phase,
                year: *year,
            };
            let report = attain::commands::ofsted::run(&data, &req)?;
            for line in report.matching.lines() {
                eprintln!("{line}");
            }
            print!("{}", attain::commands::ofsted::print(&report, *format));
            Ok(Code::Ok)
        }
        Command::Categorise {
            rules,
            la,
            year,
            store,
            format,
            out,
        } => {
            let cat = catalogue()?;
            let store = Store::at(store);
            let data = attain::analysis::data::Data::open(&store, &cat)?;
            let req = attain::commands::categorise::CategoriseRequest {
                rules,
                la: la.as_deref(),
                year: *year,
            };
            let (rules, results) = attain::commands::categorise::run(&data, &req)?;
            print!("{}", attain::commands::categorise::print(&results, *format));
            if let Some(dir) = out {
                for p in attain::commands::categorise::write_register(dir, &rules, &results)? {
                    eprintln!("wrote {}", p.display());
                }
            }
            Ok(Code::Ok)
        }
        Command::Charts {
            la,
            config,
            out,
            store,
            neighbours,
        } => {
            let cat = catalogue()?;
            let store = Store::at(store);
            let data = attain::analysis::data::Data::open(&store, &cat)?;
            let mut cfg = match config {
                Some(p) => attain::commands::charts::ChartsConfig::load(p)?,
                None => attain::commands::charts::ChartsConfig::default(),
            };
            if let Some(m) = neighbours {
                cfg.neighbours = *m;
            }
            cfg.check("--neighbours")?;
            let pack = attain::commands::charts::run(&data, la, &cfg, out)?;
            for s in &pack.skipped {
                eprintln!("skipped: {s}");
            }
            eprintln!(
                "{} chart(s) for {} {} in {} (PNG and SVG; list in charts.json)",
                pack.charts.len(),
                pack.la_code,
                pack.la_name,
                out.display()
            );
            Ok(Code::Ok)
        }
        Command::Partnerships {
            map,
            measures,
            year,
            chart_dir,
            write_map,
            la,
            store,
            format,
        } => {
            let cat = catalogue()?;
            let store = Store::at(store);
            let data = attain::analysis::data::Data::open(&store, &cat)?;
            let measures = if measures.is_empty() {
                vec!["ks2_rwm_expected".to_string()]
            } else {
                measures.clone()
            };
            if let Some(path) = write_map {
                let la = la.as_deref().ok_or_else(|| {
                    attain::error::ConfigError::new("--write-map", "give --la for the starting map")
                })?;
                let y = resolve_year(&data, &measures[0], Level::School, *year)?;
                attain::pipeline::write_atomic(
                    path,
                    attain::analysis::partnerships::starter_map(&data, la, &measures[0], y, 5)?
                        .as_bytes(),
                )?;
                eprintln!("wrote {}", path.display());
                return Ok(Code::Ok);
            }
            let map = map
                .as_deref()
                .expect("clap requires --map without --write-map");
            let rows = attain::commands::partnerships::run(
                &data,
                &attain::commands::partnerships::PartnershipRequest {
                    map,
                    measures: &measures,
                    year: *year,
                },
            )?;
            print!("{}", attain::commands::partnerships::print(&rows, *format));
            let excluded: usize = rows
                .iter()
                .filter(|r| r.partnership != "All mapped schools")
                .map(|r| r.schools_excluded)
                .sum();
            if excluded > 0 {
                eprintln!(
                    "{excluded} school figure(s) withheld and excluded (listed in --format json)"
                );
            }
            if let Some(dir) = chart_dir {
                let charts = attain::commands::partnerships::charts(&data, &rows, map);
                for p in attain::commands::partnerships::write_charts(&charts, dir)? {
                    eprintln!("wrote {}", p.display());
                }
            }
            Ok(Code::Ok)
        }
        Command::Workbook {
            la,
            out,
            rules,
            map,
            neighbours,
            store,
        } => {
            let cat = catalogue()?;
            let store = Store::at(store);
            let data = attain::analysis::data::Data::open(&store, &cat)?;
            let req = attain::commands::workbook::WorkbookRequest {
                la,
                out,
                rules,
                map: map.as_deref(),
                neighbours: *neighbours,
            };
            let sheets = attain::commands::workbook::run(&data, &req)?;
            eprintln!(
                "wrote {}: {}",
                out.display(),
                sheets
                    .iter()
                    .map(|(n, r)| format!("{n} {r} rows"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            Ok(Code::Ok)
        }
        Command::Targets {
            what:
                TargetsWhat::Forms {
                    sel,
                    year,
                    out,
                    neighbours,
                    store,
                },
        } => {
            let cat = catalogue()?;
            let store = Store::at(store);
            let data = attain::analysis::data::Data::open(&store, &cat)?;
            let year = match year {
                Some(y) => *y,
                None => {
                    attain::commands::targets::latest_results_year(&data)?.ok_or_else(|| {
                        attain::error::ConfigError::new(
                            "--year",
                            "the store has no KS2 or KS4 school results",
                        )
                    })?
                }
            };
            let sel = sel.selection();
            let s = attain::commands::targets::forms(
                &data,
                &attain::commands::targets::FormsRequest {
                    sel,
                    year,
                    neighbours: *neighbours,
                    out,
                },
            )?;
            for k in &s.skipped {
                eprintln!("no form: {k}");
            }
            eprintln!(
                "{} target form(s) for {} (from the {} results) in {}",
                s.written.len(),
                attain::year::academic_label(year + 1),
                attain::year::academic_label(year),
                out.display()
            );
            Ok(Code::Ok)
        }
        Command::Targets {
            what:
                TargetsWhat::Import {
                    files,
                    year,
                    store,
                    format,
                },
        } => {
            let cat = catalogue()?;
            let store = Store::at(store);
            let data = attain::analysis::data::Data::open(&store, &cat)?;
            let s = attain::commands::targets::import(&data, files, *year)?;
            print!(
                "{}",
                attain::commands::targets::print_import(&s, &data, *format)
            );
            eprintln!("{}", attain::commands::targets::import_summary_line(&s));
            Ok(if s.failed() > 0 {
                Code::Input
            } else {
                Code::Ok
            })
        }
        Command::Targets {
            what:
                TargetsWhat::Compare {
                    la,
                    year,
                    store,
                    format,
                },
        } => {
            let cat = catalogue()?;
            let store = Store::at(store);
            let data = attain::analysis::data::Data::open(&store, &cat)?;
            let rows = attain::commands::targets::compare(&data, la.as_deref(), *year)?;
            print!(
                "{}",
                attain::commands::targets::print_compare(&rows, *format)
            );
            Ok(Code::Ok)
        }
        Command::Bench {
            what: BenchWhat::Rank { store },
        } => {
            let cat = catalogue()?;
            let store = Store::at(store);
            let data = attain::analysis::data::Data::open(&store, &cat)?;
            for model in [None, Some(2021)] {
                let t = std::time::Instant::now();
                let (sets, rows) = attain::analysis::ranking::rank_everything(&data, model)?;
                println!(
                    "rank everything{}: {sets} measure-group-years, {rows} LA rows in {:.3} s",
                    model
                        .map(|m| format!(" with {m} neighbours"))
                        .unwrap_or_default(),
                    t.elapsed().as_secs_f64()
                );
            }
            Ok(Code::Ok)
        }
        Command::Bench {
            what: BenchWhat::Booklet { store, year, la },
        } => {
            print!(
                "{}",
                attain::commands::bench::booklets(store, catalogue()?, *year, la.clone())?
            );
            Ok(Code::Ok)
        }
        Command::Bench {
            what: BenchWhat::Charts { store, la },
        } => {
            print!(
                "{}",
                attain::commands::bench::charts(store, catalogue()?, la.clone())?
            );
            Ok(Code::Ok)
        }
        Command::Bench {
            what: BenchWhat::Pupils { pupils },
        } => {
            print!("{}", attain::commands::bench::pupils(*pupils)?);
            Ok(Code::Ok)
        }
        Command::Bench {
            what: BenchWhat::Ingest { demo, repeat },
        } => {
            print!(
                "{}",
                attain::commands::bench::ingest(demo, *repeat, catalogue()?)?
            );
            Ok(Code::Ok)
        }
    }
}
