//! The demo dataset: a deterministic synthetic world written in the formats of the
//! real DfE and Ofsted files (same column names and order, record types, status tokens,
//! byte-order marks, CRLF line ends and ragged rows), so that a new user can run every
//! job with no downloads. Nothing in it is real. The ingester does not know it exists.
//!
//! The world: about 150 fictional LAs (codes 601-750, never used by real LAs) in the nine
//! English regions, one of them Borsetshire (650); about 20,000 schools with a lasting
//! quality and context (disadvantage, EAL, SEN); three years of results, 2016/17 to 2018/19.
//! Results are simulated pupil by pupil and published figures are built from those pupils,
//! so the demo LA's pupil-level files agree with its school, LA and looked-after figures.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::value::round_half_away;

pub struct DemoOptions {
    pub out_dir: PathBuf,
    pub seed: u64,
    pub schools: usize,
    pub las: usize,
}

impl Default for DemoOptions {
    fn default() -> Self {
        DemoOptions {
            out_dir: "data/demo".into(),
            seed: 20190701,
            schools: 20_000,
            las: 150,
        }
    }
}

pub struct DemoSummary {
    pub files: Vec<PathBuf>,
    pub schools: usize,
    pub las: usize,
    pub demo_la_code: String,
    pub demo_la_name: String,
}

pub const DEMO_LA_CODE: &str = "650";
pub const DEMO_LA_NAME: &str = "Borsetshire";
pub const YEARS: [i32; 3] = [2017, 2018, 2019];

/// SplitMix64: small, fast and the same on every machine.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub(crate) fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn normal(&mut self) -> f64 {
        let (u, v) = (self.unit().max(1e-12), self.unit());
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }
    fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + (self.next() % (hi - lo + 1) as u64) as usize
    }
    fn pick<'a>(&mut self, items: &'a [&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }
}

