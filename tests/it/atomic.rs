//! Crashes and reruns: a pipeline killed with SIGKILL at any point leaves the previous
//! outputs intact and a rerun completes; a run with nothing to do writes nothing; the
//! store's directory swap is repaired after a crash between its two renames.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime};

use sha2::{Digest, Sha256};

use crate::common::{bin, scratch};

/// A fixed run time (2019-08-31T00:00:00Z), so that every run writes the same manifest.
pub const EPOCH: &str = "1567209600";

/// Every file under `dir` (hidden ones too), by path relative to `dir`: sha256 and mtime.
pub fn snapshot(dir: &Path) -> BTreeMap<String, (String, SystemTime)> {
    fn walk(root: &Path, d: &Path, out: &mut BTreeMap<String, (String, SystemTime)>) {
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                let bytes = std::fs::read(&p).unwrap();
                let sha = Sha256::digest(&bytes)
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect();
                let rel = p
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                out.insert(
                    rel,
                    (sha, std::fs::metadata(&p).unwrap().modified().unwrap()),
                );
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

fn hidden(rel: &str) -> bool {
    rel.split('/').any(|c| c.starts_with('.'))
}

/// The kill test's pipeline, with paths relative to the directory it runs in.
fn pipeline() -> String {
    format!(
        r#"name = "kill"
output = "out/run"
[la]
code = "650"
[charts]
measures = ["ks2_rwm_expected"]
years = 3
gaps = []

[[stage]]
name = "demo-data"
run = "demo"
outputs = ["data"]
options = {{ schools = 1500, las = 20 }}

[[stage]]
name = "ingest"
run = "ingest"
inputs = ["data"]
outputs = ["store"]

[[stage]]
name = "booklets"
run = "booklet"
inputs = ["store"]
outputs = ["booklets"]
options = {{ code = "650", html_only = true }}

[[stage]]
name = "charts"
run = "charts"
inputs = ["store"]
outputs = ["charts"]

[[stage]]
name = "workbook"
run = "workbook"
inputs = ["store"]
outputs = ["workbook/650.xlsx"]
options = {{ rules = "{rules}" }}
"#,
        rules = concat!(env!("CARGO_MANIFEST_DIR"), "/pipelines/rules/merton.toml")
    )
}

const STAGES: [&str; 5] = ["demo-data", "ingest", "booklets", "charts", "workbook"];

fn run(dir: &Path, args: &[&str]) -> (bool, String) {
    let out = bin()
        .current_dir(dir)
        .env("SOURCE_DATE_EPOCH", EPOCH)
        .arg("run")
        .arg("k.toml")
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

/// Start `attain run k.toml --force`, wait for `stage <stage>: running`, wait `delay` more,
/// then SIGKILL it. Returns the log lines seen and whether the process was still running.
fn kill_during(dir: &Path, stage: &str, delay: Duration) -> (Vec<String>, bool) {
    let mut child = bin()
        .current_dir(dir)
        .env("SOURCE_DATE_EPOCH", EPOCH)
        .args(["run", "k.toml", "--force"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let trigger = format!("stage {stage}: running");
    let mut lines = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(l) => {
                let hit = l.starts_with(&trigger);
                lines.push(l);
                if hit {
                    break;
                }
            }
            Err(e) => panic!("no {trigger:?} line ({e}); saw {lines:?}"),
        }
    }
    std::thread::sleep(delay);
    let running = child.try_wait().unwrap().is_none();
    child.kill().unwrap(); // SIGKILL on Unix
    child.wait().unwrap();
    reader.join().unwrap();
    lines.extend(rx.try_iter());
    (lines, running)
}

/// The stage that was running when the process died: started, not done.
fn interrupted(lines: &[String]) -> Option<String> {
    let last = lines
        .iter()
        .filter_map(|l| {
            l.strip_prefix("stage ")?
                .split_once(": running ")
                .map(|(name, _)| name)
        })
        .next_back()?;
    if lines
        .iter()
        .any(|l| l.starts_with(&format!("stage {last}: done")))
    {
        None
    } else {
        Some(last.to_string())
    }
}

#[test]
fn a_killed_run_leaves_the_previous_outputs_intact_and_a_rerun_completes() {
    let dir = scratch("kill");
    std::fs::write(dir.join("k.toml"), pipeline()).unwrap();
    let (ok, log) = run(&dir, &[]);
    assert!(ok, "{log}");
    let mut before: BTreeMap<String, String> = snapshot(&dir)
        .into_iter()
        .filter(|(k, _)| k != "k.toml")
        .map(|(k, v)| (k, v.0))
        .collect();
    assert!(
        before.keys().all(|k| !hidden(k)),
        "a finished run leaves no temporaries: {:?}",
        before.keys().filter(|k| hidden(k)).collect::<Vec<_>>()
    );
    for expected in [
        "store/results.parquet",
        "store/schools.parquet",
        "booklets/index.html",
        "charts/charts.json",
        "workbook/650.xlsx",
        "out/run/manifest.json",
        "out/run/state.json",
        "data/gias/edubase_extract.csv",
    ] {
        assert!(
            before.contains_key(expected),
            "{expected} missing after the first run"
        );
    }
    assert!(
        before
            .keys()
            .filter(|k| k.starts_with("booklets/650/"))
            .count()
            >= 40,
        "the demo LA's booklets"
    );

    // Kill a forced rerun in every stage, early and late. The outputs are deterministic, so
    // every file, whether the killed run had already replaced it or not, has its old bytes.
    let points: [(&str, u64); 10] = [
        ("demo-data", 0),
        ("demo-data", 60),
        ("ingest", 0),
        ("ingest", 120),
        ("ingest", 300),
        ("booklets", 50),
        ("booklets", 300),
        ("charts", 20),
        ("charts", 100),
        ("workbook", 60),
    ];
    // The manifest is the last completed run's: the first run's (which a forced run that got
    // to the end writes again, byte for byte) or the last rerun's.
    let first_manifest = before["out/run/manifest.json"].clone();
    let mut killed_running = 0;
    for (stage, ms) in points {
        let (lines, running) = kill_during(&dir, stage, Duration::from_millis(ms));
        killed_running += running as usize;
        let what = format!("killed {ms} ms after {stage} started; log {lines:?}");
        // A reader opening the store repairs a swap cut between its two renames.
        attain::store::Store::at(dir.join("store"));
        let after = snapshot(&dir);
        for (path, sha) in &before {
            let now = after
                .get(path)
                .unwrap_or_else(|| panic!("{path} is gone ({what})"));
            match path.as_str() {
                "out/run/state.json" => {}
                "out/run/manifest.json" => assert!(
                    now.0 == *sha || now.0 == first_manifest,
                    "the manifest changed ({what})"
                ),
                _ => assert_eq!(&now.0, sha, "{path} changed ({what})"),
            }
        }
        let extra: Vec<&String> = after
            .keys()
            .filter(|k| !hidden(k) && *k != "k.toml" && !before.contains_key(*k))
            .collect();
        assert!(
            extra.is_empty(),
            "half-written files in view: {extra:?} ({what})"
        );
        // A stage's record is cleared before it starts ("running" is logged after that), so
        // the stage that was cut short has none; every other stage keeps its record.
        let state: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join("out/run/state.json")).unwrap())
                .unwrap_or_else(|e| panic!("state.json: {e} ({what})"));
        let unrecorded: Vec<&str> = STAGES
            .iter()
            .copied()
            .filter(|s| state.get(s).is_none())
            .collect();
        assert!(unrecorded.len() <= 1, "{unrecorded:?} ({what})");
        if let Some(cut) = interrupted(&lines).filter(|_| running) {
            assert_eq!(unrecorded, [cut.as_str()], "({what})");
        }

        // The rerun does that stage again and skips the rest, whose inputs have not changed.
        let (ok, log) = run(&dir, &[]);
        assert!(ok, "rerun failed ({what}): {log}");
        for s in STAGES {
            let expected = if unrecorded.contains(&s) {
                format!("stage {s}: running")
            } else {
                format!("stage {s}: inputs unchanged, skipped")
            };
            assert!(
                log.contains(&expected),
                "{expected:?} ({what}); rerun log: {log}"
            );
        }
        let rerun = snapshot(&dir);
        let leftovers: Vec<&String> = rerun.keys().filter(|k| hidden(k)).collect();
        assert!(
            leftovers.is_empty(),
            "temporaries left after the rerun: {leftovers:?} ({what})"
        );
        for (path, sha) in &before {
            if path == "out/run/manifest.json" || path == "out/run/state.json" {
                continue;
            }
            assert_eq!(
                &rerun
                    .get(path)
                    .unwrap_or_else(|| panic!("{path} missing after the rerun ({what})"))
                    .0,
                sha,
                "{path} after the rerun ({what})"
            );
        }
        assert_eq!(
            rerun.len(),
            before.len() + 1,
            "the same files as the first run, and k.toml ({what})"
        );
        let manifest: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join("out/run/manifest.json")).unwrap())
                .unwrap();
        assert_eq!(manifest["stages"].as_array().unwrap().len(), 5);
        before.insert(
            "out/run/manifest.json".into(),
            rerun["out/run/manifest.json"].0.clone(),
        );
    }
    assert!(
        killed_running >= 8,
        "only {killed_running} of {} kills hit a running process",
        points.len()
    );

    // Unchanged inputs: every stage is skipped, and not one file is written or touched.
    let settled = snapshot(&dir);
    let (ok, log) = run(&dir, &[]);
    assert!(ok, "{log}");
    for s in STAGES {
        assert!(
            log.contains(&format!("stage {s}: inputs unchanged, skipped")),
            "{log}"
        );
    }
    assert!(
        log.contains("nothing to do: every stage's inputs are unchanged"),
        "{log}"
    );
    assert!(
        log.contains(
            "0 stage(s) ran, 5 skipped; nothing written; manifest of the last run in \
        out/run/manifest.json"
        ),
        "{log}"
    );
    assert_eq!(
        snapshot(&dir),
        settled,
        "a run with nothing to do changed files or their times"
    );
}

