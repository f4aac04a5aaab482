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
    eprintln!(
        "SKIPPED: ../shared/data/raw not found; real-data tests need DfE files beside the project"
    );
    None
}

pub fn raw(rel: &str) -> PathBuf {
    raw_dir().expect("checked by caller").join(rel)
}

pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_attain"))
}

/// One temporary directory for the whole test run (`attain-test-XXXX` in the system temp
/// directory), removed when the test process exits: the harness ends with `exit`, which runs
/// `atexit` handlers, while statics such as this `TempDir` are never dropped.
fn scratch_root() -> &'static Path {
    static ROOT: OnceLock<tempfile::TempDir> = OnceLock::new();
    extern "C" fn remove_root() {
        if let Some(root) = ROOT.get() {
            let _ = std::fs::remove_dir_all(root.path());
        }
    }
    ROOT.get_or_init(|| {
        let root = tempfile::Builder::new()
            .prefix("attain-test-")
            .tempdir()
            .unwrap();
        // SAFETY: registers a plain function with no captured state, once.
        unsafe { libc::atexit(remove_root) };
        root
    })
    .path()
}

/// A fresh, empty directory for one test, inside the run's temporary directory.
pub fn scratch(name: &str) -> PathBuf {
    let d = scratch_root().join(name);
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
            let out = bin()
                .arg("ingest")
                .arg(&raw)
                .arg("--store")
                .arg(&store)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "ingest of ../shared/data/raw failed:\n{}\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            Some(store)
        })
        .as_deref()
}

/// A small demo world (20 LAs, 1,500 schools) and its store, built once per test run:
/// `<dir>/data` (with the demo LA's pupil files) and `<dir>/store`. Read it, never write it.
pub fn demo_world() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = scratch("demo-world");
        let out = bin()
            .args(["demo", "--schools", "1500", "--las", "20", "--out"])
            .arg(dir.join("data"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let out = bin()
            .arg("ingest")
            .arg(dir.join("data"))
            .arg("--store")
            .arg(dir.join("store"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "ingest of the demo (pupil files are skipped, not failed): {}",
            String::from_utf8_lossy(&out.stderr)
        );
        dir
    })
}

/// A poppler tool's output (`pdftotext ARGS FILE -`, `pdfinfo ARGS FILE`). None where poppler
/// is absent, which fails under CI=true (.ci/run installs poppler-utils).
pub fn poppler(tool: &str, args: &[&str], pdf: &Path) -> Option<String> {
    let mut cmd = Command::new(tool);
    cmd.args(args).arg(pdf);
    if tool == "pdftotext" {
        cmd.arg("-");
    }
    match cmd.output() {
        Ok(o) => {
            assert!(
                o.status.success(),
                "{tool}: {}",
                String::from_utf8_lossy(&o.stderr)
            );
            Some(String::from_utf8_lossy(&o.stdout).to_string())
        }
        Err(_) if std::env::var("CI").as_deref() != Ok("true") => {
            eprintln!("SKIPPED: {tool} (poppler-utils) not found; PDF text not checked");
            None
        }
        Err(e) => panic!("{tool}: {e} (CI=true: .ci/run installs poppler-utils)"),
    }
}

/// One member of a zip container (xlsx, docx) as text.
pub fn zip_entry(bytes: &[u8], name: &str) -> String {
    use std::io::Read;
    let mut z = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut s = String::new();
    z.by_name(name).unwrap().read_to_string(&mut s).unwrap();
    s
}

/// A CSV's rows as header -> cell (header BOM removed; a short row's missing cells are "").
pub fn csv_rows(path: &Path) -> Vec<std::collections::HashMap<String, String>> {
    let mut r = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(path)
        .unwrap();
    let header: Vec<String> = r
        .headers()
        .unwrap()
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').to_string())
        .collect();
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            header
                .iter()
                .enumerate()
                .map(|(i, h)| (h.clone(), rec.get(i).unwrap_or("").to_string()))
                .collect()
        })
        .collect()
}

/// Copy a directory tree (a catalogue or store to edit in a test).
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

/// A dd-mm-yyyy or dd/mm/yyyy date (GIAS, Ofsted) in words, as the booklet prints it
/// ("12 March 2019"), worked out here independently of attain.
pub fn date_in_words(d: &str) -> String {
    const MONTHS: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    let p: Vec<u32> = d.split(['-', '/']).map(|x| x.parse().unwrap()).collect();
    format!("{} {} {}", p[0], MONTHS[p[1] as usize - 1], p[2])
}

/// A measure's label as the shipped catalogue gives it (catalogue/measures.toml), so tests
/// find the booklet's rows by the words it prints, whatever they become.
pub fn measure_label(id: &str) -> String {
    static LABELS: OnceLock<std::collections::HashMap<String, String>> = OnceLock::new();
    LABELS
        .get_or_init(|| {
            let text = std::fs::read_to_string(
                Path::new(env!("CARGO_MANIFEST_DIR")).join("catalogue/measures.toml"),
            )
            .unwrap();
            let cat: toml::Value = toml::from_str(&text).unwrap();
            cat["measure"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| {
                    let s = |k: &str| m.get(k).and_then(|v| v.as_str()).unwrap_or("").to_string();
                    (s("id"), s("label"))
                })
                .collect()
        })
        .get(id)
        .unwrap_or_else(|| panic!("no measure {id} in catalogue/measures.toml"))
        .clone()
}

/// Run an attain command that must succeed (its stderr shown if it does not); its output.
pub fn succeeded(cmd: &mut Command) -> std::process::Output {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Text with tags dropped and the entities the templates write decoded.
pub fn html_text(html: &str) -> String {
    let mut out = String::new();
    let mut inside = false;
    for ch in html.chars() {
        match ch {
            '<' => inside = true,
            '>' => inside = false,
            c if !inside => out.push(c),
            _ => {}
        }
    }
    out.replace("&#x27;", "'")
        .replace("&#x2f;", "/")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
        .trim()
        .to_string()
}
