//! The CLI on bad input: a clear message naming file, row and column; exit status 3;
//! and no store left behind.

use std::path::{Path, PathBuf};

use crate::common::{bin, raw, raw_dir, scratch};

struct Outcome {
    code: Option<i32>,
    stderr: String,
    store_exists: bool,
}

fn ingest(file: &Path, dir: &Path) -> Outcome {
    let store = dir.join("store");
    let out = bin()
        .arg("ingest")
        .arg(file)
        .arg("--store")
        .arg(&store)
        .output()
        .unwrap();
    Outcome {
        code: out.status.code(),
        stderr: String::from_utf8_lossy(&out.stderr).to_string(),
        store_exists: store.exists(),
    }
}

/// A copy of a real KS2 file with one edit applied to its text.
fn edited_ks2(dir: &Path, name: &str, edit: impl Fn(String) -> String) -> PathBuf {
    let text = std::fs::read_to_string(raw(
        "clarelgibson-hants-surrey/data-in/ks2/2018-936-ks2.csv",
    ))
    .unwrap();
    let p = dir.join(name);
    std::fs::write(&p, edit(text)).unwrap();
    p
}

#[test]
fn bad_inputs_fail_with_file_row_and_column() {
    if raw_dir().is_none() {
        return;
    }
    let dir = scratch("bad-inputs");

    // A non-numeric value that is not a known token: row 5 (line 5 of the file), column PTRWM_EXP.
    let p = edited_ks2(&dir, "bad_value.csv", |t| {
        let mut lines: Vec<String> = t.split("\r\n").map(str::to_string).collect();
        let header: Vec<&str> = lines[0].split(',').collect();
        let col = header.iter().position(|h| *h == "PTRWM_EXP").unwrap();
        let mut cells: Vec<String> = lines[4].split(',').map(str::to_string).collect();
        assert!(
            !cells[0].contains('"'),
            "row 5 has no quoted commas before the column"
        );
        cells[col] = "6x8%".into();
        lines[4] = cells.join(",");
        lines.join("\r\n")
    });
    let o = ingest(&p, &dir);
    assert_eq!(o.code, Some(3), "{}", o.stderr);
    assert!(
        o.stderr
            .contains("bad_value.csv, row 5, column PTRWM_EXP: \"6x8%\": not a number"),
        "{}",
        o.stderr
    );
    assert!(!o.store_exists, "no store is written when an input fails");

    // Truncated mid-row: the last line stops part-way and has no line break.
    let p = edited_ks2(&dir, "truncated.csv", |t| {
        let start_of_row_100: usize = t.split("\r\n").take(99).map(|l| l.len() + 2).sum();
        t[..start_of_row_100 + 60].to_string()
    });
    let o = ingest(&p, &dir);
    assert_eq!(o.code, Some(3), "{}", o.stderr);
    assert!(
        o.stderr.contains("truncated.csv, row 100, column ")
            && o.stderr.contains("the last row stops in this column")
            && o.stderr.contains("looks truncated"),
        "{}",
        o.stderr
    );

    // A key column missing.
    let p = edited_ks2(&dir, "no_urn.csv", |t| t.replacen(",URN,", ",URN_X,", 1));
    let o = ingest(&p, &dir);
    assert_eq!(o.code, Some(3), "{}", o.stderr);
    assert!(
        o.stderr
            .contains("no_urn.csv, row 1, column URN: key column missing"),
        "{}",
        o.stderr
    );

    // An unknown file.
    let p = dir.join("unknown.csv");
    std::fs::write(&p, "colour,shape\nred,square\n").unwrap();
    let o = ingest(&p, &dir);
    assert_eq!(o.code, Some(3));
    assert!(
        o.stderr
            .contains("unknown.csv: not recognised: header [colour, shape] matches no dataset"),
        "{}",
        o.stderr
    );

    // An empty file and a binary file.
    let p = dir.join("empty.csv");
    std::fs::write(&p, "").unwrap();
    let o = ingest(&p, &dir);
    assert_eq!(o.code, Some(3));
    assert!(
        o.stderr.contains("empty.csv: the file is empty"),
        "{}",
        o.stderr
    );
    let p = dir.join("binary.csv");
    std::fs::write(&p, [0u8, 159, 146, 150, 0, 1, 2, 3]).unwrap();
    let o = ingest(&p, &dir);
    assert_eq!(o.code, Some(3));
    assert!(
        o.stderr.contains("binary.csv: the file looks binary"),
        "{}",
        o.stderr
    );

    // A header with no rows.
    let p = edited_ks2(&dir, "header_only.csv", |t| {
        t.split("\r\n").next().unwrap().to_string() + "\r\n"
    });
    let o = ingest(&p, &dir);
    assert_eq!(o.code, Some(3));
    assert!(
        o.stderr.contains(
            "header_only.csv, row 1: recognised as ks2_performance_tables but has a header and no \
        data rows"
        ),
        "{}",
        o.stderr
    );
}

#[test]
fn a_failed_ingest_leaves_the_previous_store_intact() {
    if raw_dir().is_none() {
        return;
    }
    let dir = scratch("keep-store");
    let store = dir.join("store");
    let good = raw("clarelgibson-hants-surrey/data-in/ks2/2018-850-ks2.csv");
    let out = bin()
        .arg("ingest")
        .arg(&good)
        .arg("--store")
        .arg(&store)
        .output()
        .unwrap();
    assert!(out.status.success());
    let before = std::fs::read(store.join("results.parquet")).unwrap();
    let bad = dir.join("bad.csv");
    std::fs::write(&bad, "").unwrap();
    let out = bin()
        .arg("ingest")
        .arg(&good)
        .arg(&bad)
        .arg("--store")
        .arg(&store)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(
        std::fs::read(store.join("results.parquet")).unwrap(),
        before
    );
}