fn logistic(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

const REGIONS: [(&str, &str); 9] = [
    ("1", "North East"),
    ("2", "North West"),
    ("3", "Yorkshire and the Humber"),
    ("4", "East Midlands"),
    ("5", "West Midlands"),
    ("6", "East of England"),
    ("7", "London"),
    ("8", "South East"),
    ("9", "South West"),
];

struct La {
    code: String,
    name: String,
    region: usize,
    effect: f64,
    fsm: f64,
    eal: f64,
}

#[derive(Clone, Copy, PartialEq)]
enum Phase {
    Primary,
    Secondary,
    Special,
}

struct School {
    urn: u32,
    estab: u32,
    la: usize,
    name: String,
    phase: Phase,
    nftype: &'static str,
    effect: f64,
    fsm: f64,
    eal: f64,
    sen: f64,
    size: usize,
    town: String,
    opened: i32,
}

fn make_world(opts: &DemoOptions, rng: &mut Rng) -> (Vec<La>, Vec<School>) {
    let first = [
        "Ash", "Bar", "Brook", "Cal", "Dun", "Elm", "Fen", "Glen", "Hart", "Ivy", "Kes", "Lang",
        "Mar", "Nor", "Oak", "Pen", "Quar", "Rad", "Sel", "Thorn", "Ux", "Vale", "Wes", "Yar",
    ];
    let second = [
        "ford", "ton", "by", "ham", "wick", "mere", "field", "stow", "bury", "leigh", "worth",
        "dale",
    ];
    let suffix = ["shire", "", " Borough", " City", "", "shire"];
    let mut las = Vec::new();
    let mut used = std::collections::BTreeSet::new();
    let n_las = opts.las.max(12);
    // Borsetshire is always in the world, with code 650 (the 50th LA of a full-size world).
    let demo_index = 49.min(n_las - 1);
    for i in 0..n_las {
        let code = if i == demo_index { 650 } else { 601 + i as u32 };
        let name = if code == 650 {
            DEMO_LA_NAME.to_string()
        } else {
            loop {
                let n = format!(
                    "{}{}{}",
                    rng.pick(&first),
                    rng.pick(&second),
                    rng.pick(&suffix)
                );
                if n != DEMO_LA_NAME && used.insert(n.clone()) {
                    break n;
                }
            }
        };
        let region = if code == 650 { 4 } else { i % 9 };
        las.push(La {
            code: code.to_string(),
            name,
            region,
            effect: 0.25 * rng.normal(),
            fsm: (0.24 + 0.08 * rng.normal()).clamp(0.06, 0.5),
            eal: (0.15 + 0.12 * rng.normal()).clamp(0.01, 0.7),
        });
    }
    let demo = las.iter().position(|l| l.code == DEMO_LA_CODE).unwrap();
    let towns = [
        "Ambridge",
        "Borchester",
        "Felpersham",
        "Hollerton",
        "Penny Hassett",
        "Loxley Barrett",
        "Edgeley",
        "Darrington",
        "Waterley Cross",
        "Lakey Green",
    ];
    let saints = [
        "St Mary",
        "St John",
        "St Peter",
        "St Paul",
        "St Anne",
        "All Saints",
        "Holy Trinity",
        "St Michael",
    ];
    let kinds = [
        "Primary School",
        "Church of England Primary School",
        "Infant and Junior School",
        "Community Primary School",
        "Junior School",
    ];
    let mut schools = Vec::new();
    let per_la = opts.schools / n_las;
    let mut urn = 100_000u32;
    for (li, la) in las.iter().enumerate() {
        let count = if li == demo { per_la.max(20) } else { per_la };
        for k in 0..count {
            let phase = match k % 100 {
                0..=79 => Phase::Primary,
                80..=96 => Phase::Secondary,
                _ => Phase::Special,
            };
            let town = if li == demo {
                towns[k % towns.len()].to_string()
            } else {
                format!(
                    "{} {}",
                    la.name.trim_end_matches("shire"),
                    ["North", "South", "East", "West", "Central"][k % 5]
                )
            };
            let name = match (li == demo, k, phase) {
                (true, 3, _) => "St Mary & St John CE Primary School".to_string(),
                (true, 5, _) => "St Peter's Catholic Primary School".to_string(),
                (_, _, Phase::Primary) => format!(
                    "{} {}",
                    if k % 3 == 0 {
                        rng.pick(&saints).to_string()
                    } else {
                        town.clone()
                    },
                    rng.pick(&kinds)
                ),
                (_, _, Phase::Secondary) => format!(
                    "{} {}",
                    town,
                    ["Academy", "High School", "School", "Community College"][k % 4]
                ),
                (_, _, Phase::Special) => format!("{} Special School", town),
            };
            let maintained = match phase {
                Phase::Primary => rng.unit() < 0.6,
                Phase::Secondary => rng.unit() < 0.25,
                Phase::Special => rng.unit() < 0.5,
            };
            let nftype = match (phase, maintained) {
                (Phase::Special, true) => "CYS",
                (Phase::Special, false) => "ACS",
                (_, true) => ["CY", "CY", "VA", "VC", "FD"][rng.range(0, 4)],
                (_, false) => ["ACC", "ACC", "AC", "F"][rng.range(0, 3)],
            };
            let size = match phase {
                Phase::Primary => rng.range(8, 90),
                Phase::Secondary => rng.range(60, 300),
                Phase::Special => rng.range(5, 15),
            };
            urn += 1 + (rng.next() % 3) as u32;
            schools.push(School {
                urn,
                estab: 2000
                    + k as u32 * 3 % 7000
                    + if phase == Phase::Secondary { 2000 } else { 0 },
                la: li,
                name,
                phase,
                nftype,
                effect: 0.45 * rng.normal(),
                fsm: (la.fsm + 0.1 * rng.normal()).clamp(0.01, 0.8),
                eal: (la.eal + 0.1 * rng.normal()).clamp(0.0, 0.95),
                sen: (0.13 + 0.04 * rng.normal()).clamp(0.02, 0.4),
                size,
                town,
                opened: if rng.unit() < 0.02 { 2019 } else { 2000 },
            });
        }
    }
    (las, schools)
}

/// A group's count and successes: published as a percentage, or SUPP when 1-5 pupils.
#[derive(Clone, Copy, Default)]
struct Tally {
    n: usize,
    k: f64,
}

impl Tally {
    fn pct(&self) -> String {
        match self.n {
            0 => String::new(),
            1..=5 => "SUPP".into(),
            n => format!("{}%", round_half_away(100.0 * self.k / n as f64, 0)),
        }
    }
    fn avg(&self, dps: u32) -> String {
        match self.n {
            0 => String::new(),
            1..=5 => "SUPP".into(),
            n => fmt_num(round_half_away(self.k / n as f64, dps), dps),
        }
    }
    fn add(&mut self, o: Tally) {
        self.n += o.n;
        self.k += o.k;
    }
}

fn fmt_num(v: f64, dps: u32) -> String {
    let s = format!("{:.*}", dps as usize, v);
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// CSV cell: quoted when it holds a comma or quote.
fn q(s: &str) -> String {
    if s.contains([',', '"']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// Write a performance-tables style row: trailing empty fields omitted, as DfE's files do.
fn push_row(out: &mut String, cells: &[String], eol: &str) {
    let last = cells
        .iter()
        .rposition(|c| !c.is_empty())
        .map(|i| i + 1)
        .unwrap_or(0);
    out.push_str(&cells[..last].join(","));
    out.push_str(eol);
}

fn write_file(dir: &Path, rel: &str, bytes: &[u8], files: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    let path = dir.join(rel);
    crate::atomic::write_atomic(&path, bytes)?;
    files.push(path);
    Ok(())
}

fn folder(year: i32) -> String {
    format!("{}-{}", year - 1, year)
}

const KS2_COLS: &[&str] = &[
    "RECTYPE",
    "LEA",
    "ESTAB",
    "URN",
    "SCHNAME",
    "TOWN",
    "NFTYPE",
    "TELIG",
    "BELIG",
    "GELIG",
    "TFSM6CLA1A",
    "PTFSM6CLA1A",
    "TNotFSM6CLA1A",
    "PTNotFSM6CLA1A",
    "TEALGRP2",
    "PTEALGRP2",
    "PTRWM_EXP",
    "PTRWM_HIGH",
    "READPROG",
    "READPROG_LOWER",
    "READPROG_UPPER",
    "WRITPROG",
    "WRITPROG_LOWER",
    "WRITPROG_UPPER",
    "MATPROG",
    "MATPROG_LOWER",
    "MATPROG_UPPER",
    "PTREAD_EXP",
    "READ_AVERAGE",
    "PTGPS_EXP",
    "GPS_AVERAGE",
    "PTMAT_EXP",
    "MAT_AVERAGE",
    "PTWRITTA_EXP",
    "PTRWM_EXP_B",
    "PTRWM_EXP_G",
    "PTRWM_EXP_FSM6CLA1A",
    "PTRWM_EXP_NotFSM6CLA1A",
    "DIFFN_RWM_EXP",
    "PTRWM_EXP_EAL",
    "TELIG_{p}",
    "PTRWM_EXP_{p}",
];

const KS4_COLS: &[&str] = &[
    "RECTYPE",
    "LEA",
    "ESTAB",
    "URN",
    "SCHNAME",
    "TOWN",
    "NFTYPE",
    "TOTPUPS",
    "TPUP",
    "TFSM6CLA1A",
    "PTFSM6CLA1A",
    "TNOTFSM6CLA1A",
    "TOTATT8",
    "ATT8SCR",
    "P8PUP",
    "P8MEA",
    "P8CILOW",
    "P8CIUPP",
    "PTL2BASICS_94",
    "PTL2BASICS_95",
    "EBACCAPS",
    "PTEBACC_E_PTQ_EE",
    "ATT8SCR_FSM6CLA1A",
    "ATT8SCR_NFSM6CLA1A",
    "ATT8SCR_GIRLS",
    "ATT8SCR_BOYS",
    "PTFSM6CLA1ABASICS_95",
    "PTNOTFSM6CLA1ABASICS_95",
    "ATT8SCR_{p}",
    "P8MEA_{p}",
];

/// One school's pupils in one year, and what they achieved.
struct Ks2 {
    all: Tally,
    boys: Tally,
    girls: Tally,
    dis: Tally,
    other: Tally,
    eal: Tally,
    lac: Tally,
    high: Tally,
    read: Tally,
    writ: Tally,
    mat: Tally,
    gps: Tally,
    read_score: Tally,
    mat_score: Tally,
    gps_score: Tally,
    /// Mean progress (reading, writing, maths) and the half-width of its 95% interval.
    prog: [Option<(f64, f64)>; 3],
}

impl Ks2 {
    fn empty() -> Ks2 {
        Ks2 {
            all: Tally::default(),
            boys: Tally::default(),
            girls: Tally::default(),
            dis: Tally::default(),
            other: Tally::default(),
            eal: Tally::default(),
            lac: Tally::default(),
            high: Tally::default(),
            read: Tally::default(),
            writ: Tally::default(),
            mat: Tally::default(),
            gps: Tally::default(),
            read_score: Tally::default(),
            mat_score: Tally::default(),
            gps_score: Tally::default(),
            prog: [None; 3],
        }
    }
    fn add(&mut self, t: &Ks2) {
        for (x, y) in [
            (&mut self.all, t.all),
            (&mut self.boys, t.boys),
            (&mut self.girls, t.girls),
            (&mut self.dis, t.dis),
            (&mut self.other, t.other),
            (&mut self.eal, t.eal),
            (&mut self.lac, t.lac),
            (&mut self.high, t.high),
            (&mut self.read, t.read),
            (&mut self.writ, t.writ),
            (&mut self.mat, t.mat),
            (&mut self.gps, t.gps),
            (&mut self.read_score, t.read_score),
            (&mut self.mat_score, t.mat_score),
            (&mut self.gps_score, t.gps_score),
        ] {
            x.add(y);
        }
    }
}

/// A simulated pupil's characteristics (written to the demo LA's pupil-level files).
#[derive(Clone)]
struct Context {
    boy: bool,
    dis: bool,
    fsm: bool,
    lac: bool,
    eal: bool,
    /// N none, K SEN support, E EHC plan.
    sen: char,
    ethnicity: &'static str,
}

impl Context {
    fn draw(s: &School, rng: &mut Rng) -> Context {
        let lac = rng.unit() < 0.007;
        let fsm = rng.unit() < s.fsm * 1.3 || (lac && rng.unit() < 0.4);
        let dis = fsm || lac;
        let boy = rng.unit() < 0.51;
        let eal = rng.unit() < s.eal;
        let u = rng.unit();
        let sen = if s.phase == Phase::Special || u < 0.017 {
            'E'
        } else if u < 0.017 + s.sen {
            'K'
        } else {
            'N'
        };
        let e = rng.unit();
        let ethnicity = if eal {
            [
                "ASIA", "ASIA", "ASIA", "BLAC", "WHIT", "WHIT", "AOEG", "CHIN", "MIXD", "ASIA",
            ][(e * 10.0) as usize]
        } else if e < 0.84 {
            "WHIT"
        } else {
            ["MIXD", "MIXD", "BLAC", "ASIA", "UNCL", "AOEG"][((e - 0.84) / 0.16 * 6.0) as usize % 6]
        };
        Context {
            boy,
            dis,
            fsm,
            lac,
            eal,
            sen,
            ethnicity,
        }
    }
    /// How much lower a pupil's attainment tends to be, on the latent ability scale.
    fn penalty(&self, dis_effect: f64) -> f64 {
        (if self.dis { dis_effect } else { 0.0 })
            + if self.lac { 0.5 } else { 0.0 }
            + match self.sen {
                'K' => 0.8,
                'E' => 1.8,
                _ => 0.0,
            }
    }
    fn cells(&self) -> [String; 7] {
        let yn = |b: bool| if b { "Y" } else { "N" }.to_string();
        [
            if self.boy { "M" } else { "F" }.into(),
            yn(self.dis),
            yn(self.fsm),
            yn(self.lac),
            self.sen.to_string(),
            yn(self.eal),
            self.ethnicity.into(),
        ]
    }
}

/// A KS2 pupil: test outcomes are a scaled score or a code (A absent, B below the test standard).
#[derive(Clone)]
struct Ks2Pupil {
    ctx: Context,
    aps: Option<f64>,
    tests: [Result<u8, char>; 3],
    writing: &'static str,
}

impl Ks2Pupil {
    fn at(&self, i: usize, score: u8) -> bool {
        matches!(self.tests[i], Ok(s) if s >= score)
    }
    fn rwm(&self) -> bool {
        self.at(READ, 100) && self.at(MATHS, 100) && matches!(self.writing, "EXS" | "GDS")
    }
    fn high(&self) -> bool {
        self.at(READ, 110) && self.at(MATHS, 110) && self.writing == "GDS"
    }
    /// The scores progress is measured on: reading, writing (its nominal score), maths.
    fn progress_scores(
        &self,
        nominal: &std::collections::BTreeMap<String, f64>,
    ) -> [Option<f64>; 3] {
        [
            self.tests[READ].ok().map(f64::from),
            nominal.get(self.writing).copied(),
            self.tests[MATHS].ok().map(f64::from),
        ]
    }
}

const READ: usize = 0;
const MATHS: usize = 1;
const GPS: usize = 2;

fn simulate_ks2(s: &School, la: &La, year: i32, rng: &mut Rng) -> Vec<Ks2Pupil> {
    let n = (s.size as f64 * (1.0 + 0.1 * rng.normal()))
        .round()
        .max(5.0) as usize;
    let trend = 0.08 * (year - 2017) as f64;
    let base =
        0.55 + s.effect + la.effect + trend + if s.phase == Phase::Special { -2.0 } else { 0.0 };
    (0..n)
        .map(|_| {
            let ctx = Context::draw(s, rng);
            let ability =
                base + 0.9 * rng.normal() - ctx.penalty(0.95) - if ctx.boy { 0.2 } else { 0.0 };
            let aps = (rng.unit() > 0.05).then(|| {
                round_half_away(
                    (15.5 + 3.0 * (ability - 0.2) + 1.5 * rng.normal()).clamp(3.0, 27.0),
                    1,
                )
            });
            let mut test = |centre: f64| -> Result<u8, char> {
                let score = centre + 5.5 * ability + 3.0 * rng.normal();
                if rng.unit() < 0.01 {
                    Err('A')
                } else if ability < -2.6 {
                    Err('B')
                } else {
                    Ok(score.round().clamp(80.0, 120.0) as u8)
                }
            };
            // Calibrated to roughly the national picture of 2019: about 80% reach the
            // expected standard in each subject, about 65% in all three, about 10% higher.
            let tests = [test(103.5), test(103.5), test(104.2)];
            let w = ability + 0.8 * rng.normal();
            let writing = if w > 1.3 {
                "GDS"
            } else if w > -0.75 {
                "EXS"
            } else if w > -2.0 {
                "WTS"
            } else if w > -2.6 {
                "PKF"
            } else {
                "BLW"
            };
            Ks2Pupil {
                ctx,
                aps,
                tests,
                writing,
            }
        })
        .collect()
}

/// National mean outcomes of each KS1 prior-attainment group (one point of KS1 APS wide),
/// the input DfE publishes for progress: (from, to, [reading, writing nominal, maths]).
fn prior_means(
    pupils: &[&Ks2Pupil],
    nominal: &std::collections::BTreeMap<String, f64>,
) -> Vec<(f64, f64, [f64; 3])> {
    let mut sums = vec![([0.0f64; 3], [0usize; 3]); 25];
    for p in pupils {
        let Some(a) = p.aps else { continue };
        let b = ((a - 3.0).floor() as usize).min(24);
        for (k, v) in p.progress_scores(nominal).into_iter().enumerate() {
            if let Some(v) = v {
                sums[b].0[k] += v;
                sums[b].1[k] += 1;
            }
        }
    }
    sums.iter()
        .enumerate()
        .map(|(b, (s, n))| {
            let lo = 3.0 + b as f64;
            let hi = if b == 24 { 28.0 } else { lo + 1.0 };
            (
                lo,
                hi,
                [0, 1, 2].map(|k| {
                    if n[k] > 0 {
                        round_half_away(s[k] / n[k] as f64, 2)
                    } else {
                        100.0
                    }
                }),
            )
        })
        .collect()
}

/// A school's published KS2 figures, built from its pupils.
fn tally_ks2(
    pupils: &[Ks2Pupil],
    means: &crate::analysis::pupils::PriorMeans,
    year: i32,
    nominal: &std::collections::BTreeMap<String, f64>,
    sd: [f64; 3],
) -> Ks2 {
    let mut t = Ks2::empty();
    let flag = |b: bool| Tally {
        n: 1,
        k: if b { 1.0 } else { 0.0 },
    };
    let mut prog = [(0.0f64, 0usize); 3];
    for p in pupils {
        let one = flag(p.rwm());
        t.all.add(one);
        if p.ctx.boy {
            t.boys.add(one)
        } else {
            t.girls.add(one)
        }
        if p.ctx.dis {
            t.dis.add(one)
        } else {
            t.other.add(one)
        }
        if p.ctx.eal {
            t.eal.add(one)
        }
        if p.ctx.lac {
            t.lac.add(one)
        }
        t.high.add(flag(p.high()));
        t.read.add(flag(p.at(READ, 100)));
        t.mat.add(flag(p.at(MATHS, 100)));
        t.gps.add(flag(p.at(GPS, 100)));
        t.writ.add(flag(matches!(p.writing, "EXS" | "GDS")));
        for (i, acc) in [
            (READ, &mut t.read_score),
            (MATHS, &mut t.mat_score),
            (GPS, &mut t.gps_score),
        ] {
            if let Ok(s) = p.tests[i] {
                acc.add(Tally { n: 1, k: s as f64 });
            }
        }
        if let Some(band) = p.aps.and_then(|a| means.band_means(year, a)) {
            for (k, v) in p.progress_scores(nominal).into_iter().enumerate() {
                if let Some(v) = v {
                    prog[k].0 += v - band[k];
                    prog[k].1 += 1;
                }
            }
        }
    }
    t.prog = [0, 1, 2].map(|k| {
        (prog[k].1 > 0).then(|| {
            (
                prog[k].0 / prog[k].1 as f64,
                1.96 * sd[k] / (prog[k].1 as f64).sqrt(),
            )
        })
    });
    t
}

const PUPIL_HEADER: &str =
    "pupil_id,urn,year,key_stage,gender,disadvantaged,fsm,lac,sen,eal,ethnicity";

/// Synthetic pupil ids: nothing like a UPN (a letter and 12 digits), unique per key stage and year.
fn pupil_id(urn: u32, year: i32, ks: u8, k: usize) -> String {
    format!("DEMO-{urn}-{}-{ks}-{k:03}", year % 100)
}

fn writing_nominal() -> std::collections::BTreeMap<String, f64> {
    crate::analysis::pupils::builtin_nominal()
        .into_values()
        .next_back()
        .unwrap_or_default()
}

/// National standard deviation of pupil progress (reading, writing, maths), for the
/// published confidence intervals (DfE's method: 1.96 x national SD / sqrt(pupils)).
fn progress_sd(
    pupils: &[&Ks2Pupil],
    means: &crate::analysis::pupils::PriorMeans,
    year: i32,
    nominal: &std::collections::BTreeMap<String, f64>,
) -> [f64; 3] {
    let mut acc = [(0.0f64, 0.0f64, 0usize); 3];
    for p in pupils {
        let Some(band) = p.aps.and_then(|a| means.band_means(year, a)) else {
            continue;
        };
        for (k, v) in p.progress_scores(nominal).into_iter().enumerate() {
            if let Some(v) = v {
                let d = v - band[k];
                acc[k].0 += d;
                acc[k].1 += d * d;
                acc[k].2 += 1;
            }
        }
    }
    acc.map(|(s, ss, n)| {
        if n > 1 {
            ((ss - s * s / n as f64) / (n as f64 - 1.0)).sqrt()
        } else {
            0.0
        }
    })
}

/// KS1 teacher assessments and the phonics mark for one school's Year 2 (demo LA only;
/// its own stream of random numbers, so the national files do not depend on it).
fn simulate_ks1(s: &School, la: &La, year: i32, seed: u64) -> Vec<String> {
    let mut rng = Rng(seed ^ (s.urn as u64).wrapping_mul(0x9E37_79B9) ^ (year as u64) << 40);
    let n = (s.size as f64 * (1.0 + 0.1 * rng.normal()))
        .round()
        .max(5.0) as usize;
    let base = 0.9
        + s.effect
        + la.effect
        + 0.05 * (year - 2017) as f64
        + if s.phase == Phase::Special { -2.0 } else { 0.0 };
    (0..n)
        .map(|_| {
            let ctx = Context::draw(s, &mut rng);
            let ability =
                base + 0.9 * rng.normal() - ctx.penalty(0.8) - if ctx.boy { 0.2 } else { 0.0 };
            let mut ta = |shift: f64| {
                let w = ability + shift + 0.8 * rng.normal();
                if rng.unit() < 0.005 {
                    "A"
                } else if w > 1.7 {
                    "GDS"
                } else if w > -0.3 {
                    "EXS"
                } else if w > -2.0 {
                    "WTS"
                } else if w > -2.6 {
                    "PKF"
                } else {
                    "BLW"
                }
            };
            let (r, w, m) = (ta(0.1), ta(-0.15), ta(0.1));
            let mark = (33.0 + 6.0 * ability + 3.0 * rng.normal())
                .round()
                .clamp(0.0, 40.0) as u8;
            let phonics = if rng.unit() < 0.01 {
                "A".to_string()
            } else if ability < -2.8 {
                "D".to_string()
            } else {
                mark.to_string()
            };
            format!("{},{r},{w},{m},{phonics}", ctx.cells().join(","))
        })
        .collect()
}

fn write_prior_means(
    dir: &Path,
    bands: &std::collections::BTreeMap<i32, Vec<(f64, f64, [f64; 3])>>,
    files: &mut Vec<PathBuf>,
) -> anyhow::Result<()> {
    let mut out = String::from("year,ks1_aps_from,ks1_aps_to,reading,writing,maths\n");
    for (year, bs) in bands {
        for (lo, hi, m) in bs {
            let _ = writeln!(
                out,
                "{year},{},{},{},{},{}",
                fmt_num(*lo, 1),
                fmt_num(*hi, 1),
                fmt_num(m[0], 2),
                fmt_num(m[1], 2),
                fmt_num(m[2], 2)
            );
        }
    }
    write_file(
        dir,
        "national/ks2_prior_attainment_means.csv",
        out.as_bytes(),
        files,
    )
}

fn ks2_cells(
    code_cells: [String; 7],
    t: &Ks2,
    nat_other_pct: f64,
    prior: Option<(usize, String)>,
    with_progress: bool,
) -> Vec<String> {
    let n = t.all.n;
    let pc = |k: usize| {
        if n == 0 {
            String::new()
        } else {
            fmt_num(round_half_away(100.0 * k as f64 / n as f64, 0), 0)
        }
    };
    let mut c: Vec<String> = code_cells.to_vec();
    c.extend([
        n.to_string(),
        t.boys.n.to_string(),
        t.girls.n.to_string(),
        t.dis.n.to_string(),
        pc(t.dis.n),
        t.other.n.to_string(),
        pc(t.other.n),
        t.eal.n.to_string(),
        pc(t.eal.n),
    ]);
    c.extend([t.all.pct(), t.high.pct()]);
    for p in t.prog {
        match p {
            _ if !with_progress => c.extend([String::new(), String::new(), String::new()]),
            _ if n <= 5 => c.extend(["SUPP".into(), "SUPP".into(), "SUPP".into()]),
            None => c.extend(["LOWCOV".into(), String::new(), String::new()]),
            Some((v, half)) => {
                let (v, half) = (round_half_away(v, 1), round_half_away(half, 1));
                c.extend([
                    fmt_num(v, 1),
                    fmt_num(round_half_away(v - half, 1), 1),
                    fmt_num(round_half_away(v + half, 1), 1),
                ]);
            }
        }
    }
    c.extend([
        t.read.pct(),
        t.read_score.avg(0),
        t.gps.pct(),
        t.gps_score.avg(0),
        t.mat.pct(),
        t.mat_score.avg(0),
        t.writ.pct(),
    ]);
    c.extend([t.boys.pct(), t.girls.pct(), t.dis.pct(), t.other.pct()]);
    c.push(match t.dis.n {
        0 => String::new(),
        1..=5 => "SUPP".into(),
        d => fmt_num(
            round_half_away(100.0 * t.dis.k / d as f64 - nat_other_pct, 0),
            0,
        ),
    });
    c.push(t.eal.pct());
    match prior {
        Some((n, pct)) => c.extend([n.to_string(), pct]),
        None => c.extend([String::new(), String::new()]),
    }
    c
}

struct Ks4 {
    pupils: usize,
    dis: Tally,
    other: Tally,
    girls: Tally,
    boys: Tally,
    att8: Tally,
    em5: Tally,
    em4: Tally,
    ebacc: Tally,
    entry: Tally,
    dis_em5: Tally,
    other_em5: Tally,
    p8: f64,
}

/// A KS4 pupil: Attainment 8 and the English and maths grades (None = U).
struct Ks4Pupil {
    ctx: Context,
    att8: f64,
    english: Option<u8>,
    maths: Option<u8>,
}

fn simulate_ks4(s: &School, la: &La, year: i32, rng: &mut Rng) -> (Ks4, Vec<Ks4Pupil>) {
    let n = (s.size as f64 * (1.0 + 0.08 * rng.normal()))
        .round()
        .max(5.0) as usize;
    let base = s.effect
        + la.effect
        + 0.03 * (year - 2017) as f64
        + if s.phase == Phase::Special { -2.5 } else { 0.0 };
    let mut t = Ks4 {
        pupils: n,
        dis: Tally::default(),
        other: Tally::default(),
        girls: Tally::default(),
        boys: Tally::default(),
        att8: Tally::default(),
        em5: Tally::default(),
        em4: Tally::default(),
        ebacc: Tally::default(),
        entry: Tally::default(),
        dis_em5: Tally::default(),
        other_em5: Tally::default(),
        p8: 0.0,
    };
    let mut pupils = Vec::with_capacity(n);
    for _ in 0..n {
        let ctx = Context::draw(s, rng);
        let (dis, boy) = (ctx.dis, ctx.boy);
        let ability = base + 0.9 * rng.normal() - ctx.penalty(0.8)
            + if ctx.sen != 'N' { 0.5 } else { 0.0 }
            - if boy { 0.15 } else { 0.0 };
        // Attainment 8 to two decimals, as in the pupil files.
        let a8 = round_half_away(
            (47.5 + 13.0 * ability + 4.0 * rng.normal()).clamp(0.0, 90.0),
            2,
        );
        let a8t = Tally { n: 1, k: a8 };
        t.att8.add(a8t);
        if dis {
            t.dis.add(a8t)
        } else {
            t.other.add(a8t)
        }
        if boy {
            t.boys.add(a8t)
        } else {
            t.girls.add(a8t)
        }
        let mut grade = |centre: f64| {
            let g = centre + 1.5 * ability + 0.8 * rng.normal();
            (g >= 0.5).then(|| g.round().clamp(1.0, 9.0) as u8)
        };
        let (english, maths) = (grade(5.2), grade(5.0));
        let both = |at: u8| {
            if english.is_some_and(|g| g >= at) && maths.is_some_and(|g| g >= at) {
                1.0
            } else {
                0.0
            }
        };
        let em5 = both(5);
        t.em5.add(Tally { n: 1, k: em5 });
        if dis {
            t.dis_em5.add(Tally { n: 1, k: em5 })
        } else {
            t.other_em5.add(Tally { n: 1, k: em5 })
        }
        t.em4.add(Tally { n: 1, k: both(4) });
        t.ebacc.add(Tally {
            n: 1,
            k: (a8 / 11.5).clamp(0.0, 9.0),
        });
        t.entry.add(Tally {
            n: 1,
            k: if rng.unit() < logistic(ability - 0.9) {
                1.0
            } else {
                0.0
            },
        });
        pupils.push(Ks4Pupil {
            ctx,
            att8: a8,
            english,
            maths,
        });
    }
    t.p8 = round_half_away(
        0.9 * (s.effect + la.effect) + 1.2 * rng.normal() / (n as f64).sqrt(),
        2,
    );
    (t, pupils)
}

fn ks4_cells(code_cells: [String; 7], t: &Ks4, prior: Option<(String, String)>) -> Vec<String> {
    let n = t.pupils;
    let mut c: Vec<String> = code_cells.to_vec();
    let pct_dis = if n == 0 {
        String::new()
    } else {
        format!("{}%", round_half_away(100.0 * t.dis.n as f64 / n as f64, 0))
    };
    c.extend([
        n.to_string(),
        n.to_string(),
        t.dis.n.to_string(),
        pct_dis,
        t.other.n.to_string(),
        fmt_num(round_half_away(t.att8.k, 2), 2),
        t.att8.avg(1),
    ]);
    if n <= 5 {
        c.extend(["SUPP".into(), "SUPP".into(), "SUPP".into(), "SUPP".into()]);
    } else {
        let half = round_half_away(1.96 * 1.2 / (n as f64).sqrt(), 2);
        c.extend([
            n.to_string(),
            fmt_num(t.p8, 2),
            fmt_num(round_half_away(t.p8 - half, 2), 2),
            fmt_num(round_half_away(t.p8 + half, 2), 2),
        ]);
    }
    c.extend([
        t.em4.pct(),
        t.em5.pct(),
        t.ebacc.avg(2),
        t.entry.pct(),
        t.dis.avg(1),
        t.other.avg(1),
        t.girls.avg(1),
        t.boys.avg(1),
        t.dis_em5.pct(),
        t.other_em5.pct(),
    ]);
    match prior {
        Some((a, p)) => c.extend([a, p]),
        None => c.extend([String::new(), String::new()]),
    }
    c
}

fn header(cols: &[&str], year: i32) -> String {
    let prior = format!("{:02}", (year - 1) % 100);
    cols.iter()
        .map(|c| c.replace("{p}", &prior))
        .collect::<Vec<_>>()
        .join(",")
}

/// Generate the demo dataset.
pub fn generate(opts: &DemoOptions) -> anyhow::Result<DemoSummary> {
    let mut rng = Rng(opts.seed);
    let (las, schools) = make_world(opts, &mut rng);
    let dir = &opts.out_dir;
    let mut files = Vec::new();
    let bom = "\u{feff}";
    let mut prev_ks2: std::collections::HashMap<u32, (usize, String)> = Default::default();
    let mut prev_ks4: std::collections::HashMap<u32, (String, String)> = Default::default();
    let mut lac_rows: Vec<(i32, usize, Tally)> = Vec::new();
    let demo_la = las
        .iter()
        .position(|l| l.code == DEMO_LA_CODE)
        .expect("the demo LA is in every world");
    let nominal = writing_nominal();
    let mut all_bands = std::collections::BTreeMap::new();
    for &year in &YEARS {
        let mut yr = Rng(opts.seed ^ (year as u64).wrapping_mul(0x2545_F491_4F6C_DD1D));
        // ---- KS2: simulate every primary and special school's pupils; the national means of
        // each KS1 prior-attainment group give progress; then write with LA and national rows.
        let pupils2: Vec<(usize, Vec<Ks2Pupil>)> = schools
            .iter()
            .enumerate()
            .filter(|(_, s)| s.phase != Phase::Secondary && s.opened < year)
            .map(|(i, s)| (i, simulate_ks2(s, &las[s.la], year, &mut yr)))
            .collect();
        let everyone: Vec<&Ks2Pupil> = pupils2.iter().flat_map(|(_, ps)| ps.iter()).collect();
        let bands = prior_means(&everyone, &nominal);
        all_bands.insert(year, bands.clone());
        let means = crate::analysis::pupils::PriorMeans::from_bands(
            std::collections::BTreeMap::from([(year, bands)]),
        );
        let sd = progress_sd(&everyone, &means, year, &nominal);
        let ks2: Vec<(usize, Ks2)> = pupils2
            .iter()
            .map(|(i, ps)| (*i, tally_ks2(ps, &means, year, &nominal, sd)))
            .collect();
        let mut nat = Tally::default();
        let mut nat_other = Tally::default();
        for (_, t) in &ks2 {
            nat.add(t.all);
            nat_other.add(t.other);
        }
        let nat_other_pct = 100.0 * nat_other.k / nat_other.n.max(1) as f64;
        let mut out = String::from(bom);
        out.push_str(&header(KS2_COLS, year));
        out.push_str("\r\n");
        let mut la_tot: Vec<Option<Ks2>> = (0..las.len()).map(|_| None).collect();
        let mut nat_tot: Option<Ks2> = None;
        for (i, t) in &ks2 {
            let s = &schools[*i];
            let la = &las[s.la];
            let rect = if s.phase == Phase::Special { "2" } else { "1" };
            let ids = [
                rect.into(),
                la.code.clone(),
                s.estab.to_string(),
                s.urn.to_string(),
                q(&s.name),
                q(&s.town),
                s.nftype.into(),
            ];
            let cells = ks2_cells(ids, t, nat_other_pct, prev_ks2.get(&s.urn).cloned(), true);
            push_row(&mut out, &cells, "\r\n");
            prev_ks2.insert(s.urn, (t.all.n, t.all.pct()));
            for acc in [&mut la_tot[s.la], &mut nat_tot] {
                acc.get_or_insert_with(Ks2::empty).add(t);
            }
        }
        for (li, t) in la_tot.iter().enumerate() {
            if let Some(t) = t {
                let ids = [
                    "3".into(),
                    las[li].code.clone(),
                    " ".into(),
                    " ".into(),
                    " ".into(),
                    " ".into(),
                    " ".into(),
                ];
                push_row(
                    &mut out,
                    &ks2_cells(ids, t, nat_other_pct, None, false),
                    "\r\n",
                );
                // Looked-after children's results, from the same pupils.
                lac_rows.push((year, li, t.lac));
            }
        }
        if let Some(t) = &nat_tot {
            for rect in ["4", "5"] {
                let ids = [
                    rect.into(),
                    String::new(),
                    String::new(),
                    String::new(),
                    String::new(),
                    String::new(),
                    String::new(),
                ];
                push_row(
                    &mut out,
                    &ks2_cells(ids, t, nat_other_pct, None, false),
                    "\r\n",
                );
            }
        }
        write_file(
            dir,
            &format!("{}/england_ks2final.csv", folder(year)),
            out.as_bytes(),
            &mut files,
        )?;
        // The demo LA's own pupil-level files (KS2, and KS1 teacher assessments and phonics).
        let mut ks2_file = String::from(PUPIL_HEADER);
        ks2_file.push_str(",ks1_aps,ks2_reading,ks2_writing,ks2_maths,ks2_gps\n");
        let mut ks1_file = String::from(PUPIL_HEADER);
        ks1_file.push_str(",ks1_reading,ks1_writing,ks1_maths,phonics\n");
        for (i, ps) in pupils2.iter().filter(|(i, _)| schools[*i].la == demo_la) {
            let s = &schools[*i];
            for (k, p) in ps.iter().enumerate() {
                let t = |r: Result<u8, char>| {
                    r.map(|v| v.to_string()).unwrap_or_else(|c| c.to_string())
                };
                let _ = writeln!(
                    ks2_file,
                    "{},{},{},KS2,{},{},{},{},{},{}",
                    pupil_id(s.urn, year, 2, k),
                    s.urn,
                    year,
                    p.ctx.cells().join(","),
                    p.aps.map(|a| fmt_num(a, 1)).unwrap_or_default(),
                    t(p.tests[READ]),
                    p.writing,
                    t(p.tests[MATHS]),
                    t(p.tests[GPS])
                );
            }
            for (k, line) in simulate_ks1(s, &las[s.la], year, opts.seed)
                .into_iter()
                .enumerate()
            {
                let _ = writeln!(
                    ks1_file,
                    "{},{},{},KS1,{}",
                    pupil_id(s.urn, year, 1, k),
                    s.urn,
                    year,
                    line
                );
            }
        }
        write_file(
            dir,
            &format!("pupils/ks2_pupils_{}_{year}.csv", DEMO_LA_CODE),
            ks2_file.as_bytes(),
            &mut files,
        )?;
        write_file(
            dir,
            &format!("pupils/ks1_pupils_{}_{year}.csv", DEMO_LA_CODE),
            ks1_file.as_bytes(),
            &mut files,
        )?;

        // ---- KS4
        let sims4: Vec<(usize, (Ks4, Vec<Ks4Pupil>))> = schools
            .iter()
            .enumerate()
            .filter(|(_, s)| s.phase != Phase::Primary && s.opened < year)
            .map(|(i, s)| (i, simulate_ks4(s, &las[s.la], year, &mut yr)))
            .collect();
        let mut ks4_file = String::from(PUPIL_HEADER);
        ks4_file.push_str(",att8,english_grade,maths_grade\n");
        for (i, (_, ps)) in sims4.iter().filter(|(i, _)| schools[*i].la == demo_la) {
            let g = |x: Option<u8>| x.map(|v| v.to_string()).unwrap_or_else(|| "U".into());
            for (k, p) in ps.iter().enumerate() {
                let s = &schools[*i];
                let _ = writeln!(
                    ks4_file,
                    "{},{},{},KS4,{},{},{},{}",
                    pupil_id(s.urn, year, 4, k),
                    s.urn,
                    year,
                    p.ctx.cells().join(","),
                    fmt_num(p.att8, 2),
                    g(p.english),
                    g(p.maths)
                );
            }
        }
        write_file(
            dir,
            &format!("pupils/ks4_pupils_{}_{year}.csv", DEMO_LA_CODE),
            ks4_file.as_bytes(),
            &mut files,
        )?;
        let ks4: Vec<(usize, Ks4)> = sims4.into_iter().map(|(i, (t, _))| (i, t)).collect();
        let mut out = String::from(bom);
        out.push_str(&header(KS4_COLS, year));
        out.push_str("\r\n");
        let empty = || Ks4 {
            pupils: 0,
            dis: Tally::default(),
            other: Tally::default(),
            girls: Tally::default(),
            boys: Tally::default(),
            att8: Tally::default(),
            em5: Tally::default(),
            em4: Tally::default(),
            ebacc: Tally::default(),
            entry: Tally::default(),
            dis_em5: Tally::default(),
            other_em5: Tally::default(),
            p8: 0.0,
        };
        let mut la4: Vec<Option<(Ks4, f64)>> = (0..las.len()).map(|_| None).collect();
        let mut nat4 = (empty(), 0.0);
        for (i, t) in &ks4 {
            let s = &schools[*i];
            let ids = [
                if s.phase == Phase::Special { "2" } else { "1" }.into(),
                las[s.la].code.clone(),
                s.estab.to_string(),
                s.urn.to_string(),
                q(&s.name),
                q(&s.town),
                s.nftype.into(),
            ];
            push_row(
                &mut out,
                &ks4_cells(ids, t, prev_ks4.get(&s.urn).cloned()),
                "\r\n",
            );
            prev_ks4.insert(s.urn, (t.att8.avg(1), fmt_num(t.p8, 2)));
            for acc in [la4[s.la].get_or_insert_with(|| (empty(), 0.0)), &mut nat4] {
                acc.0.pupils += t.pupils;
                acc.1 += t.p8 * t.pupils as f64;
                for (x, y) in [
                    (&mut acc.0.dis, t.dis),
                    (&mut acc.0.other, t.other),
                    (&mut acc.0.girls, t.girls),
                    (&mut acc.0.boys, t.boys),
                    (&mut acc.0.att8, t.att8),
                    (&mut acc.0.em5, t.em5),
                    (&mut acc.0.em4, t.em4),
                    (&mut acc.0.ebacc, t.ebacc),
                    (&mut acc.0.entry, t.entry),
                    (&mut acc.0.dis_em5, t.dis_em5),
                    (&mut acc.0.other_em5, t.other_em5),
                ] {
                    x.add(y);
                }
            }
        }
        for (li, t) in la4.iter_mut().enumerate() {
            if let Some((t, p8sum)) = t {
                t.p8 = round_half_away(*p8sum / t.pupils.max(1) as f64, 2);
                let ids = [
                    "4".into(),
                    las[li].code.clone(),
                    String::new(),
                    String::new(),
                    String::new(),
                    String::new(),
                    String::new(),
                ];
                push_row(&mut out, &ks4_cells(ids, t, None), "\r\n");
            }
        }
        nat4.0.p8 = round_half_away(nat4.1 / nat4.0.pupils.max(1) as f64, 2);
        for rect in ["5", "7"] {
            let ids = [
                rect.into(),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
            ];
            push_row(&mut out, &ks4_cells(ids, &nat4.0, None), "\r\n");
        }
        write_file(
            dir,
            &format!("{}/england_ks4final.csv", folder(year)),
            out.as_bytes(),
            &mut files,
        )?;

        // ---- Census (January) and absence.
        let mut census = String::from(bom);
        census.push_str("URN,LA,ESTAB,SCHOOLTYPE,NOR,NORG,NORB,PNORG,PNORB,TSENELSE,PSENELSE,TSENELK,PSENELK,NUMEAL,\
            NUMENGFL,NUMUNCFL,PNUMEAL,PNUMENGFL,PNUMUNCFL,NUMFSM,NUMFSMEVER,PNUMFSMEVER\n");
        let mut abs = String::from(bom);
        abs.push_str("LA,ESTAB,URN,PERCTOT,PPERSABS10\n");
        let mut nat_c: [[f64; 8]; 3] = [[0.0; 8]; 3];
        let mut nat_a: [(f64, f64, f64); 3] = [(0.0, 0.0, 0.0); 3];
        for s in schools.iter().filter(|s| s.opened < year) {
            let years_in = match s.phase {
                Phase::Primary => 7.0,
                Phase::Secondary => 5.0,
                Phase::Special => 8.0,
            };
            let nor = ((s.size as f64 * years_in) * (1.0 + 0.03 * yr.normal()))
                .round()
                .max(5.0);
            let girls = (nor * (0.49 + 0.02 * yr.normal())).round().clamp(0.0, nor);
            let ehcp = if s.phase == Phase::Special {
                nor
            } else {
                (nor * 0.017 * (1.0 + 0.3 * yr.normal())).round().max(0.0)
            };
            let support = if s.phase == Phase::Special {
                0.0
            } else {
                (nor * s.sen).round()
            };
            let eal = (nor * s.eal).round();
            let fsm = (nor * s.fsm * 0.75).round();
            let fsm6 = (nor * s.fsm).round().max(fsm);
            let p = |k: f64| fmt_num(round_half_away(100.0 * k / nor, 1), 1);
            let (stype, idx) = match s.phase {
                Phase::Primary => ("State-funded primary", 0),
                Phase::Secondary => ("State-funded secondary", 1),
                Phase::Special => ("State-funded special school", 2),
            };
            let la = &las[s.la];
            let _ = writeln!(
                census,
                "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
                s.urn,
                la.code,
                s.estab,
                stype,
                nor,
                girls,
                nor - girls,
                p(girls),
                p(nor - girls),
                ehcp,
                p(ehcp),
                support,
                p(support),
                eal,
                nor - eal,
                0,
                p(eal),
                p(nor - eal),
                0,
                fsm,
                fsm6,
                p(fsm6)
            );
            for (k, v) in [nor, girls, ehcp, support, eal, fsm, fsm6, nor - eal]
                .into_iter()
                .enumerate()
            {
                nat_c[idx][k] += v;
            }
            let overall = (4.3 - 1.2 * (s.effect + la.effect)
                + 6.0 * (s.fsm - 0.2)
                + 0.6 * yr.normal()
                + if s.phase == Phase::Special { 4.0 } else { 0.0 })
            .clamp(1.5, 25.0);
            let pa = (overall * 2.4 + 2.0 * yr.normal()).clamp(0.0, 70.0);
            if nor < 20.0 {
                let _ = writeln!(abs, "{},{},{},SUPP,SUPP", la.code, s.estab, s.urn);
            } else {
                let _ = writeln!(
                    abs,
                    "{},{},{},{},{}",
                    la.code,
                    s.estab,
                    s.urn,
                    fmt_num(round_half_away(overall, 1), 1),
                    fmt_num(round_half_away(pa, 1), 1)
                );
                nat_a[idx].0 += nor;
                nat_a[idx].1 += overall * nor;
                nat_a[idx].2 += pa * nor;
            }
        }
        for (idx, (code, name)) in [
            ("PRI", "State-funded primary"),
            ("SEC", "State-funded secondary"),
            ("SPE", "State-funded special school"),
        ]
        .into_iter()
        .enumerate()
        {
            let c = nat_c[idx];
            let p = |k: f64| fmt_num(round_half_away(100.0 * k / c[0].max(1.0), 1), 1);
            let _ = writeln!(
                census,
                "NAT,,{code},{name},{},{},{},{},{},{},{},{},{},{},{},0,{},{},0,{},{},{}",
                c[0],
                c[1],
                c[0] - c[1],
                p(c[1]),
                p(c[0] - c[1]),
                c[2],
                p(c[2]),
                c[3],
                p(c[3]),
                c[4],
                c[7],
                p(c[4]),
                p(c[7]),
                c[5],
                c[6],
                p(c[6])
            );
            let a = nat_a[idx];
            let _ = writeln!(
                abs,
                "NAT,{code},,{},{}",
                fmt_num(round_half_away(a.1 / a.0.max(1.0), 1), 1),
                fmt_num(round_half_away(a.2 / a.0.max(1.0), 1), 1)
            );
        }
        // The January census of the summer-end year belongs to that year's folder.
        write_file(
            dir,
            &format!("{}/england_census.csv", folder(year)),
            census.as_bytes(),
            &mut files,
        )?;
        write_file(
            dir,
            &format!("{}/england_abs.csv", folder(year)),
            abs.as_bytes(),
            &mut files,
        )?;
    }

    write_prior_means(dir, &all_bands, &mut files)?;
    write_lists(dir, &las, &schools, &mut rng, &mut files)?;
    write_lac(dir, &las, &lac_rows, &mut files)?;
    write_ofsted(dir, &las, &schools, &mut rng, &mut files)?;
    let readme = format!(
        "# Synthetic demo data\n\nGenerated by `attain demo` (seed {}). Nothing here is real: {} fictional LAs (codes \
            601-{}) \
         including the demo LA {} ({}), {} schools, results for 2016/17 to 2018/19, in the formats of the DfE and \
             Ofsted files \
         (performance tables KS2, KS4, census and absence per year; a Get Information About Schools extract; the \
             Ofsted \
         latest-inspection workbook; statistical neighbours in the 2021 and 2025 layouts; looked-after children's KS2 \
             outcomes; \
         an LA code list). For the demo LA only: pupil-level files (pupils/, KS1, KS2 and KS4 for each year; \
         docs/pupil-data.md) whose totals agree with its school-level figures, and the national KS2 means by KS1 \
         prior-attainment group they were measured against (national/).\n",
        opts.seed,
        las.len(),
        600 + las.len(),
        DEMO_LA_NAME,
        DEMO_LA_CODE,
        schools.len()
    );
    write_file(dir, "README.md", readme.as_bytes(), &mut files)?;
    Ok(DemoSummary {
        files,
        schools: schools.len(),
        las: las.len(),
        demo_la_code: DEMO_LA_CODE.into(),
        demo_la_name: DEMO_LA_NAME.into(),
    })
}

fn write_lists(
    dir: &Path,
    las: &[La],
    schools: &[School],
    rng: &mut Rng,
    files: &mut Vec<PathBuf>,
) -> anyhow::Result<()> {
    // LA code list (performance tables layout).
    let mut codes = String::from("LEA,LA Name,REGION,REGION NAME\n");
    for la in las {
        let (rc, rn) = REGIONS[la.region];
        let _ = writeln!(codes, "{},{},{},{}", la.code, q(&la.name), rc, rn);
    }
    write_file(
        dir,
        "lists/la_and_region_codes_meta.csv",
        codes.as_bytes(),
        files,
    )?;
    // Statistical neighbours: the ten LAs nearest in context (disadvantage, EAL, region).
    let near = |i: usize, jitter: f64, rng: &mut Rng| -> Vec<(usize, f64)> {
        let mut d: Vec<(usize, f64)> = (0..las.len())
            .filter(|&j| j != i)
            .map(|j| {
                let (a, b) = (&las[i], &las[j]);
                let region = if a.region == b.region { 0.0 } else { 0.04 };
                (
                    j,
                    ((a.fsm - b.fsm).powi(2) + (a.eal - b.eal).powi(2)).sqrt()
                        + region
                        + jitter * rng.unit(),
                )
            })
            .collect();
        d.sort_by(|x, y| x.1.total_cmp(&y.1).then(x.0.cmp(&y.0)));
        d.truncate(10);
        d
    };
    let band = |d: f64, upper: bool| -> &'static str {
        match (d < 0.03, d < 0.06, d < 0.1, upper) {
            (true, _, _, true) => "Very Close",
            (true, _, _, false) => "Very close",
            (_, true, _, _) => "Close",
            (_, _, true, true) => "Somewhat close",
            (_, _, true, false) => "Somewhat close",
            (_, _, _, true) => "Not Close",
            _ => "Not close",
        }
    };
    let mut sn21 = String::from("\u{feff}LA num,LA Name,LA number,GOInd,GOReg");
    for n in 1..=10 {
        let _ = write!(sn21, ",SN{n},SNP");
    }
    sn21.push_str(",\r\n");
    let mut sn25 = String::from("\u{feff}old_la_code,la_name,region_ind,region_name");
    for n in 1..=10 {
        let _ = write!(sn25, ",SN_{n},SN_{n}P");
    }
    sn25.push('\n');
    for (i, la) in las.iter().enumerate() {
        let (rc, rn) = REGIONS[la.region];
        let _ = write!(
            sn21,
            "{},{},{},{},{}",
            la.code,
            q(&la.name),
            la.code,
            rc,
            rn
        );
        for (j, d) in near(i, 0.0, rng) {
            let _ = write!(sn21, ",{},{}", las[j].code, band(d, true));
        }
        sn21.push_str(",\r\n");
        let _ = write!(sn25, "{},{},{},{}", la.code, q(&la.name), rc, rn);
        for (j, d) in near(i, 0.02, rng) {
            let b = band(d, false);
            let _ = write!(
                sn25,
                ",{},{}",
                las[j].code,
                if b == "Close" { "Close " } else { b }
            );
        }
        sn25.push('\n');
    }
    write_file(
        dir,
        "neighbours/New_Statistical_Neighbour_Groupings_April_2021.csv",
        sn21.as_bytes(),
        files,
    )?;
    write_file(
        dir,
        "neighbours/sn_model_2025_wide.csv",
        sn25.as_bytes(),
        files,
    )?;
    // Get Information About Schools extract (a column subset, GIAS names and quoting).
    let cols = [
        "URN",
        "LA (code)",
        "LA (name)",
        "EstablishmentNumber",
        "EstablishmentName",
        "TypeOfEstablishment (name)",
        "EstablishmentTypeGroup (name)",
        "EstablishmentStatus (name)",
        "PhaseOfEducation (name)",
        "StatutoryLowAge",
        "StatutoryHighAge",
        "Gender (name)",
        "ReligiousCharacter (name)",
        "CensusDate",
        "NumberOfPupils",
        "PercentageFSM",
        "Town",
        "Postcode",
    ];
    let mut gias = cols
        .iter()
        .map(|c| format!("\"{c}\""))
        .collect::<Vec<_>>()
        .join(",")
        + "\r\n";
    for s in schools {
        let la = &las[s.la];
        let (tname, group) = match s.nftype {
            "CY" => ("Community school", "Local authority maintained schools"),
            "VA" => (
                "Voluntary aided school",
                "Local authority maintained schools",
            ),
            "VC" => (
                "Voluntary controlled school",
                "Local authority maintained schools",
            ),
            "FD" => ("Foundation school", "Local authority maintained schools"),
            "CYS" => (
                "Community special school",
                "Local authority maintained schools",
            ),
            "ACC" => ("Academy converter", "Academies"),
            "AC" => ("Academy sponsor led", "Academies"),
            "ACS" => ("Academy special converter", "Special schools"),
            _ => ("Free schools", "Free Schools"),
        };
        let (phase, lo, hi) = match s.phase {
            Phase::Primary => ("Primary", 4, 11),
            Phase::Secondary => ("Secondary", 11, 16),
            Phase::Special => ("Not applicable", 3, 19),
        };
        let relig = if s.name.contains("St ") || s.name.contains("CE") {
            "Church of England"
        } else {
            "Does not apply"
        };
        let pc = format!(
            "BS{} {}{}",
            1 + s.urn % 40,
            s.urn % 9,
            ["AB", "DE", "FG", "HJ"][(s.urn % 4) as usize]
        );
        let _ = write!(
            gias,
            "{},\"{}\",\"{}\",\"{}\",\"{}\",\"{}\",\"{}\",\"Open\",\"{}\",{},{},\"Mixed\",\"{}\",\
            \"17-01-2019\",\"{}\",\"{:.1}\",\"{}\",\
            \"{}\"\r\n",
            s.urn,
            la.code,
            la.name.replace('"', "\"\""),
            s.estab,
            s.name.replace('"', "\"\""),
            tname,
            group,
            phase,
            lo,
            hi,
            relig,
            s.size * if s.phase == Phase::Primary { 7 } else { 5 },
            s.fsm * 75.0,
            s.town,
            pc
        );
        let _ = rng.unit();
    }
    write_file(dir, "gias/edubase_extract.csv", gias.as_bytes(), files)
}

fn write_lac(
    dir: &Path,
    las: &[La],
    rows: &[(i32, usize, Tally)],
    files: &mut Vec<PathBuf>,
) -> anyhow::Result<()> {
    let header = "time_period,time_identifier,geographic_level,country_code,country_name,region_code,region_name,\
        old_la_code,la_name,new_la_code,social_care_group,version,t_read_eligible_pupils,t_read_met_expected_standard,\
        pt_read_met_expected_standard,t_writta_eligible_pupils,t_writta_met_expected_standard,\
        pt_writta_met_expected_standard,t_mat_eligible_pupils,t_mat_met_expected_standard,\
        pt_mat_met_expected_standard,t_rwm_eligible_pupils,t_rwm_met_expected_standard,pt_rwm_met_expected_standard,\
        t_gps_eligible_pupils,t_gps_met_expected_standard,pt_gps_met_expected_standard";
    let mut out = String::from("\u{feff}");
    out.push_str(header);
    out.push('\n');
    let x9 = "x,x,x,x,x,x,x,x,x";
    // EES names an LA's region by its ONS code (E12000001 North East ... E12000009 South West).
    let region = |la: &La| {
        let (rc, rn) = REGIONS[la.region];
        (format!("E1200000{rc}"), rn)
    };
    let line = |out: &mut String,
                y: i32,
                level: &str,
                code: &str,
                name: &str,
                (rc, rn): (&str, &str),
                t: Tally| {
        let tp = format!("{}{:02}", y - 1, y % 100);
        let (n, k, p) = if t.n <= 5 && level == "Local authority" {
            ("c".to_string(), "c".to_string(), "c".to_string())
        } else {
            (
                t.n.to_string(),
                fmt_num(t.k, 0),
                fmt_num(round_half_away(100.0 * t.k / t.n.max(1) as f64, 0), 0),
            )
        };
        let (oc, ln) = if level == "Local authority" {
            (code, name)
        } else {
            ("", "")
        };
        let _ = writeln!(
            out,
            "{tp},Academic year,{level},E92000001,England,{rc},{},{oc},{},,CLA 12 months at 31 \
            March,Final,{x9},{n},{k},{p},x,x,x",
            q(rn),
            q(ln)
        );
    };
    for &y in &YEARS {
        let mut nat = Tally::default();
        for (yy, li, t) in rows.iter().filter(|r| r.0 == y) {
            let (rc, rn) = region(&las[*li]);
            line(
                &mut out,
                *yy,
                "Local authority",
                &las[*li].code,
                &las[*li].name,
                (&rc, rn),
                *t,
            );
            nat.add(*t);
        }
        line(&mut out, y, "National", "", "", ("", ""), nat);
    }
    write_file(dir, "ees/ks2_la.csv", out.as_bytes(), files)
}

#[allow(clippy::explicit_counter_loop)] // the sheet row counts written rows
fn write_ofsted(
    dir: &Path,
    las: &[La],
    schools: &[School],
    rng: &mut Rng,
    files: &mut Vec<PathBuf>,
) -> anyhow::Result<()> {
    use rust_xlsxwriter::{Format, Workbook};
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("DFE_data_31_July_2018_SON")?;
    let date = Format::new().set_num_format("dd/mm/yyyy");
    for (c, h) in [
        "URN",
        "School name",
        "Ofsted phase",
        "Inspection date",
        "Publication date",
        "Overall effectiveness",
        "REPORURL",
    ]
    .iter()
    .enumerate()
    {
        ws.write_string(0, c as u16, *h)?;
    }
    let mut r = 1u32;
    for s in schools.iter().filter(|s| s.opened < 2019) {
        let q = s.effect + las[s.la].effect + 0.5 * rng.normal();
        let grade = if q > 0.75 {
            1
        } else if q > -0.45 {
            2
        } else if q > -1.05 {
            3
        } else {
            4
        };
        // Excel serial dates between 2013 and mid-2018.
        let inspected = 41275.0 + (rng.next() % 2000) as f64;
        let phase = match s.phase {
            Phase::Primary => "Primary",
            Phase::Secondary => "Secondary",
            Phase::Special => "Special",
        };
        ws.write_number(r, 0, s.urn as f64)?;
        ws.write_string(r, 1, &s.name)?;
        ws.write_string(r, 2, phase)?;
        ws.write_number_with_format(r, 3, inspected, &date)?;
        ws.write_number_with_format(r, 4, inspected + 25.0, &date)?;
        ws.write_number(r, 5, grade as f64)?;
        ws.write_string(r, 6, "Report")?;
        r += 1;
    }
    wb.set_properties(
        &rust_xlsxwriter::DocProperties::new()
            .set_creation_datetime(&rust_xlsxwriter::ExcelDateTime::from_ymd(2018, 7, 31)?),
    );
    let bytes = wb.save_to_buffer()?;
    write_file(dir, "ofsted/england_ofsted-schools.xlsx", &bytes, files)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small(dir: &Path) -> DemoOptions {
        DemoOptions {
            out_dir: dir.to_path_buf(),
            seed: 7,
            schools: 600,
            las: 12,
        }
    }

    #[test]
    fn deterministic_and_consistent() {
        let a = std::env::temp_dir().join(format!("attain-demo-a-{}", std::process::id()));
        let b = std::env::temp_dir().join(format!("attain-demo-b-{}", std::process::id()));
        let sa = generate(&small(&a)).unwrap();
        generate(&small(&b)).unwrap();
        for f in &sa.files {
            let rel = f.strip_prefix(&a).unwrap();
            assert_eq!(
                std::fs::read(f).unwrap(),
                std::fs::read(b.join(rel)).unwrap(),
                "{}",
                rel.display()
            );
        }
        // The KS2 LA row's TELIG is the sum of its schools' TELIG.
        let ks2 = std::fs::read_to_string(a.join("2018-2019/england_ks2final.csv")).unwrap();
        let rows: Vec<Vec<&str>> = ks2
            .split("\r\n")
            .skip(1)
            .filter(|l| !l.is_empty())
            .map(|l| l.split(',').collect())
            .collect();
        let schools: usize = rows
            .iter()
            .filter(|r| (r[0] == "1" || r[0] == "2") && r[1] == DEMO_LA_CODE)
            .map(|r| r[7].parse::<usize>().unwrap())
            .sum();
        let la: usize = rows
            .iter()
            .find(|r| r[0] == "3" && r[1] == DEMO_LA_CODE)
            .unwrap()[7]
            .parse()
            .unwrap();
        assert_eq!(schools, la);
        // Census NAT PRI is the sum of primary rows.
        let census = std::fs::read_to_string(a.join("2018-2019/england_census.csv")).unwrap();
        let pri: f64 = census
            .lines()
            .filter(|l| l.contains(",State-funded primary,") && !l.starts_with("NAT"))
            .map(|l| l.split(',').nth(4).unwrap().parse::<f64>().unwrap())
            .sum();
        let nat: f64 = census
            .lines()
            .find(|l| l.starts_with("NAT,,PRI"))
            .unwrap()
            .split(',')
            .nth(4)
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(pri, nat);
        let sn = std::fs::read_to_string(
            a.join("neighbours/New_Statistical_Neighbour_Groupings_April_2021.csv"),
        )
        .unwrap();
        assert!(sn
            .lines()
            .skip(1)
            .all(|l| l.split(',').count() == 5 + 20 + 1));
        let _ = std::fs::remove_dir_all(&a);
        let _ = std::fs::remove_dir_all(&b);
    }
}
