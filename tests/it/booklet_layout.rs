//! The booklet's pages and plain English, on four real booklets: a Hampshire junior school,
//! a Hampshire infant school (no key-stage results), a Surrey secondary and a demo primary
//! with the LA's pupil-level data. Each PDF page is turned into a grey image and none but
//! the last may use less than a third of its height; the cover is page one; the infant
//! school's booklet has what the school has and the run says so; types and dates are in
//! words. The HTML booklets and the index are checked with axe-core in headless Chromium.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::common::{bin, csv_rows, demo_world, html_text, poppler, raw, real_store, scratch};

const KS2_850: &str = "clarelgibson-hants-surrey/data-in/ks2/2018-850-ks2.csv";
const KS4_936: &str = "clarelgibson-hants-surrey/data-in/2018-2019_936_ks4final.csv";
const GIAS: &str = "clarelgibson-hants-surrey/data-in/info/retired/20220420_gias.csv";
const CENSUS: &str = "kspdeveloper-perf-tables/england_census.csv";
const MAINTAINED: [&str; 4] = ["CY", "VA", "VC", "FD"];

/// One rendered booklet.
struct Rendered {
    what: &'static str,
    urn: String,
    html: PathBuf,
    pdf: PathBuf,
}

/// The four booklets and the stderr of the Hampshire run (junior and infant together),
/// rendered once.
struct Four {
    booklets: Vec<Rendered>,
    hampshire_log: String,
    hampshire_index: PathBuf,
    demo_index: PathBuf,
}

/// A maintained Hampshire junior school with a KS2 result (the file's first).
fn hampshire_junior() -> String {
    csv_rows(&raw(KS2_850))
        .into_iter()
        .find(|r| {
            r["RECTYPE"] == "1"
                && r["SCHNAME"].contains("Junior")
                && MAINTAINED.contains(&r["NFTYPE"].as_str())
                && r["PTRWM_EXP"].ends_with('%')
        })
        .expect("a Hampshire junior school")["URN"]
        .clone()
}

/// A Hampshire community infant school in the January 2019 census, with no row in the KS2
/// file (an infant school has no key-stage results): its URN and GIAS row.
fn hampshire_infant() -> (String, std::collections::HashMap<String, String>) {
    let ks2: Vec<String> = csv_rows(&raw(KS2_850))
        .into_iter()
        .map(|r| r["URN"].clone())
        .collect();
    let census: Vec<String> = csv_rows(&raw(CENSUS))
        .into_iter()
        .filter(|r| r["LA"] == "850")
        .map(|r| r["URN"].clone())
        .collect();
    let row = csv_rows(&raw(GIAS))
        .into_iter()
        .find(|r| {
            r["LA (code)"] == "850"
                && r["EstablishmentName"].contains("Infant")
                && r["TypeOfEstablishment (name)"] == "Community school"
                && r["EstablishmentStatus (name)"] == "Open"
                && census.contains(&r["URN"])
                && !ks2.contains(&r["URN"])
        })
        .expect("a Hampshire infant school");
    (row["URN"].clone(), row)
}

/// A Surrey LA-maintained secondary with an Attainment 8 score in 2018/19.
fn surrey_secondary() -> String {
    csv_rows(&raw(KS4_936))
        .into_iter()
        .find(|r| {
            r["RECTYPE"] == "1"
                && MAINTAINED.contains(&r["NFTYPE"].as_str())
                && r["ATT8SCR"].parse::<f64>().is_ok()
        })
        .expect("a Surrey secondary")["URN"]
        .clone()
}

/// The demo LA's first school with pupil-level KS1 and KS2 rows in 2019.
fn demo_primary() -> String {
    let pupils = demo_world().join("data/pupils");
    let urns = |f: &str| -> Vec<String> {
        csv_rows(&pupils.join(f))
            .into_iter()
            .map(|r| r["urn"].clone())
            .collect()
    };
    let ks1 = urns("ks1_pupils_650_2019.csv");
    urns("ks2_pupils_650_2019.csv")
        .into_iter()
        .find(|u| ks1.contains(u))
        .expect("a demo school with KS1 and KS2 pupils")
}

/// `attain booklet ARGS --out DIR`; its stderr. Fails the test on a non-zero exit.
fn booklet(args: &[&str], store: &Path, out: &Path) -> String {
    let run = bin()
        .arg("booklet")
        .args(args)
        .arg("--store")
        .arg(store)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&run.stderr).to_string();
    assert!(run.status.success(), "attain booklet {args:?}: {log}");
    log
}

fn find(out: &Path, la: &str, urn: &str, ext: &str) -> PathBuf {
    std::fs::read_dir(out.join(la))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(&format!("{urn}-"))
                && p.extension().is_some_and(|e| e == ext)
        })
        .unwrap_or_else(|| panic!("no {ext} for {urn} in {}", out.display()))
}

