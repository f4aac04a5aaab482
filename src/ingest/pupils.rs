//! Pupil-level files (CSV or xlsx): one row per pupil per key stage, with results and
//! characteristics. The schema is documented in docs/pupil-data.md; every row is
//! validated, and every problem is reported with its file, row and column.
//!
//! Pupil data is personal data. It is read where the LA keeps it and never copied into
//! the shared store; analysis aggregates it and applies disclosure control before
//! anything is printed.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::error::{IngestError, PupilRowErrors};
use crate::ingest::table::{self, Row, Table};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub enum KeyStage {
    Ks1,
    Ks2,
    Ks4,
}

impl KeyStage {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyStage::Ks1 => "KS1",
            KeyStage::Ks2 => "KS2",
            KeyStage::Ks4 => "KS4",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Sen {
    None,
    Support,
    Ehcp,
}

/// DfE's major ethnic groups (the codes in the school census).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Ethnicity {
    White,
    Mixed,
    Asian,
    Black,
    Chinese,
    Other,
    Unclassified,
}

impl Ethnicity {
    pub const CODES: [(&'static str, Ethnicity); 7] = [
        ("WHIT", Ethnicity::White),
        ("MIXD", Ethnicity::Mixed),
        ("ASIA", Ethnicity::Asian),
        ("BLAC", Ethnicity::Black),
        ("CHIN", Ethnicity::Chinese),
        ("AOEG", Ethnicity::Other),
        ("UNCL", Ethnicity::Unclassified),
    ];
}

/// A KS2 test outcome: a scaled score (80-120) or why there is none.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Test {
    Score(u8),
    /// A absent, B working below the standard of the test, M missing, T unable to access,
    /// U annulled. All count in the cohort as not reaching the standard.
    Code(u8),
}

impl Test {
    pub const CODES: &'static [u8] = b"ABMTU";
    pub fn score(self) -> Option<f64> {
        match self {
            Test::Score(s) => Some(s as f64),
            Test::Code(_) => None,
        }
    }
}

/// Teacher assessment outcomes (KS1 and KS2 writing), with the codes for no assessment.
pub const TA_CODES: &[&str] = &[
    "GDS", "EXS", "WTS", "PKF", "PKE", "PKG", "BLW", "A", "D", "L",
];
/// Outcomes that reach the expected standard.
pub const TA_EXPECTED: &[&str] = &["GDS", "EXS"];
/// Outcomes that take a pupil out of the cohort: disapplied (D) and left (L).
pub const TA_NOT_COUNTED: &[&str] = &["D", "L"];

/// A phonics screening check outcome: a mark 0-40, or absent (A) / disapplied (D).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Phonics {
    Mark(u8),
    Absent,
    Disapplied,
}

/// A GCSE grade 9-1, U (ungraded) or X (absent / no entry): only numbers count as grades.
pub type Grade = Option<u8>;

/// One pupil's row. The pupil id is kept only to find duplicates; it is never printed.
#[derive(Debug, Clone)]
pub struct Pupil {
    pub id: String,
    pub urn: u32,
    pub year: i32,
    pub key_stage: KeyStage,
    pub boy: bool,
    pub disadvantaged: bool,
    pub fsm: bool,
    pub lac: bool,
    pub sen: Sen,
    pub eal: bool,
    pub ethnicity: Ethnicity,
    /// KS1 average point score (the prior attainment of a KS2 pupil).
    pub ks1_aps: Option<f64>,
    pub reading: Option<Test>,
    pub maths: Option<Test>,
    pub gps: Option<Test>,
    /// KS2 writing teacher assessment (index into TA_CODES).
    pub writing: Option<&'static str>,
    pub ks1_reading: Option<&'static str>,
    pub ks1_writing: Option<&'static str>,
    pub ks1_maths: Option<&'static str>,
    pub phonics: Option<Phonics>,
    pub att8: Option<f64>,
    pub english_grade: Option<Grade>,
    pub maths_grade: Option<Grade>,
    /// Where the row came from (file index into `PupilData::files`, 1-based row).
    pub source: (usize, u64),
}

/// Every pupil read from a set of files, and the files.
#[derive(Debug, Default)]
pub struct PupilData {
    pub files: Vec<PathBuf>,
    pub pupils: Vec<Pupil>,
}

