//! One writer at a time, exit codes that tell the truth, runs that notice every change,
//! CSV that a spreadsheet cannot run, and flags that refuse hostile values (issue 14).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use attain::store::frame::{query_results, ResultFilter};
use attain::store::Store;
use clap::CommandFactory;

use crate::common::{bin, demo_world, raw, raw_dir, scratch};

/// Every source file whose results the store holds.
fn files_in_store(store: &Path) -> std::collections::BTreeSet<String> {
    let rows = query_results(
        Store::at(store).scan("results").unwrap(),
        &ResultFilter::default(),
    )
    .unwrap();
    rows.into_iter().map(|r| r.source_file).collect()
}

#[test]
fn concurrent_ingests_into_one_store_keep_both_files_every_time() {
    if raw_dir().is_none() {
        return;
    }
    let a = raw("clarelgibson-hants-surrey/data-in/ks2/2018-850-ks2.csv");
    let b = raw("clarelgibson-hants-surrey/data-in/ks2/2018-936-ks2.csv");
    let dir = scratch("concurrent");
    // A deterministic spread of start offsets (0-300 ms) between the two writers.
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    for trial in 0..20 {
        let store = dir.join(format!("store-{trial}"));
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let offset = Duration::from_millis(state % 300);
        let first = bin()
            .arg("ingest")
            .arg(&a)
            .arg("--store")
            .arg(&store)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::sleep(offset);
        let second = bin()
            .arg("ingest")
            .arg(&b)
            .arg("--store")
            .arg(&store)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (fa, fb) = (
            first.wait_with_output().unwrap(),
            second.wait_with_output().unwrap(),
        );
        assert_eq!(
            (fa.status.code(), fb.status.code()),
            (Some(0), Some(0)),
            "trial {trial}: {}\n{}",
            String::from_utf8_lossy(&fa.stderr),
            String::from_utf8_lossy(&fb.stderr)
        );
        let files = files_in_store(&store);
        assert_eq!(
            files.len(),
            2,
            "trial {trial} (offset {offset:?}): both files' results are in the store: {files:?}"
        );
    }
}

#[test]
fn a_second_pipeline_run_waits_for_the_first() {
    let dir = scratch("pipeline-lock");
    let out = dir.join("out");
    std::fs::create_dir_all(&out).unwrap();
    let held = attain::atomic::lock_dir(&out, "test").unwrap();
    let pipeline = dir.join("p.toml");
    std::fs::write(
        &pipeline,
        format!(
            "name = \"p\"\noutput = {:?}\n[[stage]]\nname = \"demo\"\nrun = \
        \"demo\"\noutputs = [{:?}]\noptions = {{ schools = 300, las = 4 }}\n",
            out,
            dir.join("demo")
        ),
    )
    .unwrap();
    let mut child = bin()
        .arg("run")
        .arg(&pipeline)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    assert!(
        child.try_wait().unwrap().is_none(),
        "the run waits while another holds the pipeline's lock"
    );
    drop(held);
    let done = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&done.stderr);
    assert_eq!(done.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("waiting for another run of")
            && stderr.contains(&out.display().to_string()),
        "{stderr}"
    );
}

/// A pipeline over the shared demo world: ingest its data, then write a categorise register.
fn small_pipeline(dir: &Path, la_name: &str, rules: &Path) -> PathBuf {
    let data = demo_world().join("data");
    let p = dir.join("pipeline.toml");
    let text = format!(
        "name = \"small\"\noutput = {out:?}\n[la]\ncode = \"650\"\nname = {la_name:?}\n\n[[stage]]\nname = \
            \"ingest\"\nrun = \"ingest\"\ninputs = [{data:?}]\noutputs = [{store:?}]\n\n[[stage]]\nname = \
            \"register\"\nrun = \"categorise\"\ninputs = [{store:?}]\noutputs = [{reg:?}]\noptions = {{ rules = \
            {rules:?}, store = {store:?}, la = \"650\" }}\n",
        out = dir.join("out"),
        store = dir.join("store"),
        reg = dir.join("register"),
    );
    std::fs::write(&p, text).unwrap();
    p
}