fn four() -> Option<&'static Four> {
    static FOUR: OnceLock<Option<Four>> = OnceLock::new();
    FOUR.get_or_init(|| {
        let store = real_store()?;
        let dir = scratch("booklet-layout");
        let (junior, (infant, _)) = (hampshire_junior(), hampshire_infant());
        let hants = dir.join("hampshire");
        let hampshire_log = booklet(
            &["--year", "2019", "--school", &junior, "--school", &infant],
            store,
            &hants,
        );
        let surrey = dir.join("surrey");
        let secondary = surrey_secondary();
        booklet(&["--year", "2019", "--school", &secondary], store, &surrey);
        let demo = dir.join("demo");
        let primary = demo_primary();
        let pupils = demo_world().join("data/pupils");
        booklet(
            &[
                "--year",
                "2019",
                "--school",
                &primary,
                "--pupils",
                pupils.to_str().unwrap(),
            ],
            &demo_world().join("store"),
            &demo,
        );
        let rendered = |what, out: &Path, la: &str, urn: &str| Rendered {
            what,
            urn: urn.to_string(),
            html: find(out, la, urn, "html"),
            pdf: find(out, la, urn, "pdf"),
        };
        Some(Four {
            booklets: vec![
                rendered("Hampshire junior", &hants, "850", &junior),
                rendered("Hampshire infant", &hants, "850", &infant),
                rendered("Surrey secondary", &surrey, "936", &secondary),
                rendered("demo primary with pupil data", &demo, "650", &primary),
            ],
            hampshire_log,
            hampshire_index: hants.join("index.html"),
            demo_index: demo.join("index.html"),
        })
    })
    .as_ref()
}

/// How much of a page is used: from the top to the last row with ink (a pixel darker than
/// 250 of 255) above the footer, as a share of the page's height. `footer` is the share
/// of the height at the bottom kept for the footer (the page margin), not counted.
fn used_height(pgm: &[u8], footer: f64) -> f64 {
    // Binary PGM: "P5", width, height, maximum, each followed by one whitespace byte.
    let mut fields = Vec::new();
    let mut i = 0;
    while fields.len() < 4 {
        while pgm[i].is_ascii_whitespace() {
            i += 1;
        }
        let start = i;
        while !pgm[i].is_ascii_whitespace() {
            i += 1;
        }
        fields.push(String::from_utf8_lossy(&pgm[start..i]).to_string());
    }
    assert_eq!(fields[0], "P5", "a binary greyscale PGM");
    let (w, h): (usize, usize) = (fields[1].parse().unwrap(), fields[2].parse().unwrap());
    let pixels = &pgm[i + 1..];
    assert_eq!(pixels.len(), w * h);
    let body = ((h as f64) * (1.0 - footer)).floor() as usize;
    let last = (0..body)
        .rev()
        .find(|&y| pixels[y * w..(y + 1) * w].iter().any(|&p| p < 250));
    last.map_or(0.0, |y| (y + 1) as f64 / h as f64)
}

/// Each page of a PDF as a grey image (pdftoppm), measured with `used_height`. None without poppler.
fn page_use(pdf: &Path, work: &Path) -> Option<Vec<f64>> {
    poppler("pdfinfo", &[], pdf)?;
    std::fs::create_dir_all(work).unwrap();
    let prefix = work.join("page");
    let ok = Command::new("pdftoppm")
        .args(["-gray", "-r", "30"])
        .arg(pdf)
        .arg(&prefix)
        .status()
        .unwrap();
    assert!(ok.success(), "pdftoppm on {}", pdf.display());
    let mut pages: Vec<(usize, PathBuf)> = std::fs::read_dir(work)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "pgm"))
        .map(|p| {
            let n = p.file_stem().unwrap().to_string_lossy();
            (n.rsplit('-').next().unwrap().parse().unwrap(), p.clone())
        })
        .collect();
    pages.sort();
    // The booklet's pages are A4 with 15 mm margins: the footer sits in the bottom 15 mm.
    Some(
        pages
            .iter()
            .map(|(_, p)| used_height(&std::fs::read(p).unwrap(), 15.0 / 297.0))
            .collect(),
    )
}

/// The measure itself: an empty page uses nothing; ink half way down uses half; ink in the
/// footer's strip alone does not count.
#[test]
fn used_height_counts_rows_down_to_the_last_inked_one() {
    let pgm = |w: usize, h: usize, ink: &[usize]| {
        let mut b = format!("P5\n{w} {h}\n255\n").into_bytes();
        for y in 0..h {
            for _ in 0..w {
                b.push(if ink.contains(&y) { 0 } else { 255 });
            }
        }
        b
    };
    assert_eq!(used_height(&pgm(10, 100, &[]), 0.05), 0.0);
    assert_eq!(used_height(&pgm(10, 100, &[3, 49]), 0.05), 0.5);
    assert_eq!(used_height(&pgm(10, 100, &[10, 97]), 0.05), 0.11);
    assert_eq!(used_height(&pgm(10, 100, &[94]), 0.05), 0.95);
}