/// The three moments a store write can die, set up by hand: the new store half-written in
/// its staging directory; the old store moved aside and the new one not yet in place; the
/// swap done and the old store not yet removed.
#[test]
fn a_store_swap_cut_short_is_repaired_by_the_next_reader() {
    let dir = scratch("store-swap");
    let store = dir.join("store");
    let old = dir.join(".store.old");
    let staging = dir.join(".store.new");
    let table = |d: &Path, text: &str| {
        std::fs::create_dir_all(d).unwrap();
        std::fs::write(d.join("results.parquet"), text).unwrap();
    };
    // Killed between the renames: no store, the old one beside it. Opening it puts it back.
    table(&old, "old");
    table(&staging, "new, complete");
    let s = attain::store::Store::at(&store);
    assert!(s.exists());
    assert_eq!(
        std::fs::read_to_string(store.join("results.parquet")).unwrap(),
        "old"
    );
    assert!(!old.exists());
    // Killed after the swap: the old store is removed; the store is left as it is.
    table(&old, "older");
    attain::store::Store::at(&store);
    assert!(!old.exists());
    assert_eq!(
        std::fs::read_to_string(store.join("results.parquet")).unwrap(),
        "old"
    );
    // A staging directory a crash left does not stop the next ingest, which replaces it.
    table(&staging, "half-written");
    let demo = dir.join("demo");
    assert!(bin()
        .args(["demo", "--schools", "300", "--las", "10", "--out"])
        .arg(&demo)
        .output()
        .unwrap()
        .status
        .success());
    std::fs::remove_dir_all(&store).unwrap();
    let out = bin()
        .arg("ingest")
        .arg(&demo)
        .arg("--store")
        .arg(&store)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !staging.exists(),
        "the staging directory is used and renamed into place"
    );
    let names: Vec<String> = std::fs::read_dir(&store)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    assert!(
        names.contains(&"results.parquet".to_string())
            && names.contains(&"schools.parquet".to_string()),
        "{names:?}"
    );
    assert!(std::fs::read(store.join("results.parquet"))
        .unwrap()
        .starts_with(b"PAR1"));
}

