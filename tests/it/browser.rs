//! The HTML booklet and the index in a real browser (Debian's headless Chromium, installed by
//! .ci/run): each page is screenshotted and must not be blank, must log nothing to the
//! console, and must load nothing from outside the file; the booklet is printed to PDF
//! through the browser to check the print stylesheet (A4 pages, the title, contents and
//! school context on page one, the sections running on with no forced page breaks). Without
//! Chromium the tests say so and skip; under
//! CI (CI=true) its absence fails them.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::common::{bin, demo_world, poppler, scratch};

fn chromium() -> Option<PathBuf> {
    let found = ["chromium", "chromium-browser"].iter().find_map(|b| {
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
            .map(|d| d.join(b))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!(
                "chromium is missing and CI=true: .ci/run installs it (apt-get install chromium)"
            );
        }
        eprintln!("SKIPPED: chromium not found; the browser tests need Debian's chromium package");
    }
    found
}

/// Booklets (HTML only, with the demo LA's logo) for the demo LA, built once.
fn booklets() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = scratch("browser");
        let run = |args: &[&str]| {
            let out = bin().current_dir(&dir).args(args).output().unwrap();
            assert!(
                out.status.success(),
                "attain {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        let store = demo_world().join("store");
        let logo = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/pipelines/assets/borsetshire-logo.svg"
        );
        run(&[
            "booklet",
            "--store",
            store.to_str().unwrap(),
            "--la",
            "650",
            "--html-only",
            "--logo",
            logo,
            "--colour",
            "#1f4e79",
            "--out",
            "booklets",
        ]);
        dir.join("booklets")
    })
}

fn first_booklet() -> PathBuf {
    let mut files: Vec<PathBuf> = std::fs::read_dir(booklets().join("650"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "html"))
        .collect();
    files.sort();
    files.into_iter().next().expect("a booklet for the demo LA")
}