#[test]
fn no_page_but_the_last_is_mostly_empty() {
    let Some(four) = four() else { return };
    let work = scratch("booklet-layout-pages");
    for b in &four.booklets {
        let Some(used) = page_use(&b.pdf, &work.join(&b.urn)) else {
            return;
        };
        eprintln!("{} ({}): pages used {used:.2?}", b.what, b.urn);
        assert!(!used.is_empty());
        for (i, u) in used.iter().enumerate().take(used.len() - 1) {
            assert!(
                *u >= 1.0 / 3.0,
                "{} ({}): page {} of {} uses {:.0}% of its height",
                b.what,
                b.urn,
                i + 1,
                used.len(),
                100.0 * u
            );
        }
        assert!(
            *used.last().unwrap() > 0.05,
            "{}: a blank last page",
            b.what
        );
    }
}

/// A line of a PDF page's text (pdftotext -layout) that is the heading itself: the heading
/// alone, or a key stage's heading with its year. Contents lines carry page numbers.
fn heading_on(page: &str, heading: &str, year: &str) -> bool {
    page.lines()
        .map(str::trim)
        .any(|l| l == heading || l == format!("{heading}: {year}"))
}

#[test]
fn page_one_has_the_title_the_contents_and_the_first_section() {
    let Some(four) = four() else { return };
    for b in &four.booklets {
        let Some(info) = poppler("pdfinfo", &[], &b.pdf) else {
            return;
        };
        let n: usize = info
            .lines()
            .find_map(|l| l.strip_prefix("Pages:"))
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        let pages: Vec<String> = (1..=n)
            .map(|p| {
                let p = p.to_string();
                poppler("pdftotext", &["-layout", "-f", &p, "-l", &p], &b.pdf).unwrap()
            })
            .collect();
        let one = &pages[0];
        assert!(
            one.contains("Achievement and Target Setting Booklet 2018/19")
                && one.contains("Contents")
                && heading_on(one, "School context", "2018/19"),
            "{}: page one is the title, the contents and the school context:\n{one}",
            b.what
        );
        // Every heading the contents list is on the page it gives.
        let contents: Vec<&str> = one
            .lines()
            .skip_while(|l| l.trim() != "Contents")
            .skip(1)
            .skip_while(|l| l.trim().is_empty())
            .take_while(|l| !l.trim().is_empty())
            .collect();
        assert!(!contents.is_empty(), "{}: {one}", b.what);
        let mut listed = 0;
        for heading in [
            "School context",
            "Key stage 2 (end of Year 6)",
            "Key stage 4 (end of Year 11)",
            "Gaps between groups of pupils",
            "Attendance",
            "Ofsted",
            "Targets for 2019/20",
            "Notes",
        ] {
            let entry = contents.iter().find_map(|l| {
                let at = l.find(heading)?;
                let rest = l[at + heading.len()..].trim_start_matches(": 2018/19");
                rest.split_whitespace().next()?.parse::<usize>().ok()
            });
            let on = pages
                .iter()
                .position(|p| heading_on(p, heading, "2018/19"))
                .map(|i| i + 1);
            assert_eq!(
                entry, on,
                "{}: {heading} listed on page {entry:?}, found on page {on:?}",
                b.what
            );
            listed += usize::from(entry.is_some());
        }
        // Context, attendance, Ofsted and notes at least (an infant school has no more).
        assert!(listed >= 4, "{}: {listed} sections", b.what);
    }
}

/// The visible text of an HTML section (tags dropped, entities of names decoded).
fn section<'a>(html: &'a str, id: &str) -> Option<&'a str> {
    let at = html.find(&format!("<section id=\"{id}\""))?;
    Some(&html[at..at + html[at..].find("</section>").unwrap()])
}

#[test]
fn a_school_with_no_key_stage_results_gets_a_booklet_of_what_it_has() {
    let Some(four) = four() else { return };
    let (urn, gias) = hampshire_infant();
    let infant = four.booklets.iter().find(|b| b.urn == urn).unwrap();
    let html = std::fs::read_to_string(&infant.html).unwrap();
    for id in ["context", "attendance", "ofsted", "notes"] {
        assert!(section(&html, id).is_some(), "{id} missing");
    }
    for id in ["ks2", "ks4", "gaps", "targets"] {
        assert!(section(&html, id).is_none(), "{id}: nothing to show");
    }
    assert!(!html.contains("Targets for"), "no targets page");
    if let Some(text) = poppler("pdftotext", &[], &infant.pdf) {
        assert!(!text.contains("Targets for") && !text.contains("Key stage"));
        assert!(text.contains("Attendance") && text.contains("Ofsted"));
    }
    // The school's type in words, as GIAS gives it.
    assert!(
        html.contains(&format!(
            " · {} · Maintained by the local authority · URN {urn}",
            gias["TypeOfEstablishment (name)"]
        )),
        "type in words"
    );
    // The run says which booklets had no attainment data, and the index marks them.
    let junior = hampshire_junior();
    let name = &gias["EstablishmentName"];
    assert!(
        four.hampshire_log.contains(&format!(
            "1 of 2 booklet(s) had no attainment data (no key-stage results or pupil-level figures: context, \
                attendance and Ofsted only): {urn} {name}"
        )),
        "{}",
        four.hampshire_log
    );
    assert!(!four.hampshire_log.contains(&format!("{junior} ")));
    let index = std::fs::read_to_string(&four.hampshire_index).unwrap();
    let row = index
        .lines()
        .find(|l| l.contains(&format!("<td>{urn}</td>")))
        .unwrap();
    assert!(row.contains("<td>no attainment data</td>"), "{row}");
    assert!(index.contains("1 had no attainment data"), "{index}");
}