/// The columns every pupil file has, then those a key stage uses. Names are fixed
/// (docs/pupil-data.md) and matched case-insensitively.
pub const REQUIRED: &[&str] = &[
    "pupil_id",
    "urn",
    "year",
    "key_stage",
    "gender",
    "disadvantaged",
    "fsm",
    "lac",
    "sen",
    "eal",
    "ethnicity",
];
pub const OPTIONAL: &[&str] = &[
    "ks1_aps",
    "ks2_reading",
    "ks2_writing",
    "ks2_maths",
    "ks2_gps",
    "ks1_reading",
    "ks1_writing",
    "ks1_maths",
    "phonics",
    "att8",
    "english_grade",
    "maths_grade",
];

/// Which columns belong to which key stage: a value in another stage's column is an error.
fn stage_of(column: &str) -> Option<KeyStage> {
    match column {
        "ks1_aps" | "ks2_reading" | "ks2_writing" | "ks2_maths" | "ks2_gps" => Some(KeyStage::Ks2),
        "ks1_reading" | "ks1_writing" | "ks1_maths" | "phonics" => Some(KeyStage::Ks1),
        "att8" | "english_grade" | "maths_grade" => Some(KeyStage::Ks4),
        _ => None,
    }
}

/// Is this table a pupil file? (Recognised by its header, like every other input.)
pub fn is_pupil_table(t: &Table) -> bool {
    t.has_all(&["pupil_id", "urn", "key_stage"])
}

/// Read pupil files and directories (walked). Every bad row of every file is reported;
/// nothing is returned unless every row is valid, or `allow_bad_rows` drops them (the
/// problems are then returned as warnings).
pub fn read_pupils(
    paths: &[PathBuf],
    allow_bad_rows: bool,
) -> Result<(PupilData, Vec<IngestError>), PupilRowErrors> {
    let files = crate::ingest::collect_files(paths).map_err(|e| PupilRowErrors(vec![e]))?;
    let mut data = PupilData::default();
    let mut problems = Vec::new();
    // (year, key stage, pupil id) -> where it was first seen.
    let mut seen: HashMap<(i32, KeyStage, String), (usize, u64)> = HashMap::new();
    let progress = crate::progress::task("pupil files", files.len());
    for (path, _explicit) in files {
        progress.step();
        let tables = match read_tables(&path) {
            Ok(t) => t,
            Err(e) => {
                problems.push(e);
                continue;
            }
        };
        let Some(t) = tables.into_iter().find(is_pupil_table) else {
            problems.push(IngestError::at_file(
                &path,
                format!(
                    "not a pupil file: the header must have the columns {} \
                (see docs/pupil-data.md)",
                    REQUIRED.join(", ")
                ),
            ));
            continue;
        };
        let missing: Vec<&str> = REQUIRED
            .iter()
            .copied()
            .filter(|c| t.col(c).is_none())
            .collect();
        if !missing.is_empty() {
            problems.push(IngestError::at(
                &path,
                t.header_line,
                Some(missing[0]),
                format!(
                    "the header has no column {} (required: {})",
                    missing.join(", "),
                    REQUIRED.join(", ")
                ),
            ));
            continue;
        }
        let file_index = data.files.len();
        data.files.push(path.clone());
        let cols = Columns::of(&t);
        for row in &t.rows {
            match parse_row(&t, &cols, row, file_index) {
                Ok(p) => {
                    let key = (p.year, p.key_stage, p.id.clone());
                    if let Some((f, r)) = seen.get(&key) {
                        let first = if *f == file_index {
                            format!("row {r}")
                        } else {
                            format!("{} row {r}", data.files[*f].display())
                        };
                        problems.push(IngestError::at(
                            &path,
                            row.line,
                            Some("pupil_id"),
                            format!(
                                "pupil {} appears twice in {} {} (first at {first})",
                                redact(&p.id),
                                p.key_stage.as_str(),
                                p.year
                            ),
                        ));
                        continue;
                    }
                    seen.insert(key, (file_index, row.line));
                    data.pupils.push(p);
                }
                Err(mut errs) => problems.append(&mut errs),
            }
        }
    }
    if !problems.is_empty() && !allow_bad_rows {
        return Err(PupilRowErrors(problems));
    }
    Ok((data, problems))
}

/// Pupil ids are personal: error messages show only enough to find the row.
fn redact(id: &str) -> String {
    let shown: String = id.chars().take(3).collect();
    format!("{shown}…")
}

fn read_tables(path: &Path) -> Result<Vec<Table>, IngestError> {
    let bytes = table::read_input(path)?;
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    // Empty sheets and files have no header to read: they are simply not pupil tables.
    if matches!(ext.as_str(), "xlsx" | "xlsm" | "xls" | "ods") {
        let sheets = table::read_workbook(path, &bytes)?;
        // Hidden sheets come back empty: they are not read.
        Ok(sheets
            .into_iter()
            .filter(|s| !s.rows.is_empty())
            .map(|s| table::into_table(path, Some(s.name), s.rows, 0, vec![]))
            .collect())
    } else {
        let decoded = table::decode(path, &bytes)?;
        let (mut notes, mut warnings) = (decoded.notes, decoded.warnings);
        let rows = table::parse_csv(path, &decoded.text, &mut notes, &mut warnings)?;
        Ok(if rows.is_empty() {
            vec![]
        } else {
            vec![table::into_table(path, None, rows, 0, notes)]
        })
    }
}

