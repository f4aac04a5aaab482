//! Progress bars as a person at a terminal sees them: run under a pseudo-terminal
//! (`script`, util-linux / Debian's bsdutils), the bar draws, is cleared when the work ends,
//! and the summary line after it reads cleanly; with `-q`, or stderr not a terminal, no bar.

use std::process::Command;

use crate::common::{bin, raw, raw_dir, scratch};

const HANTS_SURREY: &str = "clarelgibson-hants-surrey";

/// What a terminal was sent while `args` ran under a pseudo-terminal (stdout and stderr
/// both); None where `script` is absent (which fails under CI=true: .ci/run installs it).
fn on_a_terminal(args: &[String]) -> Option<String> {
    let exe = env!("CARGO_BIN_EXE_attain");
    let line = std::iter::once(exe.to_string())
        .chain(args.iter().map(|a| format!("'{a}'")))
        .collect::<Vec<_>>()
        .join(" ");
    let o = match Command::new("script")
        .args(["-qfec", &line, "/dev/null"])
        .output()
    {
        Ok(o) => o,
        Err(_) if std::env::var("CI").as_deref() != Ok("true") => {
            eprintln!("SKIPPED: script (util-linux) not found; progress bars not checked");
            return None;
        }
        Err(e) => panic!("script: {e} (CI=true: .ci/run installs bsdutils)"),
    };
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stdout));
    Some(String::from_utf8_lossy(&o.stdout).into_owned())
}

#[test]
fn ingest_draws_a_bar_on_a_terminal_clears_it_and_draws_none_when_quiet_or_piped() {
    if raw_dir().is_none() {
        return;
    }
    let dir = raw(HANTS_SURREY);
    let files = walkdir(&dir);
    let store = scratch("progress-bars").join("store");
    let args = |quiet: bool| -> Vec<String> {
        let mut a: Vec<String> = if quiet { vec!["-q".into()] } else { vec![] };
        a.extend(["ingest".into(), dir.display().to_string(), "--store".into()]);
        a.extend([store.display().to_string(), "--format".into(), "csv".into()]);
        a
    };
    let Some(seen) = on_a_terminal(&args(false)) else {
        return;
    };
    // One bar over every file in the directory, redrawn in place (carriage return, erase line).
    let bar = "ingest [";
    assert!(seen.contains(bar), "no bar: {seen:?}");
    assert!(
        seen.contains(&format!("/{files}  (")),
        "not of {files} files: {seen:?}"
    );
    // Cleared when done: after the last erase, plain text only, starting with the summary.
    let erase = "\r\u{1b}[2K";
    let after = &seen[seen.rfind(erase).unwrap() + erase.len()..];
    assert!(
        !after.contains('\u{1b}') && !after.contains(bar),
        "{after:?}"
    );
    let last = after.trim_end().lines().last().unwrap_or_default();
    assert!(
        last.starts_with(&format!("store {}: ", store.display())) && last.ends_with(" schools"),
        "the summary after the bar: {after:?}"
    );

    // -q: nothing drawn (and no summary).
    let quiet = on_a_terminal(&args(true)).unwrap();
    assert!(
        !quiet.contains('\u{1b}') && !quiet.contains(bar),
        "{quiet:?}"
    );

    // stderr not a terminal: the summary alone.
    let o = bin().args(args(false)).output().unwrap();
    assert!(o.status.success());
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        !stderr.contains('\u{1b}') && !stderr.contains(bar),
        "{stderr:?}"
    );
    assert!(stderr.starts_with("store "), "{stderr:?}");
}

/// Regular files under `dir`, however deep.
fn walkdir(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| if p.is_dir() { walkdir(&p) } else { 1 })
        .sum()
}