/// Text holding a date written yyyy-mm-dd.
fn has_iso_date(t: &str) -> bool {
    t.as_bytes().windows(10).any(|w| {
        w.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            _ => c.is_ascii_digit(),
        }) && (w.starts_with(b"19") || w.starts_with(b"20"))
    })
}

#[test]
fn types_dates_and_the_target_model_are_in_words() {
    let Some(four) = four() else { return };
    let gias = csv_rows(&raw(GIAS));
    for b in &four.booklets {
        let html = std::fs::read_to_string(&b.html).unwrap();
        let text = poppler("pdftotext", &[], &b.pdf);
        for (format, t) in [("HTML", Some(&html)), ("PDF", text.as_ref())] {
            let Some(t) = t else { continue };
            assert!(!has_iso_date(t), "{} {format}: an ISO date", b.what);
            assert!(
                !t.contains("x %FSM6") && !t.contains("estimate ="),
                "{} {format}: the model as a formula",
                b.what
            );
            assert!(!t.contains("Boys: Boys"), "{} {format}", b.what);
            assert!(!t.contains(" · CY ") && !t.contains("(LA maintained)"));
        }
        // The Ofsted date in words: GIAS's latest inspection date, where it gives the same one.
        if let Some(g) = gias.iter().find(|r| r["URN"] == b.urn) {
            let ofsted = section(&html, "ofsted").unwrap();
            let date = &g["OfstedLastInsp"];
            if !date.is_empty() && ofsted.contains("inspected") {
                assert!(
                    ofsted.contains(&crate::common::date_in_words(date)),
                    "{}: {date} in words: {ofsted}",
                    b.what
                );
            }
        }
        // Booklets with targets describe each model in words.
        if html.contains(" (estimate)</td>") {
            let notes = section(&html, "notes").unwrap();
            assert!(
                notes.contains("the estimate is fitted on")
                    && notes.contains(
                        "for every 10 percentage points more disadvantaged (FSM6) pupils"
                    )
                    && notes.contains("Two schools in three end within"),
                "{}: {notes}",
                b.what
            );
        }
    }
}

/// Headless Chromium on a page (file URL) with `--dump-dom` after the page's scripts have
/// run (virtual time); the DOM. Killed after 120 s. None without Chromium.
fn dump_dom(page: &Path, width: u32, profile: &Path) -> Option<String> {
    let chromium = ["chromium", "chromium-browser"].iter().find_map(|b| {
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
            .map(|d| d.join(b))
            .find(|p| p.is_file())
    });
    let Some(chromium) = chromium else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "chromium is missing and CI=true: .ci/run installs it"
        );
        eprintln!("SKIPPED: chromium not found");
        return None;
    };
    let mut child = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--virtual-time-budget=30000",
            "--dump-dom",
        ])
        .arg(format!("--window-size={width},900"))
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("file://{}", page.canonicalize().unwrap().display()))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut stdout, &mut s).ok();
        s
    });
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(120) {
            child.kill().ok();
            panic!("chromium took more than 120 s on {}", page.display());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Some(reader.join().unwrap())
}

/// axe-core (the npm package, installed by .ci/run under ~/.cache/attain-npm; or
/// ATTAIN_AXE=path/to/axe.min.js). None without it, which fails under CI=true.
fn axe_source() -> Option<String> {
    let path = std::env::var_os("ATTAIN_AXE")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME").map(|h| {
                PathBuf::from(h).join(".cache/attain-npm/node_modules/axe-core/axe.min.js")
            })
        })
        .filter(|p| p.is_file());
    match path {
        Some(p) => Some(std::fs::read_to_string(p).unwrap()),
        None => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "axe-core is missing and CI=true: .ci/run installs it (npm install axe-core)"
            );
            eprintln!("SKIPPED: axe-core not found under ~/.cache/attain-npm");
            None
        }
    }
}

/// One axe-core violation: (impact, rule id, the first element it is about).
type Violation = (String, String, String);