/// Run headless Chromium on a file with the given action flags; its stderr. Each call has
/// its own profile directory, so tests can run side by side. Killed after 120 s.
fn browse(chromium: &Path, page: &Path, action: &[String], profile: &Path) -> String {
    let url = format!("file://{}", page.canonicalize().unwrap().display());
    let mut child = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--enable-logging=stderr",
            "--v=0",
            "--window-size=1200,1600",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(action)
        .arg(&url)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut stderr, &mut s).ok();
        s
    });
    let started = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if started.elapsed() > Duration::from_secs(120) {
            child.kill().ok();
            panic!("chromium took more than 120 s on {url}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let log = reader.join().unwrap();
    assert!(status.success(), "chromium failed on {url}: {log}");
    log
}

/// Console output of the page: Chromium logs each console message (console.log/error and
/// uncaught exceptions alike) as a `:CONSOLE` line when logging to stderr.
fn console_lines(log: &str) -> Vec<&str> {
    log.lines()
        .filter(|l| l.contains(":CONSOLE") || l.contains("Uncaught"))
        .collect()
}

/// Width, height, and the pixels that are not white, and those of the given colour (within 24).
fn pixels(png_path: &Path, colour: (u8, u8, u8)) -> (u32, u32, usize, usize) {
    let decoder = png::Decoder::new(std::fs::File::open(png_path).unwrap());
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!(info.bit_depth, png::BitDepth::Eight);
    let n = info.color_type.samples();
    assert!(n >= 3, "a colour screenshot");
    let (mut ink, mut brand) = (0, 0);
    for px in buf[..info.buffer_size()].chunks(n) {
        if px[0] < 245 || px[1] < 245 || px[2] < 245 {
            ink += 1;
        }
        if px[0].abs_diff(colour.0) <= 24
            && px[1].abs_diff(colour.1) <= 24
            && px[2].abs_diff(colour.2) <= 24
        {
            brand += 1;
        }
    }
    (info.width, info.height, ink, brand)
}

/// Nothing is fetched from outside the file: no external scripts (inline ones only where
/// `inline_script`), every image inline.
fn self_contained(html: &str, inline_script: bool) {
    if inline_script {
        assert!(!html.contains("<script src"), "no external scripts");
    } else {
        assert!(!html.contains("<script"), "no scripts");
    }
    assert!(!html.contains("<link"), "no external stylesheets");
    for (i, _) in html.match_indices(" src=\"") {
        assert!(
            html[i + 6..].starts_with("data:"),
            "an image that is not inline: {}",
            &html[i..(i + 80).min(html.len())]
        );
    }
}

#[test]
fn the_booklet_renders_and_prints_in_a_real_browser() {
    let Some(chromium) = chromium() else { return };
    let page = first_booklet();
    let html = std::fs::read_to_string(&page).unwrap();
    self_contained(&html, false);
    assert!(
        html.contains("src=\"data:image&#x2f;svg+xml;base64,"),
        "the logo is inline"
    );
    let name = html
        .split("<h1 dir=\"auto\">")
        .nth(1)
        .unwrap()
        .split("</h1>")
        .next()
        .unwrap()
        .replace("&#x27;", "'")
        .replace("&amp;", "&");
    let work = scratch("browser-booklet");

    let shot = work.join("booklet.png");
    let log = browse(
        &chromium,
        &page,
        &[format!("--screenshot={}", shot.display())],
        &work.join("profile-1"),
    );
    assert_eq!(
        console_lines(&log),
        Vec::<&str>::new(),
        "console messages from the booklet"
    );
    let (w, h, ink, brand) = pixels(&shot, (0x1f, 0x4e, 0x79));
    assert_eq!((w, h), (1200, 1600));
    let total = (w * h) as usize;
    assert!(
        ink * 100 > total * 3,
        "the page is nearly blank: {ink} of {total} pixels are not white"
    );
    // The title block's 0.6rem bar in the LA's colour runs the width of the 60rem column: the
    // stylesheet was applied (about 960 x 9 px of it, and headings in the same colour).
    assert!(brand > 5_000, "{brand} pixels in the LA's colour");

    let pdf = work.join("booklet.pdf");
    let log = browse(
        &chromium,
        &page,
        &[
            "--no-pdf-header-footer".to_string(),
            format!("--print-to-pdf={}", pdf.display()),
        ],
        &work.join("profile-2"),
    );
    assert_eq!(console_lines(&log), Vec::<&str>::new());
    assert!(std::fs::read(&pdf).unwrap().starts_with(b"%PDF-"));
    let Some(info) = poppler("pdfinfo", &[], &pdf) else {
        return;
    };
    assert!(
        info.lines()
            .any(|l| l.starts_with("Page size:") && l.contains("(A4)")),
        "@page size A4: {info}"
    );
    let pages: usize = info
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    // Title, contents and context on page one, then KS2, gaps, attendance, Ofsted, targets
    // and notes running on: no forced page breaks.
    assert!((3..=12).contains(&pages), "{pages} pages");
    let page_text = |n: usize| {
        poppler(
            "pdftotext",
            &["-f", &n.to_string(), "-l", &n.to_string()],
            &pdf,
        )
        .unwrap()
    };
    let one = page_text(1);
    let squash = |s: &str| s.split_whitespace().collect::<String>();
    // The name's words in order (the logo, floated beside it, may be read in between).
    let mut rest = one.as_str();
    for word in name.split_whitespace() {
        let at = rest
            .find(word)
            .unwrap_or_else(|| panic!("{word} of {name} on page one: {one}"));
        rest = &rest[at + word.len()..];
    }
    assert!(
        squash(rest).contains(&squash("Achievement and Target Setting Booklet 2018/19")),
        "{one}"
    );
    assert!(
        one.contains("Contents") && one.contains("School context"),
        "the contents and the school context are on page one: {one}"
    );
}

#[test]
fn the_index_renders_in_a_real_browser() {
    let Some(chromium) = chromium() else { return };
    let page = booklets().join("index.html");
    let html = std::fs::read_to_string(&page).unwrap();
    self_contained(&html, true);
    let work = scratch("browser-index");
    let shot = work.join("index.png");
    let log = browse(
        &chromium,
        &page,
        &[format!("--screenshot={}", shot.display())],
        &work.join("profile"),
    );
    assert_eq!(
        console_lines(&log),
        Vec::<&str>::new(),
        "console messages from the index"
    );
    let (w, h, ink, brand) = pixels(&shot, (0x1f, 0x4e, 0x79));
    assert_eq!((w, h), (1200, 1600));
    assert!(
        ink * 100 > (w * h) as usize * 3,
        "the index is nearly blank: {ink} pixels of ink"
    );
    assert!(
        brand > 1_000,
        "the heading's rule in the LA's colour: {brand} pixels"
    );
    // Every booklet the index links to is there.
    let links: Vec<&str> = html
        .match_indices("href=\"")
        .map(|(i, _)| html[i + 6..].split('"').next().unwrap())
        .collect();
    assert_eq!(links.len(), 48, "one link per booklet of the demo LA");
    for l in links {
        let rel = l.replace("&#x2f;", "/");
        assert!(booklets().join(&rel).is_file(), "{rel}");
    }
}

/// The console check can fail: a page with a script error is caught.
#[test]
fn the_console_check_sees_script_errors() {
    let Some(chromium) = chromium() else { return };
    let work = scratch("browser-console");
    let page = work.join("bad.html");
    std::fs::write(
        &page,
        "<!DOCTYPE html><html><body><p>x</p><script>console.error('boom'); undefinedFunction();\
        </script></body></html>",
    )
    .unwrap();
    let log = browse(
        &chromium,
        &page,
        &[format!("--screenshot={}", work.join("bad.png").display())],
        &work.join("profile"),
    );
    let lines = console_lines(&log);
    assert!(lines.iter().any(|l| l.contains("\"boom\"")), "{log}");
    assert!(
        lines
            .iter()
            .any(|l| l.contains("Uncaught ReferenceError: undefinedFunction is not defined")),
        "{log}"
    );
}
