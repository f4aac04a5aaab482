//! Exit codes by the kind of failure (README, "Bad input and exit codes"): an output that
//! cannot be written is 4 and names it, whatever the command; an input that cannot be read
//! is 3; `--la` with pupil-level files is checked like every other `--la` (2, a suggestion).

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use crate::common::{bin, demo_world, raw, real_store, scratch};

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

/// A regular file, and a path under it: no directory can be made there. (Tests run as root,
/// which writes through permissions, so a read-only directory would not stop a write.)
fn blocked(test: &str) -> (PathBuf, PathBuf) {
    let file = scratch(test).join("a-file");
    std::fs::write(&file, "x").unwrap();
    let under = file.join("out");
    (file, under)
}

/// The command's exit code and stderr, its stdout sent to `/dev/full` (every write to it
/// fails: "No space left on device").
fn to_full_device(cmd: &mut Command) -> (Option<i32>, String) {
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let o = cmd.stdout(Stdio::from(full)).output().unwrap();
    (o.status.code(), stderr(&o))
}

fn merton() -> &'static str {
    concat!(env!("CARGO_MANIFEST_DIR"), "/pipelines/rules/merton.toml")
}

#[test]
fn an_output_that_cannot_be_written_exits_4_naming_it() {
    let Some(store) = real_store() else {
        return;
    };
    let (file, under) = blocked("exit-codes-output");
    let expect_4 = |what: &str, o: Output, path: &Path| {
        let e = stderr(&o);
        assert_eq!(o.status.code(), Some(4), "{what}: {e}");
        assert!(
            e.contains(&path.display().to_string()) && e.contains("cannot write"),
            "{what}: {e}"
        );
        assert!(
            e.contains(&format!("{} is a file, not a directory", file.display())),
            "{what}: {e}"
        );
    };

    // Hampshire's booklets for 2018/19 (the real KS2 files' latest year for 850).
    let o = bin()
        .args([
            "booklet",
            "--la",
            "850",
            "--year",
            "2019",
            "--html-only",
            "--out",
        ])
        .arg(&under)
        .arg("--store")
        .arg(store)
        .output()
        .unwrap();
    expect_4("booklet", o, &under);

    // Hampshire's LA workbook.
    let xlsx = under.join("850.xlsx");
    let o = bin()
        .args(["workbook", "--la", "850", "--rules", merton(), "--out"])
        .arg(&xlsx)
        .arg("--store")
        .arg(store)
        .output()
        .unwrap();
    expect_4("workbook", o, &xlsx);

    // The store itself, written under a file.
    let o = bin()
        .arg("ingest")
        .arg(raw("kspdeveloper-perf-tables/la_and_region_codes_meta.csv"))
        .arg("--store")
        .arg(under.join("store"))
        .output()
        .unwrap();
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(4), "ingest: {e}");
    assert!(e.contains("cannot write the store"), "{e}");

    // rank and gaps print their results: stdout that cannot take them is an output error too,
    // not a panic (101) or an input error (3).
    let (code, e) = to_full_device(
        bin()
            .args(["rank", "--measure", "ks2_rwm_expected", "--year", "2019"])
            .arg("--store")
            .arg(store),
    );
    assert_eq!(code, Some(4), "rank: {e}");
    assert!(e.starts_with("error: stdout: cannot write: "), "rank: {e}");
    let (code, e) = to_full_device(
        bin()
            .args(["gaps", "--measure", "ks2_rwm_expected", "--group"])
            .args(["disadvantaged", "--la", "850", "--year", "2019", "--format"])
            .args(["csv", "--store"])
            .arg(store),
    );
    assert_eq!(code, Some(4), "gaps: {e}");
    assert!(e.starts_with("error: stdout: cannot write: "), "gaps: {e}");
}

#[test]
fn a_pupil_gap_ledger_that_cannot_be_written_exits_4() {
    let world = demo_world();
    let (_, under) = blocked("exit-codes-ledger");
    let ledger = under.join("released.json");
    let o = bin()
        .args([
            "gaps",
            "--measure",
            "ks2_rwm_expected",
            "--group",
            "disadvantaged",
        ])
        .arg("--pupils")
        .arg(world.join("data/pupils"))
        .arg("--store")
        .arg(world.join("store"))
        .arg("--ledger")
        .arg(&ledger)
        .output()
        .unwrap();
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(4), "{e}");
    assert!(e.contains(&ledger.display().to_string()), "{e}");
}

#[test]
fn an_input_that_cannot_be_read_still_exits_3() {
    let Some(store) = real_store() else {
        return;
    };
    let (_, under) = blocked("exit-codes-input");
    // A file named under a regular file: it cannot exist, so it cannot be read.
    let missing = under.join("2018-850-ks2.csv");
    let o = bin()
        .arg("ingest")
        .arg(&missing)
        .arg("--store")
        .arg(scratch("exit-codes-input-store").join("store"))
        .output()
        .unwrap();
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(3), "ingest: {e}");
    assert!(e.contains(&missing.display().to_string()), "{e}");
    // Pupil files that cannot be read, for a question otherwise well put.
    let o = bin()
        .args([
            "gaps",
            "--measure",
            "ks2_rwm_expected",
            "--group",
            "disadvantaged",
        ])
        .arg("--pupils")
        .arg(&missing)
        .arg("--store")
        .arg(store)
        .output()
        .unwrap();
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(3), "gaps --pupils: {e}");
    assert!(e.contains(&missing.display().to_string()), "{e}");
}

#[test]
fn la_with_pupil_files_is_checked_with_a_suggestion() {
    let world = demo_world();
    let gaps = |la: &str| {
        bin()
            .args([
                "gaps",
                "--measure",
                "ks2_rwm_expected",
                "--group",
                "disadvantaged",
            ])
            .arg("--pupils")
            .arg(world.join("data/pupils"))
            .arg("--store")
            .arg(world.join("store"))
            .args(["--la", la, "--format", "csv"])
            .output()
            .unwrap()
    };
    // The demo's pupil files are the demo LA's: Borsetshire, 650.
    let o = gaps("650");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let rows = String::from_utf8_lossy(&o.stdout).lines().count();
    assert!(rows > 1, "no rows for LA 650");

    let o = gaps("999");
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert_eq!(
        stderr(&o),
        "error: --la: no pupils in the files are at schools of LA \"999\" \
         (the files' schools are in 650 (Borsetshire))\n"
    );
    for typo in ["651", "Borsetshre"] {
        let o = gaps(typo);
        assert_eq!(o.status.code(), Some(2), "{typo}: {}", stderr(&o));
        assert!(
            stderr(&o).contains("; did you mean 650 (Borsetshire)?"),
            "{typo}: {}",
            stderr(&o)
        );
    }
}