#[test]
fn measures_lists_the_fixed_ids_in_every_format() {
    let out = bin()
        .args(["measures", "--format", "json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let ids: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    for id in [
        "ks2_rwm_expected",
        "ks2_rwm_higher",
        "ks2_read_expected",
        "ks2_writ_expected",
        "ks2_mat_expected",
        "ks2_gps_expected",
        "ks2_read_avg_score",
        "ks2_mat_avg_score",
        "ks2_read_progress",
        "ks2_writ_progress",
        "ks2_mat_progress",
        "ks4_attainment8",
        "ks4_progress8",
        "ks4_em_grade5",
        "ks4_em_grade4",
        "ks4_ebacc_aps",
        "ks1_read_expected",
        "ks1_writ_expected",
        "ks1_mat_expected",
        "phonics_expected",
        "eyfs_gld",
        "absence_overall",
        "absence_persistent",
        "census_pupils",
        "census_fsm_pct",
        "census_fsm6_pct",
        "census_eal_pct",
        "census_sen_support_pct",
        "census_ehcp_pct",
        "ofsted_overall",
    ] {
        assert!(ids.contains(&id), "{id}");
    }
    let a8 = v
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == "ks4_attainment8")
        .unwrap();
    assert_eq!(
        (
            a8["polarity"].as_str(),
            a8["key_stage"].as_str(),
            a8["unit"].as_str()
        ),
        (Some("high"), Some("ks4"), Some("score"))
    );
    let pa = v
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == "absence_persistent")
        .unwrap();
    assert_eq!(pa["polarity"].as_str(), Some("low"));
    let csv = bin()
        .args(["measures", "--format", "csv"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&csv.stdout)
        .starts_with("id,key_stage,unit,polarity,headline,description\n"));
    let groups = bin()
        .args(["measures", "--groups", "--format", "json"])
        .output()
        .unwrap();
    let g: serde_json::Value = serde_json::from_slice(&groups.stdout).unwrap();
    let gids: Vec<&str> = g
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    for id in [
        "all",
        "disadvantaged",
        "not_disadvantaged",
        "fsm",
        "not_fsm",
        "lac",
        "cin",
        "sen",
        "sen_support",
        "ehcp",
        "no_sen",
        "eal",
        "not_eal",
        "boys",
        "girls",
        "asian",
        "black",
        "chinese",
        "mixed",
        "white",
        "other_ethnic",
    ] {
        assert!(gids.contains(&id), "{id}");
    }
}

/// Each exit code of the README's table, from a real run of the binary: 0 ok, 1 data
/// warnings, 2 usage or configuration, 3 input, 4 render.
#[test]
fn every_exit_code_as_documented() {
    if raw_dir().is_none() {
        return;
    }
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    for code in 0..=4 {
        assert!(
            readme
                .lines()
                .any(|l| l.starts_with(&format!("| {code} | "))),
            "README documents exit code {code}"
        );
    }
    let dir = scratch("exit-codes");
    let store = dir.join("store");
    let code = |args: &[&std::ffi::OsStr]| {
        let out = bin().args(args).output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    let os = |s: &str| std::ffi::OsString::from(s);
    let ks2 = raw("clarelgibson-hants-surrey/data-in/ks2/2018-850-ks2.csv");

    // 0: a clean ingest of a published file.
    let (c, err) = code(&[
        &os("ingest"),
        ks2.as_os_str(),
        &os("--store"),
        store.as_os_str(),
    ]);
    assert_eq!(c, Some(0), "{err}");

    // 1: a directory holding the same file and one no dataset recognises.
    let d = dir.join("mixed");
    std::fs::create_dir_all(&d).unwrap();
    std::fs::copy(&ks2, d.join("2018-850-ks2.csv")).unwrap();
    std::fs::write(d.join("colours.csv"), "colour,shape\nred,square\n").unwrap();
    let (c, err) = code(&[
        &os("ingest"),
        d.as_os_str(),
        &os("--store"),
        dir.join("store1").as_os_str(),
    ]);
    assert_eq!(c, Some(1), "{err}");
    assert!(
        err.contains("warning: 1 file(s) were not recognised and were not read"),
        "{err}"
    );

    // 2: a flag that does not exist; a measure that does not exist.
    let (c, err) = code(&[&os("ingest"), &os("--bogus")]);
    assert_eq!(c, Some(2), "{err}");
    let (c, err) = code(&[
        &os("rank"),
        &os("--measure"),
        &os("no_such_measure"),
        &os("--year"),
        &os("2019"),
        &os("--store"),
        store.as_os_str(),
    ]);
    assert_eq!(c, Some(2), "{err}");
    assert_eq!(
        err,
        "error: --measure: unknown measure \"no_such_measure\" (see `attain measures`)\n"
    );

    // 3: an empty input file.
    let empty = dir.join("empty.csv");
    std::fs::write(&empty, "").unwrap();
    let (c, err) = code(&[
        &os("ingest"),
        empty.as_os_str(),
        &os("--store"),
        store.as_os_str(),
    ]);
    assert_eq!(c, Some(3), "{err}");
    assert!(
        err.contains(&format!("  {}: the file is empty\n", empty.display())),
        "{err}"
    );

    // 4: charts asked to go into a directory that is a file.
    let blocked = dir.join("a-file");
    std::fs::write(&blocked, "").unwrap();
    let (c, err) = code(&[
        &os("charts"),
        &os("--la"),
        &os("850"),
        &os("--out"),
        blocked.as_os_str(),
        &os("--store"),
        store.as_os_str(),
    ]);
    assert_eq!(c, Some(4), "{err}");
    assert!(
        err.starts_with(&format!("error: {}: cannot write: ", blocked.display())),
        "{err}"
    );
}
