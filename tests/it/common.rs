//! Shared helpers: where the real DfE files are, and one store built from all of them.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// `../shared/data/raw` beside the project. Absent on a user's machine: tests say so and
/// skip. Under CI (CI=true) its absence fails the run.
pub fn raw_dir() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/raw");
    if p.is_dir() {
        return Some(p);
    }
    if std::env::var("CI").map(|v| v == "true").unwrap_or(false) {
        panic!("../shared/data/raw is missing and CI=true: the real-data tests cannot run");
    }
    eprintln!("SKIPPED: ../shared/data/raw not found; real-data tests need DfE files beside the project");
    None
}

pub fn raw(rel: &str) -> PathBuf {
    raw_dir().expect("checked by caller").join(rel)
}

pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_attain"))
}

pub fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("attain-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// One store holding every real file (built once per test run by `attain ingest`).
pub fn real_store() -> Option<&'static Path> {
    static STORE: OnceLock<Option<PathBuf>> = OnceLock::new();
    STORE
        .get_or_init(|| {
            let raw = raw_dir()?;
            let store = scratch("real-store").join("store");
            let out = bin().arg("ingest").arg(&raw).arg("--store").arg(&store).output().unwrap();
            assert!(out.status.success(), "ingest of ../shared/data/raw failed:\n{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
            Some(store)
        })
        .as_deref()
}
