//! The command line's conventions: help on every flag, an example on every command,
//! completions and man pages, validation with suggestions (exit 2), the booklet's selection,
//! pipeline stages read into the same arguments structs as the flags, and the README's
//! command section kept in step with the clap definitions.

use std::path::Path;
use std::process::Output;

use clap::{CommandFactory, FromArgMatches};

use crate::common::{bin, demo_world, scratch};

fn run(args: &[&str]) -> Output {
    bin().args(args).output().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

/// Every subcommand, with its path (`targets forms`).
fn subcommands(cmd: &clap::Command, path: &str, out: &mut Vec<(String, clap::Command)>) {
    for sub in cmd.get_subcommands() {
        let p = format!("{path} {}", sub.get_name()).trim().to_string();
        out.push((p.clone(), sub.clone()));
        subcommands(sub, &p, out);
    }
}

fn all_commands() -> Vec<(String, clap::Command)> {
    let mut cmd = attain::cli::Cli::command();
    cmd.build();
    let mut out = vec![("attain".to_string(), cmd.clone())];
    subcommands(&cmd, "", &mut out);
    out
}

#[test]
fn every_flag_of_every_subcommand_has_help_and_every_command_an_example() {
    let mut missing = Vec::new();
    let mut no_example = Vec::new();
    let commands = all_commands();
    assert!(commands.len() > 20, "{} commands", commands.len());
    for (path, cmd) in &commands {
        for arg in cmd.get_arguments() {
            let id = arg.get_id().as_str();
            if id == "help" || id == "version" {
                continue;
            }
            if arg.get_help().is_none() && arg.get_long_help().is_none() {
                missing.push(format!("{path} {id}"));
            }
        }
        let leaf = cmd.get_subcommands().next().is_none();
        let help = path.split(' ').any(|w| w == "help");
        if path != "attain" && !help && cmd.get_after_long_help().is_none() && leaf {
            no_example.push(path.clone());
        }
    }
    assert!(missing.is_empty(), "flags without help: {missing:?}");
    assert!(
        no_example.is_empty(),
        "commands without an example: {no_example:?}"
    );
}

#[test]
fn completions_generate_for_bash_zsh_and_fish() {
    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef attain"),
        ("fish", "complete -c attain"),
    ] {
        let o = run(&["completions", shell]);
        assert!(o.status.success(), "{shell}: {}", stderr(&o));
        let text = String::from_utf8_lossy(&o.stdout);
        assert!(text.contains(marker), "{shell}: no {marker:?}");
        // The script knows the flags of a subcommand.
        assert!(text.contains("all-las"), "{shell}: no --all-las");
    }
    let o = run(&["completions", "tcsh"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn man_pages_are_written_for_every_command() {
    let dir = scratch("man");
    let o = bin().arg("man").arg(&dir).output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let pages = std::fs::read_dir(&dir).unwrap().count();
    // One page per command (the tree without clap's own help subcommands).
    let expected = all_commands()
        .iter()
        .filter(|(p, _)| !p.split(' ').any(|w| w == "help"))
        .count();
    assert_eq!(pages, expected);
    let rank = std::fs::read_to_string(dir.join("attain-rank.1")).unwrap();
    assert!(rank.contains("measure") && rank.contains(".TH"), "{rank}");
    let forms = std::fs::read_to_string(dir.join("attain-targets-forms.1")).unwrap();
    assert!(forms.contains("all\\-las"), "{forms}");
}

/// The demo world's years, from the directory names `attain demo` writes.
fn demo_years() -> Vec<i32> {
    let mut years: Vec<i32> = std::fs::read_dir(demo_world().join("data"))
        .unwrap()
        // One directory per school year: 2016-2017 holds the 2017 results.
        .filter_map(|e| {
            e.ok()?
                .file_name()
                .to_str()?
                .split_once('-')?
                .1
                .parse()
                .ok()
        })
        .collect();
    years.sort();
    years
}

fn demo_store() -> String {
    demo_world().join("store").display().to_string()
}

#[test]
fn misspelt_group_measure_year_and_la_exit_2_with_a_suggestion() {
    let store = demo_store();
    let s = store.as_str();
    let o = run(&[
        "rank",
        "--measure",
        "ks2_rwm_expected",
        "--group",
        "disadvantged",
        "--store",
        s,
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("did you mean \"disadvantaged\""),
        "{}",
        stderr(&o)
    );

    let o = run(&["rank", "--measure", "ks2_rwm_expectd", "--store", s]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("did you mean \"ks2_rwm_expected\""),
        "{}",
        stderr(&o)
    );

    let o = run(&[
        "trend",
        "--measure",
        "ks2_rwm_expected",
        "--code",
        "650",
        "--group",
        "foo",
        "--store",
        s,
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("unknown group \"foo\""),
        "{}",
        stderr(&o)
    );

    // A year the store does not have: the answer says which years it has.
    let years = demo_years();
    assert_eq!(years.len(), 3, "{years:?}");
    let o = run(&[
        "rank",
        "--measure",
        "ks2_rwm_expected",
        "--year",
        "2030",
        "--store",
        s,
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let has = format!(
        "it has {}-{}; did you mean {}?",
        years[0], years[2], years[2]
    );
    assert!(stderr(&o).contains(&has), "{}", stderr(&o));

    // An LA code one character off the demo LA's.
    for cmd in [
        &["booklet", "--out", "x"][..],
        &["targets", "forms", "--out", "x"][..],
        &["rank", "--measure", "ks2_rwm_expected"][..],
    ] {
        let mut args = cmd.to_vec();
        args.extend(["--la", "65O", "--store", s]);
        let o = run(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(
            stderr(&o).contains("did you mean 650 (Borsetshire)?"),
            "{args:?}: {}",
            stderr(&o)
        );
    }
    let o = run(&[
        "targets", "forms", "--out", "x", "--la", "999", "--store", s,
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("no LA \"999\""), "{}", stderr(&o));
}

#[test]
fn booklet_and_forms_need_a_selection_and_a_colour_is_checked() {
    let store = demo_store();
    let out = scratch("no-selection");
    let out = out.to_str().unwrap();
    for cmd in [&["booklet"][..], &["targets", "forms"][..]] {
        let mut args = cmd.to_vec();
        args.extend(["--out", out, "--store", store.as_str()]);
        let o = run(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains("--all-las"), "{}", stderr(&o));
    }
    assert_eq!(
        std::fs::read_dir(out).unwrap().count(),
        0,
        "nothing written"
    );
    let o = run(&[
        "booklet", "--la", "650", "--colour", "red", "--out", out, "--store", &store,
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("#rrggbb"), "{}", stderr(&o));
}

#[test]
fn a_school_the_store_has_but_not_for_the_year_is_said_so() {
    let world = demo_world();
    // A demo LA school, from the demo's KS2 file for the latest year.
    let years = demo_years();
    let ks2 = world
        .join("data")
        .join(format!("{}-{}", years[2] - 1, years[2]))
        .join("england_ks2final.csv");
    let rows = crate::common::csv_rows(&ks2);
    let urn = rows
        .iter()
        .find(|r| r["RECTYPE"] == "1" && r["LEA"] == "650")
        .map(|r| r["URN"].clone())
        .expect("a school of LA 650");
    let out = scratch("school-year");
    let o = bin()
        .args(["booklet", "--year", "2024", "--school", &urn, "--store"])
        .arg(world.join("store"))
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let e = stderr(&o);
    // The years it has: the demo's (and any other year a file of it gave, such as GIAS's).
    let said = "but not for 2024 (2023/24): it has ";
    let run = format!("{}-{}", years[0], years[2]);
    assert!(e.contains(&run), "{e}");
    assert!(
        e.contains(&format!("the store has URN {urn} (")) && e.contains(said),
        "{e}"
    );
    let o = bin()
        .args([
            "booklet",
            "--year",
            &years[0].to_string(),
            "--school",
            "999999",
            "--store",
        ])
        .arg(world.join("store"))
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("URN 999999 is not in the store"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn pupil_gaps_refuse_a_comparison_they_cannot_make() {
    let world = demo_world();
    let o = bin()
        .args([
            "gaps",
            "--measure",
            "ks2_rwm_expected",
            "--group",
            "disadvantaged",
            "--against",
            "national",
            "--pupils",
        ])
        .arg(world.join("data/pupils"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("--against"), "{}", stderr(&o));
}

#[test]
fn a_misspelt_stage_option_exits_2_naming_it_and_the_file() {
    let dir = scratch("stage-option");
    let booklets = dir.join("booklets");
    std::fs::create_dir_all(&booklets).unwrap();
    let pipeline = dir.join("misspelt.toml");
    std::fs::write(
        &pipeline,
        format!(
            "name = \"misspelt\"\noutput = \"{}\"\n[[stage]]\nname = \"audit\"\nrun = \"audit\"\ninputs = \
                [\"{}\"]\noptions = {{ threshhold = 5 }}\n",
            dir.join("state").display(),
            booklets.display()
        ),
    )
    .unwrap();
    let o = bin().arg("run").arg(&pipeline).output().unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(e.contains("misspelt.toml"), "{e}");
    assert!(
        e.contains("unknown option \"threshhold\"; did you mean \"threshold\"?"),
        "{e}"
    );
    // A value of the wrong kind is refused as the flag would be.
    std::fs::write(
        &pipeline,
        std::fs::read_to_string(&pipeline)
            .unwrap()
            .replace("threshhold = 5", "threshold = 500"),
    )
    .unwrap();
    let o = bin().arg("run").arg(&pipeline).output().unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}

/// Parse the flags with clap, and the same settings as a stage's TOML with serde: equal.
fn same_from_flags_and_toml<T>(args: &[&str], toml_text: &str)
where
    T: clap::Args + FromArgMatches + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
{
    let cmd = T::augment_args(clap::Command::new("x").no_binary_name(true));
    let from_flags = T::from_arg_matches(&cmd.try_get_matches_from(args).unwrap()).unwrap();
    let from_toml: T = toml::from_str(toml_text).unwrap();
    assert_eq!(from_flags, from_toml);
}

#[test]
fn flags_and_stage_settings_read_into_the_same_structs_with_the_same_defaults() {
    use attain::cli::*;
    same_from_flags_and_toml::<BookletArgs>(
        &["--out", "b", "--la", "650"],
        "out = \"b\"\nla = \"650\"",
    );
    same_from_flags_and_toml::<FormsArgs>(
        &["--out", "f", "--all-las"],
        "out = \"f\"\nall_las = true",
    );
    same_from_flags_and_toml::<ChartsArgs>(&["--la", "650"], "la = \"650\"");
    same_from_flags_and_toml::<WorkbookArgs>(
        &["--la", "650", "--out", "w.xlsx"],
        "la = \"650\"\nout = \"w.xlsx\"",
    );
    same_from_flags_and_toml::<CategoriseArgs>(
        &["--rules", "r.toml", "--year", "2019"],
        "rules = \"r.toml\"\nyear = 2019",
    );
    same_from_flags_and_toml::<DemoArgs>(&[], "");
    same_from_flags_and_toml::<AuditArgs>(&["d"], "dir = \"d\"");
    same_from_flags_and_toml::<IngestArgs>(&["a", "b"], "paths = [\"a\", \"b\"]");
    same_from_flags_and_toml::<RankArgs>(&["--measure", "m"], "measure = \"m\"");
    same_from_flags_and_toml::<GapsArgs>(
        &["--measure", "m", "--group", "g"],
        "measure = \"m\"\ngroup = \"g\"",
    );
    // The serde side applies the flags' checks.
    assert!(toml::from_str::<BookletArgs>("out = \"b\"\ncolour = \"red\"").is_err());
    assert!(toml::from_str::<BookletArgs>("out = \"b\"\nyear = 1990").is_err());
    assert!(toml::from_str::<WorkbookArgs>("la = \"1\"\nout = \"w\"\nneighbours = 2020").is_err());
}

/// The README's "## Commands" section names every subcommand and every long flag the clap
/// definitions have: a flag added without documentation fails here.
#[test]
fn the_readme_command_section_matches_the_clap_definitions() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let start = readme.find("\n## Commands").expect("a Commands section");
    let end = readme[start + 1..]
        .find("\n## ")
        .map(|e| start + 1 + e)
        .unwrap_or(readme.len());
    let section = &readme[start..end];
    let mut missing = Vec::new();
    for (path, cmd) in all_commands() {
        if path.split(' ').any(|w| w == "help") || path.starts_with("bench") {
            continue;
        }
        if path != "attain" && !section.contains(&format!("attain {path}")) {
            missing.push(format!("command `attain {path}`"));
        }
        for arg in cmd.get_arguments() {
            let Some(long) = arg.get_long() else { continue };
            if ["help", "version"].contains(&long) {
                continue;
            }
            let flag = format!("--{long}");
            let named = section.match_indices(&flag).any(|(i, _)| {
                !section[i + flag.len()..]
                    .starts_with(|c: char| c.is_ascii_alphanumeric() || c == '-')
            });
            if !named {
                missing.push(format!("`{flag}` of `{path}`"));
            }
        }
    }
    missing.sort();
    missing.dedup();
    assert!(
        missing.is_empty(),
        "not in the README's command section: {missing:#?}"
    );
}