/// Temporaries a killed run left are removed by the stage that owns them, and only those.
#[test]
fn stale_temporaries_beside_outputs_are_swept() {
    let dir = scratch("sweep");
    let out = dir.join("charts");
    std::fs::create_dir_all(out.join("sub")).unwrap();
    for f in [
        ".a.svg.tmp-123",
        "sub/.b.html.tmp-9",
        ".c.tmp-77.png",
        "kept.svg",
        ".hidden-but-not-ours",
    ] {
        std::fs::write(out.join(f), "x").unwrap();
    }
    assert_eq!(attain::atomic::remove_stale_temporaries(&out), 3);
    let mut left: Vec<String> = snapshot(&out).into_keys().collect();
    left.sort();
    assert_eq!(left, [".hidden-but-not-ours", "kept.svg"]);
    // Beside a file output: only that file's temporaries.
    std::fs::write(dir.join(".650.xlsx.tmp-5"), "x").unwrap();
    std::fs::write(dir.join(".other.xlsx.tmp-5"), "x").unwrap();
    assert_eq!(
        attain::atomic::remove_stale_temporaries(&dir.join("650.xlsx")),
        1
    );
    assert!(!dir.join(".650.xlsx.tmp-5").exists() && dir.join(".other.xlsx.tmp-5").exists());
    // write_atomic leaves only the final file.
    attain::atomic::write_atomic(&dir.join("w/x.txt"), b"hello").unwrap();
    assert_eq!(
        snapshot(&dir.join("w")).into_keys().collect::<Vec<_>>(),
        ["x.txt"]
    );
    let expected: PathBuf = dir.join(format!("w/.x.txt.tmp-{}", std::process::id()));
    assert_eq!(
        attain::atomic::temporary_beside(&dir.join("w/x.txt")),
        expected
    );
}