/// What axe-core finds in a page against WCAG 2.1 A and AA, and whether the page scrolls
/// sideways, at `width` pixels: (violations as (impact, rule, first element), page width
/// beyond the window). The page is copied with axe and a runner that writes its results
/// into the DOM, which headless Chromium dumps.
fn axe(page: &Path, axe: &str, width: u32, work: &Path) -> Option<(Vec<Violation>, i64)> {
    let html = std::fs::read_to_string(page).unwrap();
    let runner = format!(
        "<script>{}</script><script>
axe.run(document, {{
  runOnly: {{ type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] }}
}}).then(function (r) {{
  var out = document.createElement('pre');
  out.id = 'axe-results';
  out.textContent = JSON.stringify({{
    overflow: document.documentElement.scrollWidth - window.innerWidth,
    violations: r.violations.map(function (v) {{
      return [v.impact, v.id, v.nodes.length ? v.nodes[0].target.join(' ') : ''];
    }})
  }});
  document.body.appendChild(out);
}});
</script>",
        axe.replace("</script", "<\\/script")
    );
    // Beside the original, so its relative links resolve the same.
    let copy = page.with_extension(format!("axe-{width}.html"));
    std::fs::write(
        &copy,
        html.replacen("</body>", &format!("{runner}</body>"), 1),
    )
    .unwrap();
    let dom = dump_dom(&copy, width, &work.join(format!("profile-{width}")))?;
    std::fs::remove_file(&copy).ok();
    let json = dom
        .split("<pre id=\"axe-results\">")
        .nth(1)
        .and_then(|s| s.split("</pre>").next())
        .unwrap_or_else(|| panic!("axe-core wrote no results for {}", page.display()))
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&");
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let violations = v["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x[0].as_str().unwrap_or("").to_string(),
                x[1].as_str().unwrap().to_string(),
                x[2].as_str().unwrap().to_string(),
            )
        })
        .collect();
    Some((violations, v["overflow"].as_i64().unwrap()))
}

/// The check can fail: a page with an image without a text alternative, a form field
/// without a label and grey-on-grey text has serious or critical violations.
#[test]
fn axe_core_finds_violations_in_a_bad_page() {
    let Some(source) = axe_source() else { return };
    let work = scratch("axe-bad");
    let page = work.join("bad.html");
    std::fs::write(
        &page,
        "<!DOCTYPE html><html><head><title>x</title></head><body><main><h1>x</h1><img \
        src=\"data:image/gif;base64,R0lGODlhAQABAAAAACw=\"><input type=\"text\"><p \
        style=\"color:#aaa;background:#bbb\">faint</p><div \
        style=\"width:2000px\">wide</div></main></body></html>",
    )
    .unwrap();
    let Some((found, overflow)) = axe(&page, &source, 500, &work) else {
        return;
    };
    let rules: Vec<&str> = found.iter().map(|f| f.1.as_str()).collect();
    for rule in ["image-alt", "label", "color-contrast"] {
        assert!(rules.contains(&rule), "{rule} not found: {found:?}");
    }
    assert!(overflow > 0, "the wide page scrolls sideways");
}

#[test]
fn booklets_and_index_meet_wcag_aa_on_a_phone_and_a_desktop() {
    let Some(four) = four() else { return };
    let Some(source) = axe_source() else { return };
    let work = scratch("axe-booklets");
    let pages: Vec<(String, &Path)> = four
        .booklets
        .iter()
        .map(|b| (b.what.to_string(), b.html.as_path()))
        .chain([
            (
                "Hampshire index".to_string(),
                four.hampshire_index.as_path(),
            ),
            ("demo index".to_string(), four.demo_index.as_path()),
        ])
        .collect();
    for (what, page) in pages {
        // A phone (Chromium's narrowest headless window) and a desktop.
        for width in [500, 1200] {
            let Some((found, overflow)) = axe(page, &source, width, &work) else {
                return;
            };
            let bad: Vec<_> = found
                .iter()
                .filter(|f| f.0 == "serious" || f.0 == "critical")
                .collect();
            assert!(bad.is_empty(), "{what} at {width} px: {bad:?}");
            assert!(
                overflow <= 0,
                "{what} at {width} px scrolls sideways by {overflow} px"
            );
        }
    }
}