/// Column positions, looked up once per file.
struct Columns {
    required: Vec<usize>,
    optional: Vec<(&'static str, usize)>,
}

impl Columns {
    fn of(t: &Table) -> Columns {
        Columns {
            required: REQUIRED
                .iter()
                .map(|c| t.col(c).unwrap_or(usize::MAX))
                .collect(),
            optional: OPTIONAL
                .iter()
                .filter_map(|c| t.col(c).map(|i| (*c, i)))
                .collect(),
        }
    }
}

fn parse_row(t: &Table, cols: &Columns, row: &Row, file: usize) -> Result<Pupil, Vec<IngestError>> {
    let mut errs = Vec::new();
    let path = &t.path;
    let get = |i: usize| row.get(i).trim();
    let mut bad =
        |col: &str, msg: String| errs.push(IngestError::at(path, row.line, Some(col), msg));
    let req = |k: usize| get(cols.required[k]);

    let id = req(0).to_string();
    if id.is_empty() {
        bad("pupil_id", "the pupil id is empty".into());
    } else if id.chars().count() > 40 {
        bad(
            "pupil_id",
            "the pupil id is longer than 40 characters".into(),
        );
    }
    let urn = match req(1).parse::<u32>() {
        Ok(u) if (100_000..=999_999).contains(&u) => u,
        _ => {
            bad("urn", format!("{:?} is not a URN (six digits)", req(1)));
            0
        }
    };
    let year = match req(2).parse::<i32>() {
        Ok(y) if (2000..=2100).contains(&y) => y,
        _ => {
            bad(
                "year",
                format!(
                    "{:?} is not a results year (the calendar year of the summer, e.g. 2019)",
                    req(2)
                ),
            );
            0
        }
    };
    let key_stage = match req(3).to_ascii_uppercase().as_str() {
        "KS1" | "1" => Some(KeyStage::Ks1),
        "KS2" | "2" => Some(KeyStage::Ks2),
        "KS4" | "4" => Some(KeyStage::Ks4),
        other => {
            bad(
                "key_stage",
                format!("{other:?} is not a key stage (KS1, KS2 or KS4)"),
            );
            None
        }
    };
    let boy = match req(4).to_ascii_uppercase().as_str() {
        "M" | "B" => true,
        "F" | "G" => false,
        other => {
            bad("gender", format!("{other:?} is not a gender code (M or F)"));
            false
        }
    };
    let mut flag = |k: usize, name: &str| match req(k).to_ascii_uppercase().as_str() {
        "Y" | "1" | "TRUE" => true,
        "N" | "0" | "FALSE" => false,
        other => {
            errs.push(IngestError::at(
                path,
                row.line,
                Some(name),
                format!("{other:?} is not Y or N"),
            ));
            false
        }
    };
    let disadvantaged = flag(5, "disadvantaged");
    let fsm = flag(6, "fsm");
    let lac = flag(7, "lac");
    let eal = flag(9, "eal");
    let mut bad =
        |col: &str, msg: String| errs.push(IngestError::at(path, row.line, Some(col), msg));
    let sen = match req(8).to_ascii_uppercase().as_str() {
        "N" | "" => Sen::None,
        "K" => Sen::Support,
        "E" | "S" => Sen::Ehcp,
        other => {
            bad(
                "sen",
                format!(
                    "{other:?} is not a SEN provision code (N none, K SEN support, E EHC plan)"
                ),
            );
            Sen::None
        }
    };
    let ethnicity = {
        let code = req(10).to_ascii_uppercase();
        if code.is_empty() {
            Ethnicity::Unclassified
        } else if let Some((_, e)) = Ethnicity::CODES.iter().find(|(c, _)| *c == code) {
            *e
        } else {
            bad(
                "ethnicity",
                format!(
                    "{code:?} is not a major ethnic group code ({})",
                    Ethnicity::CODES
                        .iter()
                        .map(|c| c.0)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            );
            Ethnicity::Unclassified
        }
    };
    if (fsm || lac) && !disadvantaged {
        bad(
            "disadvantaged",
            format!(
                "disadvantaged is N but {} is Y: disadvantaged pupils include every pupil with \
            FSM in the last 6 years or looked after",
                if fsm { "fsm" } else { "lac" }
            ),
        );
    }

    let mut p = Pupil {
        id,
        urn,
        year,
        key_stage: key_stage.unwrap_or(KeyStage::Ks2),
        boy,
        disadvantaged,
        fsm,
        lac,
        sen,
        eal,
        ethnicity,
        ks1_aps: None,
        reading: None,
        maths: None,
        gps: None,
        writing: None,
        ks1_reading: None,
        ks1_writing: None,
        ks1_maths: None,
        phonics: None,
        att8: None,
        english_grade: None,
        maths_grade: None,
        source: (file, row.line),
    };
    for &(name, i) in &cols.optional {
        let raw = get(i);
        if raw.is_empty() {
            continue;
        }
        if let (Some(ks), Some(stage)) = (key_stage, stage_of(name)) {
            if ks != stage {
                bad(
                    name,
                    format!(
                        "{name} is a {} column but this is a {} row",
                        stage.as_str(),
                        ks.as_str()
                    ),
                );
                continue;
            }
        }
        let result = match name {
            "ks1_aps" => parse_range(raw, 3.0, 27.0, "a KS1 average point score (3-27)")
                .map(|v| p.ks1_aps = Some(v)),
            "ks2_reading" => parse_test(raw).map(|v| p.reading = Some(v)),
            "ks2_maths" => parse_test(raw).map(|v| p.maths = Some(v)),
            "ks2_gps" => parse_test(raw).map(|v| p.gps = Some(v)),
            "ks2_writing" => parse_ta(raw).map(|v| p.writing = Some(v)),
            "ks1_reading" => parse_ta(raw).map(|v| p.ks1_reading = Some(v)),
            "ks1_writing" => parse_ta(raw).map(|v| p.ks1_writing = Some(v)),
            "ks1_maths" => parse_ta(raw).map(|v| p.ks1_maths = Some(v)),
            "phonics" => parse_phonics(raw).map(|v| p.phonics = Some(v)),
            "att8" => parse_range(raw, 0.0, 90.0, "an Attainment 8 score (0-90)")
                .map(|v| p.att8 = Some(v)),
            "english_grade" => parse_grade(raw).map(|v| p.english_grade = Some(v)),
            "maths_grade" => parse_grade(raw).map(|v| p.maths_grade = Some(v)),
            _ => Ok(()),
        };
        if let Err(msg) = result {
            bad(name, format!("{raw:?} is not {msg}"));
        }
    }
    if errs.is_empty() {
        Ok(p)
    } else {
        Err(errs)
    }
}

fn parse_range(raw: &str, lo: f64, hi: f64, what: &str) -> Result<f64, String> {
    match raw.parse::<f64>() {
        Ok(v) if v.is_finite() && (lo..=hi).contains(&v) => Ok(v),
        _ => Err(what.to_string()),
    }
}

fn parse_test(raw: &str) -> Result<Test, String> {
    let what = "a scaled score (80-120) or a code (A absent, B working below the test standard, M missing, T unable \
        to access, U annulled)";
    if let Ok(s) = raw.parse::<u8>() {
        return if (80..=120).contains(&s) {
            Ok(Test::Score(s))
        } else {
            Err(what.into())
        };
    }
    let up = raw.to_ascii_uppercase();
    match up.as_bytes() {
        [c] if Test::CODES.contains(c) => Ok(Test::Code(*c)),
        _ => Err(what.into()),
    }
}

fn parse_ta(raw: &str) -> Result<&'static str, String> {
    let up = raw.to_ascii_uppercase();
    TA_CODES
        .iter()
        .find(|c| **c == up)
        .copied()
        .ok_or_else(|| format!("a teacher assessment code ({})", TA_CODES.join(", ")))
}

fn parse_phonics(raw: &str) -> Result<Phonics, String> {
    let what = "a phonics mark (0-40), A (absent) or D (disapplied)";
    match raw.to_ascii_uppercase().as_str() {
        "A" => Ok(Phonics::Absent),
        "D" => Ok(Phonics::Disapplied),
        s => match s.parse::<u8>() {
            Ok(m) if m <= 40 => Ok(Phonics::Mark(m)),
            _ => Err(what.into()),
        },
    }
}

fn parse_grade(raw: &str) -> Result<Grade, String> {
    match raw.to_ascii_uppercase().as_str() {
        "U" | "X" => Ok(None),
        s => match s.parse::<u8>() {
            Ok(g) if (1..=9).contains(&g) => Ok(Some(g)),
            _ => Err("a GCSE grade (9-1, U ungraded, X absent)".into()),
        },
    }
}