fn run_stages(pipeline: &Path) -> Vec<(String, String)> {
    let out = bin().arg("run").arg(pipeline).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let manifest: serde_json::Value = serde_json::from_slice(
        &std::fs::read(pipeline.parent().unwrap().join("out/manifest.json")).unwrap(),
    )
    .unwrap();
    manifest["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap().to_string(),
                s["outcome"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn a_pipeline_notices_every_change_of_settings_rules_and_outputs() {
    let dir = scratch("fingerprint");
    let rules = dir.join("rules.toml");
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("pipelines/rules/merton.toml"),
        &rules,
    )
    .unwrap();
    let p = small_pipeline(&dir, "Borsetshire", &rules);
    let ran = |stages: &[(String, String)], name: &str| {
        stages.iter().any(|(n, o)| n == name && o == "ran")
    };
    let first = run_stages(&p);
    assert!(
        ran(&first, "ingest") && ran(&first, "register"),
        "{first:?}"
    );
    // Nothing changed: nothing runs (the manifest is left as it was).
    let out = bin().arg("run").arg(&p).output().unwrap();
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .matches("skipped")
            .count()
            >= 2,
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The [la] table is part of every stage's settings.
    small_pipeline(&dir, "Borsetshire County Council", &rules);
    let after_la = run_stages(&p);
    assert!(
        ran(&after_la, "register") && ran(&after_la, "ingest"),
        "{after_la:?}"
    );
    // A file a setting names (the rules) changes: its stage runs again, the ingest does not.
    let text = std::fs::read_to_string(&rules).unwrap();
    std::fs::write(&rules, text + "\n# edited\n").unwrap();
    let after_rules = run_stages(&p);
    assert!(
        ran(&after_rules, "register") && !ran(&after_rules, "ingest"),
        "{after_rules:?}"
    );
    // An output deleted, or edited, makes its stage run again.
    let written: Vec<PathBuf> = std::fs::read_dir(dir.join("register"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    std::fs::remove_file(&written[0]).unwrap();
    let after_delete = run_stages(&p);
    assert!(
        ran(&after_delete, "register") && !ran(&after_delete, "ingest"),
        "{after_delete:?}"
    );
    assert!(written[0].exists(), "the deleted output is made again");
    std::fs::write(&written[0], b"tampered").unwrap();
    let after_edit = run_stages(&p);
    assert!(ran(&after_edit, "register"), "{after_edit:?}");
}

#[test]
fn a_stage_input_that_does_not_exist_is_an_error_not_zero_files() {
    let dir = scratch("missing-input");
    let p = dir.join("p.toml");
    std::fs::write(
        &p,
        format!(
            "name = \"m\"\noutput = {:?}\n[[stage]]\nname = \"audit\"\nrun = \"audit\"\ninputs = \
        [{:?}]\n",
            dir.join("out"),
            dir.join("output/bookelts")
        ),
    )
    .unwrap();
    let out = bin().arg("run").arg(&p).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("bookelts")
            && stderr.contains("does not exist")
            && stderr.contains("\"audit\""),
        "{stderr}"
    );
}

#[test]
fn csv_outputs_neutralise_formulas_in_names() {
    let dir = scratch("csv-injection");
    let data = dir.join("data");
    let out = bin()
        .args(["demo", "--schools", "300", "--las", "4", "--out"])
        .arg(&data)
        .output()
        .unwrap();
    assert!(out.status.success());
    // Give one school a name a spreadsheet would run, in every file that names it.
    let evil = "=cmd|' /C calc'!A0";
    let mut renamed = 0;
    for f in attain::ingest::collect_files(std::slice::from_ref(&data)).unwrap() {
        let Ok(text) = std::fs::read_to_string(&f.0) else {
            continue;
        };
        if text.contains("St Anne Infant and Junior School") {
            std::fs::write(&f.0, text.replace("St Anne Infant and Junior School", evil)).unwrap();
            renamed += 1;
        }
    }
    assert!(renamed > 0);
    let store = dir.join("store");
    let out = bin()
        .arg("ingest")
        .arg(&data)
        .arg("--store")
        .arg(&store)
        .output()
        .unwrap();
    assert!(
        out.status.code().unwrap() <= 1,
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = bin()
        .args([
            "gaps",
            "--measure",
            "ks2_rwm_expected",
            "--group",
            "disadvantaged",
            "--level",
            "school",
            "--la",
            "650",
            "--format",
            "csv",
            "--store",
        ])
        .arg(&store)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let csv = String::from_utf8_lossy(&out.stdout);
    let mut r = csv::Reader::from_reader(csv.as_bytes());
    let names: Vec<String> = r.records().map(|x| x.unwrap()[1].to_string()).collect();
    assert!(
        names.iter().any(|n| n == &format!("'{evil}")),
        "the name is kept, made inert: {names:?}"
    );
    assert!(names.iter().all(|n| !n.starts_with('=')), "{names:?}");
    // JSON keeps the name as it is.
    let out = bin()
        .args([
            "gaps",
            "--measure",
            "ks2_rwm_expected",
            "--group",
            "disadvantaged",
            "--level",
            "school",
            "--la",
            "650",
            "--format",
            "json",
            "--store",
        ])
        .arg(&store)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains(&serde_json::to_string(evil).unwrap()));
}

/// Every subcommand path and its numeric flags, from clap's own definition.
fn numeric_flags() -> Vec<(Vec<String>, String)> {
    fn walk(cmd: &clap::Command, path: Vec<String>, out: &mut Vec<(Vec<String>, String)>) {
        use clap::builder::ValueParser;
        let numeric = [
            ValueParser::from(clap::value_parser!(i32)).type_id(),
            ValueParser::from(clap::value_parser!(u64)).type_id(),
            ValueParser::from(clap::value_parser!(usize)).type_id(),
            ValueParser::from(clap::value_parser!(f64)).type_id(),
        ];
        for a in cmd.get_arguments() {
            if let Some(long) = a.get_long() {
                if numeric.contains(&a.get_value_parser().type_id()) {
                    out.push((path.clone(), long.to_string()));
                }
            }
        }
        for sub in cmd.get_subcommands() {
            let mut p = path.clone();
            p.push(sub.get_name().to_string());
            walk(sub, p, out);
        }
    }
    let mut out = Vec::new();
    walk(&attain::cli::Cli::command(), vec![], &mut out);
    out
}

#[test]
fn every_numeric_flag_of_every_subcommand_refuses_hostile_values() {
    let flags = numeric_flags();
    assert!(flags.len() >= 30, "{flags:?}");
    let dir = scratch("hostile-flags");
    for (path, flag) in &flags {
        for value in [
            "-1",
            "NaN",
            "inf",
            "-inf",
            "1e309",
            "99999999999999999999",
            "abc",
            "",
            "2.5e3x",
        ] {
            let out = Command::new(env!("CARGO_BIN_EXE_attain"))
                .current_dir(&dir)
                .args(path)
                .arg(format!("--{flag}={value}"))
                .output()
                .unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(
                out.status.code(),
                Some(2),
                "attain {} --{flag}={value:?}: {stderr}",
                path.join(" ")
            );
            assert!(
                stderr.contains(&format!("--{flag}")) && !stderr.contains("panicked"),
                "attain {} --{flag}={value:?}: {stderr}",
                path.join(" ")
            );
        }
    }
    // Values just outside each documented range.
    for (args, bad) in [
        (
            vec!["rank", "--measure", "ks2_rwm_expected"],
            "--top10-percentile=100",
        ),
        (
            vec!["rank", "--measure", "ks2_rwm_expected"],
            "--top10-percentile=100.5",
        ),
        (
            vec!["rank", "--measure", "ks2_rwm_expected"],
            "--top10-percentile=0",
        ),
        (
            vec!["rank", "--measure", "ks2_rwm_expected"],
            "--neighbours=2019",
        ),
        (
            vec!["rank", "--measure", "ks2_rwm_expected"],
            "--year=2031x",
        ),
        (vec!["rank", "--measure", "ks2_rwm_expected"], "--year=1999"),
        (vec!["audit", "."], "--threshold=1001"),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_attain"))
            .current_dir(&dir)
            .args(&args)
            .arg(bad)
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?} {bad}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        0,
        "nothing was written by a refused command"
    );
}

#[test]
fn a_write_failure_names_the_path_and_exits_4() {
    // Tests run as root here, which writes through permissions: the output's parent is a file.
    let dir = scratch("write-failure");
    let blocker = dir.join("not-a-dir");
    std::fs::write(&blocker, b"x").unwrap();
    let out = bin()
        .args(["categorise", "--rules"])
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("pipelines/rules/merton.toml"))
        .arg("--store")
        .arg(demo_world().join("store"))
        .arg("--out")
        .arg(blocker.join("register"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    assert!(
        stderr.contains(&blocker.join("register").display().to_string()),
        "{stderr}"
    );
}