/// The index sorts and filters in the browser, and is whole without its script.
#[test]
fn the_index_sorts_and_filters() {
    let Some(four) = four() else { return };
    let index = &four.hampshire_index;
    let html = std::fs::read_to_string(index).unwrap();
    // Without script: every school is a row, and the filter (which needs script) is hidden.
    assert_eq!(html.matches("<tr><td dir=\"auto\">").count(), 2);
    assert!(html.contains("<form class=\"filters\" id=\"filters\" hidden"));
    let probe = "<script>
window.addEventListener('load', function () {
  var out = {};
  var cells = function () {
    return Array.prototype.map.call(document.querySelectorAll('#schools tbody tr'), function (r) {
      return r.hidden ? null : r.cells[1].textContent;
    }).filter(function (x) { return x !== null; });
  };
  var urn = document.querySelectorAll('#schools thead th')[1];
  urn.querySelector('button').click();
  out.ascending = cells();
  out.sort = urn.getAttribute('aria-sort');
  urn.querySelector('button').click();
  out.descending = cells();
  out.form = document.getElementById('filters').hidden;
  var text = document.getElementById('filter-text');
  text.value = 'infant';
  text.dispatchEvent(new Event('input'));
  out.infant = cells();
  out.said = document.getElementById('shown').textContent;
  var pre = document.createElement('pre');
  pre.id = 'probe';
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
</script>";
    let copy = index.with_file_name("index-probe.html");
    std::fs::write(
        &copy,
        html.replacen("</body>", &format!("{probe}</body>"), 1),
    )
    .unwrap();
    let Some(dom) = dump_dom(&copy, 1200, &scratch("index-probe")) else {
        return;
    };
    let json = dom
        .split("<pre id=\"probe\">")
        .nth(1)
        .unwrap()
        .split("</pre>")
        .next()
        .unwrap()
        .replace("&quot;", "\"");
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let (junior, (infant, _)) = (hampshire_junior(), hampshire_infant());
    let mut urns = [junior.clone(), infant.clone()];
    urns.sort();
    assert_eq!(v["ascending"], serde_json::json!(urns));
    assert_eq!(v["sort"], "ascending");
    urns.reverse();
    assert_eq!(v["descending"], serde_json::json!(urns));
    assert_eq!(v["form"], false, "the script shows the filter");
    assert_eq!(v["infant"], serde_json::json!([infant]));
    assert_eq!(v["said"], "1 of 2 schools shown");
}

/// The sentences page one lists under Strengths and under Areas to investigate (HTML).
fn summary_sentences(html: &str) -> (Vec<String>, Vec<String>) {
    let summary = section(html, "summary").expect("a summary");
    let strengths = summary.find("<h3>Strengths</h3>").unwrap();
    let areas = summary.find("<h3>Areas to investigate</h3>").unwrap();
    let items = |part: &str| -> Vec<String> {
        part.split("<li>")
            .skip(1)
            .map(|li| html_text(&li[..li.find("</li>").unwrap()]))
            .collect()
    };
    (items(&summary[strengths..areas]), items(&summary[areas..]))
}

/// `index.html`'s rows as column header -> cell text.
fn index_rows(index: &str) -> Vec<std::collections::HashMap<String, String>> {
    let head = &index[index.find("<thead>").unwrap()..index.find("</thead>").unwrap()];
    let columns: Vec<String> = head
        .split("</th>")
        .filter(|c| c.contains("<th"))
        .map(html_text)
        .collect();
    let body = &index[index.find("<tbody>").unwrap()..index.find("</tbody>").unwrap()];
    body.split("</tr>")
        .filter(|r| r.contains("<td"))
        .map(|r| {
            let cells: Vec<String> = r
                .split("</td>")
                .filter(|c| c.contains("<td"))
                .map(html_text)
                .collect();
            assert_eq!(cells.len(), columns.len(), "{r}");
            columns.iter().cloned().zip(cells).collect()
        })
        .collect()
}

/// The index's two counts are the booklets' own: each school's row gives as many strengths
/// and areas to investigate as its booklet's page one lists, and both columns sort as numbers.
#[test]
fn the_index_counts_each_booklets_strengths_and_areas() {
    let Some(four) = four() else { return };
    let mut sentences_seen = 0;
    for index in [&four.hampshire_index, &four.demo_index] {
        let html = std::fs::read_to_string(index).unwrap();
        for sorted in ["Strengths", "Areas to investigate"] {
            assert!(
                html.contains(&format!(
                    "<th scope=\"col\" data-sort=\"number\">{sorted}</th>"
                )),
                "{sorted} sorts as a number"
            );
        }
        let rows = index_rows(&html);
        assert!(!rows.is_empty());
        for row in rows {
            let booklet = four
                .booklets
                .iter()
                .find(|b| b.urn == row["URN"])
                .unwrap_or_else(|| panic!("URN {} in the index but not rendered", row["URN"]));
            let (strengths, areas) =
                summary_sentences(&std::fs::read_to_string(&booklet.html).unwrap());
            assert_eq!(
                row["Strengths"],
                strengths.len().to_string(),
                "{}: {strengths:?}",
                booklet.what
            );
            assert_eq!(
                row["Areas to investigate"],
                areas.len().to_string(),
                "{}: {areas:?}",
                booklet.what
            );
            sentences_seen += strengths.len() + areas.len();
        }
    }
    assert!(sentences_seen > 0, "the booklets have sentences to count");
}

/// Abbreviations a head would have to look up; none may be in a printed label.
const JARGON: [&str; 8] = ["RWM", "GPS", "EBacc", "APS", "P8", "A8", "KS2", "KS4"];

/// Every label a booklet prints (table rows' first cells, gap groupings, the summary's
/// measures and sentences, chart captions) is in words: no unexplained abbreviation.
#[test]
fn printed_labels_carry_no_unexplained_abbreviations() {
    let Some(four) = four() else { return };
    // The check can fail: the old label is caught.
    assert_eq!(jargon_in("KS2 RWM expected standard"), vec!["RWM", "KS2"]);
    for b in &four.booklets {
        let html = std::fs::read_to_string(&b.html).unwrap();
        let mut labels: Vec<String> = Vec::new();
        // Row labels: a row's first cell, a row header, a group of rows' header.
        for row in html.split("<tr").skip(1) {
            let row = &row[row.find('>').unwrap() + 1..];
            let first = row.split("</t").next().unwrap();
            if first.starts_with("<td>")
                || first.starts_with("<th scope=\"row\"")
                || first.contains("scope=\"rowgroup\"")
            {
                labels.push(html_text(first));
            }
        }
        let (strengths, areas) = summary_sentences(&html);
        labels.extend(strengths.into_iter().chain(areas));
        labels.extend(
            html.split("<figcaption>")
                .skip(1)
                .map(|c| html_text(&c[..c.find("</figcaption>").unwrap()])),
        );
        assert!(labels.len() > 10, "{}: {labels:?}", b.what);
        for l in &labels {
            assert!(
                jargon_in(l).is_empty(),
                "{}: {l:?} has {:?}",
                b.what,
                jargon_in(l)
            );
        }
    }
}

/// The abbreviations of `JARGON` in a text, as whole words.
fn jargon_in(text: &str) -> Vec<&'static str> {
    let words: Vec<&str> = text
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    JARGON
        .iter()
        .filter(|j| words.contains(j))
        .copied()
        .collect()
}

/// A script that measures every visible table header cell of a page and writes what it
/// finds into the DOM: how many it measured, and each that overflows its box or breaks a word
/// across lines (a break after a word's own hyphen, as in "Three-year", is between words).
const HEADER_PROBE: &str = "<script>
window.addEventListener('load', function () {
  var bad = [], n = 0;
  Array.prototype.forEach.call(document.querySelectorAll('th'), function (th) {
    if (!th.getClientRects().length) { return; }
    n += 1;
    var text = th.textContent.trim();
    if (th.scrollWidth > th.clientWidth) { bad.push(['overflows', text, th.scrollWidth, th.clientWidth]); }
    var walk = document.createTreeWalker(th, NodeFilter.SHOW_TEXT), node;
    while ((node = walk.nextNode())) {
      var re = /[^\\s-]+-?/g, m;
      while ((m = re.exec(node.data))) {
        var r = document.createRange();
        r.setStart(node, m.index);
        r.setEnd(node, m.index + m[0].length);
        var lines = Array.prototype.filter.call(r.getClientRects(), function (x) { return x.width > 0; });
        if (lines.length > 1) { bad.push(['broken', m[0], text]); }
      }
    }
  });
  var pre = document.createElement('pre');
  pre.id = 'probe';
  pre.textContent = JSON.stringify({ headers: n, bad: bad });
  document.body.appendChild(pre);
});
</script>";

/// `HEADER_PROBE` run on a page at `width` pixels: (header cells measured, problems).
/// None without Chromium.
fn header_problems(page: &Path, width: u32, work: &Path) -> Option<(u64, serde_json::Value)> {
    let html = std::fs::read_to_string(page).unwrap();
    let copy = page.with_extension(format!("headers-{width}.html"));
    std::fs::write(
        &copy,
        html.replacen("</body>", &format!("{HEADER_PROBE}</body>"), 1),
    )
    .unwrap();
    let dom = dump_dom(&copy, width, &work.join(format!("profile-{width}")))?;
    std::fs::remove_file(&copy).ok();
    let json = dom
        .split("<pre id=\"probe\">")
        .nth(1)
        .unwrap_or_else(|| panic!("{}: the probe wrote nothing", page.display()))
        .split("</pre>")
        .next()
        .unwrap()
        .replace("&quot;", "\"")
        .replace("&amp;", "&");
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    Some((v["headers"].as_u64().unwrap(), v["bad"].clone()))
}

/// The probe can fail: a header squeezed into a box narrower than its word overflows, and
/// one allowed to break anywhere breaks its word.
#[test]
fn the_header_probe_finds_overflowing_and_broken_headers() {
    let work = scratch("header-probe-bad");
    let page = work.join("bad.html");
    let bad = concat!(
        "<!DOCTYPE html><html><head><title>x</title></head><body>",
        "<table style=\"table-layout:fixed;width:400px\"><thead><tr>",
        "<th style=\"width:40px;overflow:hidden;white-space:nowrap\">Neighbours</th>",
        "<th style=\"width:40px;word-break:break-all\">Percentile</th><th>Gap</th>",
        "</tr></thead></table></body></html>"
    );
    std::fs::write(&page, bad).unwrap();
    let Some((n, bad)) = header_problems(&page, 500, &work) else {
        return;
    };
    assert_eq!(n, 3);
    assert_eq!(bad[0][0], "overflows", "{bad}");
    assert_eq!(bad[0][1], "Neighbours", "{bad}");
    assert_eq!(
        bad[1],
        serde_json::json!(["broken", "Percentile", "Percentile"])
    );
    assert_eq!(bad.as_array().unwrap().len(), 2, "{bad}");
}

/// In the browser, at a phone's width and a desktop's, every table header cell of the four
/// booklets holds its text: none overflows its box and no word in one is broken across lines.
#[test]
fn column_headers_fit_their_cells_in_the_browser() {
    let Some(four) = four() else { return };
    let work = scratch("header-probe");
    for b in &four.booklets {
        for width in [500, 1200] {
            let Some((n, bad)) = header_problems(&b.html, width, &work) else {
                return;
            };
            assert!(n > 10, "{}: {n} header cells measured", b.what);
            assert_eq!(
                bad,
                serde_json::json!([]),
                "{} at {width} px: header cells that do not hold their text",
                b.what
            );
        }
    }
}

/// A word of a PDF page (pdftotext -bbox): its box in points and its text.
struct PdfWord {
    page: usize,
    x_min: f64,
    y_min: f64,
    text: String,
}

/// Every word of a PDF with its page and box (pdftotext -bbox). None without poppler.
fn pdf_words(pdf: &Path) -> Option<Vec<PdfWord>> {
    let xml = poppler("pdftotext", &["-bbox"], pdf)?;
    let mut words = Vec::new();
    let mut page = 0;
    for part in xml.split('<').skip(1) {
        if part.starts_with("page ") {
            page += 1;
        } else if let Some(w) = part.strip_prefix("word ") {
            let attr = |k: &str| -> f64 {
                let at = w.find(&format!("{k}=\"")).unwrap() + k.len() + 2;
                w[at..at + w[at..].find('"').unwrap()].parse().unwrap()
            };
            words.push(PdfWord {
                page,
                x_min: attr("xMin"),
                y_min: attr("yMin"),
                // Typst sets typographic apostrophes; the HTML has plain ones.
                text: html_text(&format!("<{part}"))
                    .replace("&apos;", "'")
                    .replace('\u{2019}', "'"),
            });
        }
    }
    Some(words)
}

/// The header rows of a booklet's tables, from its HTML (each table's `thead`): each row's
/// cells' texts, in order.
fn html_header_rows(html: &str) -> Vec<Vec<String>> {
    html.split("<thead>")
        .skip(1)
        .map(|t| {
            t[..t.find("</thead>").unwrap()]
                .split("</th>")
                .filter(|c| c.contains("<th"))
                .map(html_text)
                .collect()
        })
        .collect()
}

/// In the PDF, each table's header row holds its headers' words whole: read from the page
/// (pdftotext -bbox), the words between a header row's first word and the first row below it
/// are exactly the headers' words, none split by a hyphen or an emergency break, none run
/// together with the next header's.
#[test]
fn column_headers_are_whole_words_in_the_pdf() {
    let Some(four) = four() else { return };
    for b in &four.booklets {
        let html = std::fs::read_to_string(&b.html).unwrap();
        // The PDF's headline table is headed "LA" where the HTML names the LA (a long name
        // would not fit the PDF's narrow column whole); either is whole words.
        let cells = html_header_rows(&html);
        let la = cells[0][2].clone();
        let words_of = |row: &[String]| -> Vec<String> {
            let mut w: Vec<String> = row
                .iter()
                .flat_map(|c| c.split_whitespace().map(str::to_string))
                .collect();
            w.sort();
            w
        };
        let rows: Vec<Vec<String>> = cells
            .iter()
            .flat_map(|r| {
                let short: Vec<String> = r
                    .iter()
                    .map(|c| {
                        if *c == la {
                            "LA".to_string()
                        } else {
                            c.clone()
                        }
                    })
                    .collect();
                // (a short list may be set two to a row: the header twice side by side)
                let twice: Vec<String> = r.iter().chain(r).cloned().collect();
                [words_of(r), words_of(&short), words_of(&twice)]
            })
            .collect();
        let firsts: Vec<&str> = cells.iter().map(|r| r[0].as_str()).collect();
        let Some(words) = pdf_words(&b.pdf) else {
            return;
        };
        let mut checked = 0;
        for w in &words {
            let page: Vec<&PdfWord> = words.iter().filter(|x| x.page == w.page).collect();
            let margin = page.iter().map(|x| x.x_min).fold(f64::INFINITY, f64::min);
            // A table's header row starts at the left margin with its first header.
            if !firsts.contains(&w.text.as_str()) || w.x_min > margin + 6.0 {
                continue;
            }
            // It runs down to the next word starting a line at the same left edge (the first
            // row's label); the tables are the page's width.
            let end = page
                .iter()
                .filter(|x| (x.x_min - w.x_min).abs() < 1.0 && x.y_min > w.y_min + 1.0)
                .map(|x| x.y_min)
                .fold(f64::INFINITY, f64::min);
            let mut got: Vec<String> = page
                .iter()
                // (less a superscript mark of the first row, which sits higher than its line)
                .filter(|x| x.y_min >= w.y_min - 2.0 && x.y_min < end - 5.0)
                .map(|x| x.text.clone())
                .collect();
            got.sort();
            assert!(
                rows.contains(&got),
                "{}: page {} header row read as {got:?}, not one of {cells:?}",
                b.what,
                w.page
            );
            checked += 1;
        }
        eprintln!("{}: {checked} PDF header rows whole", b.what);
        assert!(checked >= 3, "{}: {checked} header rows found", b.what);
    }
}
