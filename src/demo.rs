//! The demo dataset: a deterministic synthetic world written in the formats of the
//! real DfE and Ofsted files (same column names and order, record types, status tokens,
//! byte-order marks, CRLF line ends and ragged rows), so that a new user can run every
//! job with no downloads. Nothing in it is real. The ingester does not know it exists.
//!
//! The world: about 150 fictional LAs (codes 601-750, never used by real LAs) in the nine
//! English regions, one of them Borsetshire (650); about 20,000 schools with a lasting
//! quality and context (disadvantage, EAL, SEN); three years of results, 2016/17 to 2018/19.

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
        DemoOptions { out_dir: "data/demo".into(), seed: 20190701, schools: 20_000, las: 150 }
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
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn normal(&mut self) -> f64 {
        let (u, v) = (self.unit().max(1e-12), self.unit());
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }
    fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + (self.next() % (hi - lo + 1) as u64) as usize
    }
    fn binomial(&mut self, n: usize, p: f64) -> usize {
        (0..n).filter(|_| self.unit() < p).count()
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
    let first = ["Ash", "Bar", "Brook", "Cal", "Dun", "Elm", "Fen", "Glen", "Hart", "Ivy", "Kes", "Lang", "Mar", "Nor", "Oak", "Pen", "Quar", "Rad", "Sel", "Thorn", "Ux", "Vale", "Wes", "Yar"];
    let second = ["ford", "ton", "by", "ham", "wick", "mere", "field", "stow", "bury", "leigh", "worth", "dale"];
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
                let n = format!("{}{}{}", rng.pick(&first), rng.pick(&second), rng.pick(&suffix));
                if n != DEMO_LA_NAME && used.insert(n.clone()) {
                    break n;
                }
            }
        };
        let region = if code == 650 { 4 } else { i % 9 };
        las.push(La { code: code.to_string(), name, region, effect: 0.25 * rng.normal(), fsm: (0.24 + 0.08 * rng.normal()).clamp(0.06, 0.5), eal: (0.15 + 0.12 * rng.normal()).clamp(0.01, 0.7) });
    }
    let demo = las.iter().position(|l| l.code == DEMO_LA_CODE).unwrap();
    let towns = ["Ambridge", "Borchester", "Felpersham", "Hollerton", "Penny Hassett", "Loxley Barrett", "Edgeley", "Darrington", "Waterley Cross", "Lakey Green"];
    let saints = ["St Mary", "St John", "St Peter", "St Paul", "St Anne", "All Saints", "Holy Trinity", "St Michael"];
    let kinds = ["Primary School", "Church of England Primary School", "Infant and Junior School", "Community Primary School", "Junior School"];
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
            let town = if li == demo { towns[k % towns.len()].to_string() } else { format!("{} {}", la.name.trim_end_matches("shire"), ["North", "South", "East", "West", "Central"][k % 5]) };
            let name = match (li == demo, k, phase) {
                (true, 3, _) => "St Mary & St John CE Primary School".to_string(),
                (true, 5, _) => "St Peter's Catholic Primary School".to_string(),
                (_, _, Phase::Primary) => format!("{} {}", if k % 3 == 0 { rng.pick(&saints).to_string() } else { town.clone() }, rng.pick(&kinds)),
                (_, _, Phase::Secondary) => format!("{} {}", town, ["Academy", "High School", "School", "Community College"][k % 4]),
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
                estab: 2000 + k as u32 * 3 % 7000 + if phase == Phase::Secondary { 2000 } else { 0 },
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
    let last = cells.iter().rposition(|c| !c.is_empty()).map(|i| i + 1).unwrap_or(0);
    out.push_str(&cells[..last].join(","));
    out.push_str(eol);
}

fn write_file(dir: &Path, rel: &str, bytes: &[u8], files: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    let path = dir.join(rel);
    crate::pipeline::write_atomic(&path, bytes)?;
    files.push(path);
    Ok(())
}

fn folder(year: i32) -> String {
    format!("{}-{}", year - 1, year)
}

const KS2_COLS: &[&str] = &[
    "RECTYPE", "LEA", "ESTAB", "URN", "SCHNAME", "TOWN", "NFTYPE", "TELIG", "BELIG", "GELIG", "TFSM6CLA1A", "PTFSM6CLA1A", "TNotFSM6CLA1A", "PTNotFSM6CLA1A", "TEALGRP2", "PTEALGRP2",
    "PTRWM_EXP", "PTRWM_HIGH", "READPROG", "READPROG_LOWER", "READPROG_UPPER", "WRITPROG", "WRITPROG_LOWER", "WRITPROG_UPPER", "MATPROG", "MATPROG_LOWER", "MATPROG_UPPER",
    "PTREAD_EXP", "READ_AVERAGE", "PTGPS_EXP", "GPS_AVERAGE", "PTMAT_EXP", "MAT_AVERAGE", "PTWRITTA_EXP", "PTRWM_EXP_B", "PTRWM_EXP_G", "PTRWM_EXP_FSM6CLA1A", "PTRWM_EXP_NotFSM6CLA1A",
    "DIFFN_RWM_EXP", "PTRWM_EXP_EAL", "TELIG_{p}", "PTRWM_EXP_{p}",
];

const KS4_COLS: &[&str] = &[
    "RECTYPE", "LEA", "ESTAB", "URN", "SCHNAME", "TOWN", "NFTYPE", "TOTPUPS", "TPUP", "TFSM6CLA1A", "PTFSM6CLA1A", "TNOTFSM6CLA1A", "TOTATT8", "ATT8SCR", "P8PUP", "P8MEA", "P8CILOW", "P8CIUPP",
    "PTL2BASICS_94", "PTL2BASICS_95", "EBACCAPS", "PTEBACC_E_PTQ_EE", "ATT8SCR_FSM6CLA1A", "ATT8SCR_NFSM6CLA1A", "ATT8SCR_GIRLS", "ATT8SCR_BOYS", "PTFSM6CLA1ABASICS_95", "PTNOTFSM6CLA1ABASICS_95",
    "ATT8SCR_{p}", "P8MEA_{p}",
];

/// One school's pupils in one year, and what they achieved.
struct Ks2 {
    all: Tally,
    boys: Tally,
    girls: Tally,
    dis: Tally,
    other: Tally,
    eal: Tally,
    high: Tally,
    read: Tally,
    writ: Tally,
    mat: Tally,
    gps: Tally,
    read_score: Tally,
    mat_score: Tally,
    gps_score: Tally,
    prog: [f64; 3],
}

fn simulate_ks2(s: &School, la: &La, year: i32, rng: &mut Rng) -> Ks2 {
    let n = (s.size as f64 * (1.0 + 0.1 * rng.normal())).round().max(5.0) as usize;
    let trend = 0.08 * (year - 2017) as f64;
    let base = 0.55 + s.effect + la.effect + trend + if s.phase == Phase::Special { -3.0 } else { 0.0 };
    let mut t = Ks2 { all: Tally::default(), boys: Tally::default(), girls: Tally::default(), dis: Tally::default(), other: Tally::default(), eal: Tally::default(), high: Tally::default(), read: Tally::default(), writ: Tally::default(), mat: Tally::default(), gps: Tally::default(), read_score: Tally::default(), mat_score: Tally::default(), gps_score: Tally::default(), prog: [0.0; 3] };
    for _ in 0..n {
        let dis = rng.unit() < s.fsm * 1.3;
        let boy = rng.unit() < 0.51;
        let eal = rng.unit() < s.eal;
        let ability = base + 0.9 * rng.normal() - if dis { 0.95 } else { 0.0 } - if boy { 0.2 } else { 0.0 };
        let hit = |rng: &mut Rng, shift: f64| if rng.unit() < logistic(ability + shift) { 1.0 } else { 0.0 };
        let rwm = hit(rng, 0.0);
        let one = Tally { n: 1, k: rwm };
        t.all.add(one);
        if boy { t.boys.add(one) } else { t.girls.add(one) }
        if dis { t.dis.add(one) } else { t.other.add(one) }
        if eal {
            t.eal.add(one)
        }
        t.high.add(Tally { n: 1, k: hit(rng, -3.0) });
        t.read.add(Tally { n: 1, k: hit(rng, 0.7) });
        t.writ.add(Tally { n: 1, k: hit(rng, 0.8) });
        t.mat.add(Tally { n: 1, k: hit(rng, 0.75) });
        t.gps.add(Tally { n: 1, k: hit(rng, 0.8) });
        t.read_score.add(Tally { n: 1, k: 104.5 + 3.0 * ability + 3.0 * rng.normal() });
        t.mat_score.add(Tally { n: 1, k: 104.5 + 3.2 * ability + 3.0 * rng.normal() });
        t.gps_score.add(Tally { n: 1, k: 106.0 + 3.2 * ability + 3.0 * rng.normal() });
    }
    for p in t.prog.iter_mut() {
        *p = round_half_away(2.2 * (s.effect + la.effect) + 5.5 * rng.normal() / (n as f64).sqrt(), 1);
    }
    t
}

fn ks2_cells(code_cells: [String; 7], t: &Ks2, nat_other_pct: f64, prior: Option<(usize, String)>, with_progress: bool, rng: &mut Rng) -> Vec<String> {
    let n = t.all.n;
    let pc = |k: usize| if n == 0 { String::new() } else { fmt_num(round_half_away(100.0 * k as f64 / n as f64, 0), 0) };
    let mut c: Vec<String> = code_cells.to_vec();
    c.extend([n.to_string(), t.boys.n.to_string(), t.girls.n.to_string(), t.dis.n.to_string(), pc(t.dis.n), t.other.n.to_string(), pc(t.other.n), t.eal.n.to_string(), pc(t.eal.n)]);
    c.extend([t.all.pct(), t.high.pct()]);
    for p in t.prog {
        if !with_progress {
            c.extend([String::new(), String::new(), String::new()]);
        } else if n <= 5 {
            c.extend(["SUPP".into(), "SUPP".into(), "SUPP".into()]);
        } else if rng.unit() < 0.01 {
            c.extend(["LOWCOV".into(), String::new(), String::new()]);
        } else {
            let half = round_half_away(1.96 * 5.8 / (n as f64).sqrt(), 1);
            c.extend([fmt_num(p, 1), fmt_num(round_half_away(p - half, 1), 1), fmt_num(round_half_away(p + half, 1), 1)]);
        }
    }
    c.extend([t.read.pct(), t.read_score.avg(0), t.gps.pct(), t.gps_score.avg(0), t.mat.pct(), t.mat_score.avg(0), t.writ.pct()]);
    c.extend([t.boys.pct(), t.girls.pct(), t.dis.pct(), t.other.pct()]);
    c.push(match t.dis.n {
        0 => String::new(),
        1..=5 => "SUPP".into(),
        d => fmt_num(round_half_away(100.0 * t.dis.k / d as f64 - nat_other_pct, 0), 0),
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

fn simulate_ks4(s: &School, la: &La, year: i32, rng: &mut Rng) -> Ks4 {
    let n = (s.size as f64 * (1.0 + 0.08 * rng.normal())).round().max(5.0) as usize;
    let base = s.effect + la.effect + 0.03 * (year - 2017) as f64 + if s.phase == Phase::Special { -2.5 } else { 0.0 };
    let mut t = Ks4 { pupils: n, dis: Tally::default(), other: Tally::default(), girls: Tally::default(), boys: Tally::default(), att8: Tally::default(), em5: Tally::default(), em4: Tally::default(), ebacc: Tally::default(), entry: Tally::default(), dis_em5: Tally::default(), other_em5: Tally::default(), p8: 0.0 };
    for _ in 0..n {
        let dis = rng.unit() < s.fsm * 1.3;
        let boy = rng.unit() < 0.5;
        let ability = base + 0.9 * rng.normal() - if dis { 0.8 } else { 0.0 } - if boy { 0.15 } else { 0.0 };
        let a8 = (47.5 + 13.0 * ability + 4.0 * rng.normal()).clamp(0.0, 90.0);
        let a8t = Tally { n: 1, k: a8 };
        t.att8.add(a8t);
        if dis { t.dis.add(a8t) } else { t.other.add(a8t) }
        if boy { t.boys.add(a8t) } else { t.girls.add(a8t) }
        let em5 = if rng.unit() < logistic(1.4 * ability - 0.25) { 1.0 } else { 0.0 };
        t.em5.add(Tally { n: 1, k: em5 });
        if dis { t.dis_em5.add(Tally { n: 1, k: em5 }) } else { t.other_em5.add(Tally { n: 1, k: em5 }) }
        t.em4.add(Tally { n: 1, k: if rng.unit() < logistic(1.4 * ability + 0.7) { 1.0 } else { 0.0 } });
        t.ebacc.add(Tally { n: 1, k: (a8 / 11.5).clamp(0.0, 9.0) });
        t.entry.add(Tally { n: 1, k: if rng.unit() < logistic(ability - 0.9) { 1.0 } else { 0.0 } });
    }
    t.p8 = round_half_away(0.9 * (s.effect + la.effect) + 1.2 * rng.normal() / (n as f64).sqrt(), 2);
    t
}

fn ks4_cells(code_cells: [String; 7], t: &Ks4, prior: Option<(String, String)>) -> Vec<String> {
    let n = t.pupils;
    let mut c: Vec<String> = code_cells.to_vec();
    let pct_dis = if n == 0 { String::new() } else { format!("{}%", round_half_away(100.0 * t.dis.n as f64 / n as f64, 0)) };
    c.extend([n.to_string(), n.to_string(), t.dis.n.to_string(), pct_dis, t.other.n.to_string(), fmt_num(round_half_away(t.att8.k, 2), 2), t.att8.avg(1)]);
    if n <= 5 {
        c.extend(["SUPP".into(), "SUPP".into(), "SUPP".into(), "SUPP".into()]);
    } else {
        let half = round_half_away(1.96 * 1.2 / (n as f64).sqrt(), 2);
        c.extend([n.to_string(), fmt_num(t.p8, 2), fmt_num(round_half_away(t.p8 - half, 2), 2), fmt_num(round_half_away(t.p8 + half, 2), 2)]);
    }
    c.extend([t.em4.pct(), t.em5.pct(), t.ebacc.avg(2), t.entry.pct(), t.dis.avg(1), t.other.avg(1), t.girls.avg(1), t.boys.avg(1), t.dis_em5.pct(), t.other_em5.pct()]);
    match prior {
        Some((a, p)) => c.extend([a, p]),
        None => c.extend([String::new(), String::new()]),
    }
    c
}

fn header(cols: &[&str], year: i32) -> String {
    let prior = format!("{:02}", (year - 1) % 100);
    cols.iter().map(|c| c.replace("{p}", &prior)).collect::<Vec<_>>().join(",")
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
    for &year in &YEARS {
        let mut yr = Rng(opts.seed ^ (year as u64).wrapping_mul(0x2545_F491_4F6C_DD1D));
        // ---- KS2: simulate every primary and special school, then write with LA and national rows.
        let ks2: Vec<(usize, Ks2)> = schools.iter().enumerate().filter(|(_, s)| s.phase != Phase::Secondary && s.opened < year).map(|(i, s)| (i, simulate_ks2(s, &las[s.la], year, &mut yr))).collect();
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
            let ids = [rect.into(), la.code.clone(), s.estab.to_string(), s.urn.to_string(), q(&s.name), q(&s.town), s.nftype.into()];
            let cells = ks2_cells(ids, t, nat_other_pct, prev_ks2.get(&s.urn).cloned(), true, &mut yr);
            push_row(&mut out, &cells, "\r\n");
            prev_ks2.insert(s.urn, (t.all.n, t.all.pct()));
            for acc in [&mut la_tot[s.la], &mut nat_tot] {
                let a = acc.get_or_insert_with(|| Ks2 { all: Tally::default(), boys: Tally::default(), girls: Tally::default(), dis: Tally::default(), other: Tally::default(), eal: Tally::default(), high: Tally::default(), read: Tally::default(), writ: Tally::default(), mat: Tally::default(), gps: Tally::default(), read_score: Tally::default(), mat_score: Tally::default(), gps_score: Tally::default(), prog: [0.0; 3] });
                for (x, y) in [(&mut a.all, t.all), (&mut a.boys, t.boys), (&mut a.girls, t.girls), (&mut a.dis, t.dis), (&mut a.other, t.other), (&mut a.eal, t.eal), (&mut a.high, t.high), (&mut a.read, t.read), (&mut a.writ, t.writ), (&mut a.mat, t.mat), (&mut a.gps, t.gps), (&mut a.read_score, t.read_score), (&mut a.mat_score, t.mat_score), (&mut a.gps_score, t.gps_score)] {
                    x.add(y);
                }
            }
        }
        for (li, t) in la_tot.iter().enumerate() {
            if let Some(t) = t {
                let ids = ["3".into(), las[li].code.clone(), " ".into(), " ".into(), " ".into(), " ".into(), " ".into()];
                push_row(&mut out, &ks2_cells(ids, t, nat_other_pct, None, false, &mut yr), "\r\n");
                // Looked-after children: a small, low-attaining slice of each LA's cohort.
                let n_lac = ((t.all.n as f64) * 0.006).round() as usize;
                let k = yr.binomial(n_lac, 0.37);
                lac_rows.push((year, li, Tally { n: n_lac, k: k as f64 }));
            }
        }
        if let Some(t) = &nat_tot {
            for rect in ["4", "5"] {
                let ids = [rect.into(), String::new(), String::new(), String::new(), String::new(), String::new(), String::new()];
                push_row(&mut out, &ks2_cells(ids, t, nat_other_pct, None, false, &mut yr), "\r\n");
            }
        }
        write_file(dir, &format!("{}/england_ks2final.csv", folder(year)), out.as_bytes(), &mut files)?;

        // ---- KS4
        let ks4: Vec<(usize, Ks4)> = schools.iter().enumerate().filter(|(_, s)| s.phase != Phase::Primary && s.opened < year).map(|(i, s)| (i, simulate_ks4(s, &las[s.la], year, &mut yr))).collect();
        let mut out = String::from(bom);
        out.push_str(&header(KS4_COLS, year));
        out.push_str("\r\n");
        let empty = || Ks4 { pupils: 0, dis: Tally::default(), other: Tally::default(), girls: Tally::default(), boys: Tally::default(), att8: Tally::default(), em5: Tally::default(), em4: Tally::default(), ebacc: Tally::default(), entry: Tally::default(), dis_em5: Tally::default(), other_em5: Tally::default(), p8: 0.0 };
        let mut la4: Vec<Option<(Ks4, f64)>> = (0..las.len()).map(|_| None).collect();
        let mut nat4 = (empty(), 0.0);
        for (i, t) in &ks4 {
            let s = &schools[*i];
            let ids = [if s.phase == Phase::Special { "2" } else { "1" }.into(), las[s.la].code.clone(), s.estab.to_string(), s.urn.to_string(), q(&s.name), q(&s.town), s.nftype.into()];
            push_row(&mut out, &ks4_cells(ids, t, prev_ks4.get(&s.urn).cloned()), "\r\n");
            prev_ks4.insert(s.urn, (t.att8.avg(1), fmt_num(t.p8, 2)));
            for acc in [la4[s.la].get_or_insert_with(|| (empty(), 0.0)), &mut nat4] {
                acc.0.pupils += t.pupils;
                acc.1 += t.p8 * t.pupils as f64;
                for (x, y) in [(&mut acc.0.dis, t.dis), (&mut acc.0.other, t.other), (&mut acc.0.girls, t.girls), (&mut acc.0.boys, t.boys), (&mut acc.0.att8, t.att8), (&mut acc.0.em5, t.em5), (&mut acc.0.em4, t.em4), (&mut acc.0.ebacc, t.ebacc), (&mut acc.0.entry, t.entry), (&mut acc.0.dis_em5, t.dis_em5), (&mut acc.0.other_em5, t.other_em5)] {
                    x.add(y);
                }
            }
        }
        for (li, t) in la4.iter_mut().enumerate() {
            if let Some((t, p8sum)) = t {
                t.p8 = round_half_away(*p8sum / t.pupils.max(1) as f64, 2);
                let ids = ["4".into(), las[li].code.clone(), String::new(), String::new(), String::new(), String::new(), String::new()];
                push_row(&mut out, &ks4_cells(ids, t, None), "\r\n");
            }
        }
        nat4.0.p8 = round_half_away(nat4.1 / nat4.0.pupils.max(1) as f64, 2);
        for rect in ["5", "7"] {
            let ids = [rect.into(), String::new(), String::new(), String::new(), String::new(), String::new(), String::new()];
            push_row(&mut out, &ks4_cells(ids, &nat4.0, None), "\r\n");
        }
        write_file(dir, &format!("{}/england_ks4final.csv", folder(year)), out.as_bytes(), &mut files)?;

        // ---- Census (January) and absence.
        let mut census = String::from(bom);
        census.push_str("URN,LA,ESTAB,SCHOOLTYPE,NOR,NORG,NORB,PNORG,PNORB,TSENELSE,PSENELSE,TSENELK,PSENELK,NUMEAL,NUMENGFL,NUMUNCFL,PNUMEAL,PNUMENGFL,PNUMUNCFL,NUMFSM,NUMFSMEVER,PNUMFSMEVER\n");
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
            let nor = ((s.size as f64 * years_in) * (1.0 + 0.03 * yr.normal())).round().max(5.0);
            let girls = (nor * (0.49 + 0.02 * yr.normal())).round().clamp(0.0, nor);
            let ehcp = if s.phase == Phase::Special { nor } else { (nor * 0.017 * (1.0 + 0.3 * yr.normal())).round().max(0.0) };
            let support = if s.phase == Phase::Special { 0.0 } else { (nor * s.sen).round() };
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
            let _ = writeln!(census, "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}", s.urn, la.code, s.estab, stype, nor, girls, nor - girls, p(girls), p(nor - girls), ehcp, p(ehcp), support, p(support), eal, nor - eal, 0, p(eal), p(nor - eal), 0, fsm, fsm6, p(fsm6));
            for (k, v) in [nor, girls, ehcp, support, eal, fsm, fsm6, nor - eal].into_iter().enumerate() {
                nat_c[idx][k] += v;
            }
            let overall = (4.3 - 1.2 * (s.effect + la.effect) + 6.0 * (s.fsm - 0.2) + 0.6 * yr.normal() + if s.phase == Phase::Special { 4.0 } else { 0.0 }).clamp(1.5, 25.0);
            let pa = (overall * 2.4 + 2.0 * yr.normal()).clamp(0.0, 70.0);
            if nor < 20.0 {
                let _ = writeln!(abs, "{},{},{},SUPP,SUPP", la.code, s.estab, s.urn);
            } else {
                let _ = writeln!(abs, "{},{},{},{},{}", la.code, s.estab, s.urn, fmt_num(round_half_away(overall, 1), 1), fmt_num(round_half_away(pa, 1), 1));
                nat_a[idx].0 += nor;
                nat_a[idx].1 += overall * nor;
                nat_a[idx].2 += pa * nor;
            }
        }
        for (idx, (code, name)) in [("PRI", "State-funded primary"), ("SEC", "State-funded secondary"), ("SPE", "State-funded special school")].into_iter().enumerate() {
            let c = nat_c[idx];
            let p = |k: f64| fmt_num(round_half_away(100.0 * k / c[0].max(1.0), 1), 1);
            let _ = writeln!(census, "NAT,,{code},{name},{},{},{},{},{},{},{},{},{},{},{},0,{},{},0,{},{},{}", c[0], c[1], c[0] - c[1], p(c[1]), p(c[0] - c[1]), c[2], p(c[2]), c[3], p(c[3]), c[4], c[7], p(c[4]), p(c[7]), c[5], c[6], p(c[6]));
            let a = nat_a[idx];
            let _ = writeln!(abs, "NAT,{code},,{},{}", fmt_num(round_half_away(a.1 / a.0.max(1.0), 1), 1), fmt_num(round_half_away(a.2 / a.0.max(1.0), 1), 1));
        }
        // The January census of the summer-end year belongs to that year's folder.
        write_file(dir, &format!("{}/england_census.csv", folder(year)), census.as_bytes(), &mut files)?;
        write_file(dir, &format!("{}/england_abs.csv", folder(year)), abs.as_bytes(), &mut files)?;
    }

    write_lists(dir, &las, &schools, &mut rng, &mut files)?;
    write_lac(dir, &las, &lac_rows, &mut files)?;
    write_ofsted(dir, &las, &schools, &mut rng, &mut files)?;
    let readme = format!(
        "# Synthetic demo data\n\nGenerated by `attain demo` (seed {}). Nothing here is real: {} fictional LAs (codes 601-{}) \
         including the demo LA {} ({}), {} schools, results for 2016/17 to 2018/19, in the formats of the DfE and Ofsted files \
         (performance tables KS2, KS4, census and absence per year; a Get Information About Schools extract; the Ofsted \
         latest-inspection workbook; statistical neighbours in the 2021 and 2025 layouts; looked-after children's KS2 outcomes; \
         an LA code list).\n",
        opts.seed,
        las.len(),
        600 + las.len(),
        DEMO_LA_NAME,
        DEMO_LA_CODE,
        schools.len()
    );
    write_file(dir, "README.md", readme.as_bytes(), &mut files)?;
    Ok(DemoSummary { files, schools: schools.len(), las: las.len(), demo_la_code: DEMO_LA_CODE.into(), demo_la_name: DEMO_LA_NAME.into() })
}

fn write_lists(dir: &Path, las: &[La], schools: &[School], rng: &mut Rng, files: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    // LA code list (performance tables layout).
    let mut codes = String::from("LEA,LA Name,REGION,REGION NAME\n");
    for la in las {
        let (rc, rn) = REGIONS[la.region];
        let _ = writeln!(codes, "{},{},{},{}", la.code, q(&la.name), rc, rn);
    }
    write_file(dir, "lists/la_and_region_codes_meta.csv", codes.as_bytes(), files)?;
    // Statistical neighbours: the ten LAs nearest in context (disadvantage, EAL, region).
    let near = |i: usize, jitter: f64, rng: &mut Rng| -> Vec<(usize, f64)> {
        let mut d: Vec<(usize, f64)> = (0..las.len())
            .filter(|&j| j != i)
            .map(|j| {
                let (a, b) = (&las[i], &las[j]);
                let region = if a.region == b.region { 0.0 } else { 0.04 };
                (j, ((a.fsm - b.fsm).powi(2) + (a.eal - b.eal).powi(2)).sqrt() + region + jitter * rng.unit())
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
        let _ = write!(sn21, "{},{},{},{},{}", la.code, q(&la.name), la.code, rc, rn);
        for (j, d) in near(i, 0.0, rng) {
            let _ = write!(sn21, ",{},{}", las[j].code, band(d, true));
        }
        sn21.push_str(",\r\n");
        let _ = write!(sn25, "{},{},{},{}", la.code, q(&la.name), rc, rn);
        for (j, d) in near(i, 0.02, rng) {
            let b = band(d, false);
            let _ = write!(sn25, ",{},{}", las[j].code, if b == "Close" { "Close " } else { b });
        }
        sn25.push('\n');
    }
    write_file(dir, "neighbours/New_Statistical_Neighbour_Groupings_April_2021.csv", sn21.as_bytes(), files)?;
    write_file(dir, "neighbours/sn_model_2025_wide.csv", sn25.as_bytes(), files)?;
    // Get Information About Schools extract (a column subset, GIAS names and quoting).
    let cols = ["URN", "LA (code)", "LA (name)", "EstablishmentNumber", "EstablishmentName", "TypeOfEstablishment (name)", "EstablishmentTypeGroup (name)", "EstablishmentStatus (name)", "PhaseOfEducation (name)", "StatutoryLowAge", "StatutoryHighAge", "Gender (name)", "ReligiousCharacter (name)", "CensusDate", "NumberOfPupils", "PercentageFSM", "Town", "Postcode"];
    let mut gias = cols.iter().map(|c| format!("\"{c}\"")).collect::<Vec<_>>().join(",") + "\r\n";
    for s in schools {
        let la = &las[s.la];
        let (tname, group) = match s.nftype {
            "CY" => ("Community school", "Local authority maintained schools"),
            "VA" => ("Voluntary aided school", "Local authority maintained schools"),
            "VC" => ("Voluntary controlled school", "Local authority maintained schools"),
            "FD" => ("Foundation school", "Local authority maintained schools"),
            "CYS" => ("Community special school", "Local authority maintained schools"),
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
        let relig = if s.name.contains("St ") || s.name.contains("CE") { "Church of England" } else { "Does not apply" };
        let pc = format!("BS{} {}{}", 1 + s.urn % 40, s.urn % 9, ["AB", "DE", "FG", "HJ"][(s.urn % 4) as usize]);
        let _ = write!(gias, "{},\"{}\",\"{}\",\"{}\",\"{}\",\"{}\",\"{}\",\"Open\",\"{}\",{},{},\"Mixed\",\"{}\",\"17-01-2019\",\"{}\",\"{:.1}\",\"{}\",\"{}\"\r\n", s.urn, la.code, la.name.replace('"', "\"\""), s.estab, s.name.replace('"', "\"\""), tname, group, phase, lo, hi, relig, s.size * if s.phase == Phase::Primary { 7 } else { 5 }, s.fsm * 75.0, s.town, pc);
        let _ = rng.unit();
    }
    write_file(dir, "gias/edubase_extract.csv", gias.as_bytes(), files)
}

fn write_lac(dir: &Path, las: &[La], rows: &[(i32, usize, Tally)], files: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    let header = "time_period,time_identifier,geographic_level,country_code,country_name,region_code,region_name,old_la_code,la_name,new_la_code,social_care_group,version,t_read_eligible_pupils,t_read_met_expected_standard,pt_read_met_expected_standard,t_writta_eligible_pupils,t_writta_met_expected_standard,pt_writta_met_expected_standard,t_mat_eligible_pupils,t_mat_met_expected_standard,pt_mat_met_expected_standard,t_rwm_eligible_pupils,t_rwm_met_expected_standard,pt_rwm_met_expected_standard,t_gps_eligible_pupils,t_gps_met_expected_standard,pt_gps_met_expected_standard";
    let mut out = String::from("\u{feff}");
    out.push_str(header);
    out.push('\n');
    let x9 = "x,x,x,x,x,x,x,x,x";
    let line = |out: &mut String, y: i32, level: &str, code: &str, name: &str, t: Tally| {
        let tp = format!("{}{:02}", y - 1, y % 100);
        let (n, k, p) = if t.n <= 5 && level == "Local authority" { ("c".to_string(), "c".to_string(), "c".to_string()) } else { (t.n.to_string(), fmt_num(t.k, 0), fmt_num(round_half_away(100.0 * t.k / t.n.max(1) as f64, 0), 0)) };
        let (oc, ln) = if level == "Local authority" { (code, name) } else { ("", "") };
        let _ = writeln!(out, "{tp},Academic year,{level},E92000001,England,,,{oc},{},,CLA 12 months at 31 March,Final,{x9},{n},{k},{p},x,x,x", q(ln));
    };
    for &y in &YEARS {
        let mut nat = Tally::default();
        for (yy, li, t) in rows.iter().filter(|r| r.0 == y) {
            line(&mut out, *yy, "Local authority", &las[*li].code, &las[*li].name, *t);
            nat.add(*t);
        }
        line(&mut out, y, "National", "", "", nat);
    }
    write_file(dir, "ees/ks2_la.csv", out.as_bytes(), files)
}

fn write_ofsted(dir: &Path, las: &[La], schools: &[School], rng: &mut Rng, files: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    use rust_xlsxwriter::{Format, Workbook};
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("DFE_data_31_July_2018_SON")?;
    let date = Format::new().set_num_format("dd/mm/yyyy");
    for (c, h) in ["URN", "School name", "Ofsted phase", "Inspection date", "Publication date", "Overall effectiveness", "REPORURL"].iter().enumerate() {
        ws.write_string(0, c as u16, *h)?;
    }
    let mut r = 1u32;
    for s in schools.iter().filter(|s| s.opened < 2019) {
        let q = s.effect + las[s.la].effect + 0.5 * rng.normal();
        let grade = if q > 0.75 { 1 } else if q > -0.45 { 2 } else if q > -1.05 { 3 } else { 4 };
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
    wb.set_properties(&rust_xlsxwriter::DocProperties::new().set_creation_datetime(&rust_xlsxwriter::ExcelDateTime::from_ymd(2018, 7, 31)?));
    let bytes = wb.save_to_buffer()?;
    write_file(dir, "ofsted/england_ofsted-schools.xlsx", &bytes, files)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small(dir: &Path) -> DemoOptions {
        DemoOptions { out_dir: dir.to_path_buf(), seed: 7, schools: 600, las: 12 }
    }

    #[test]
    fn deterministic_and_consistent() {
        let a = std::env::temp_dir().join(format!("attain-demo-a-{}", std::process::id()));
        let b = std::env::temp_dir().join(format!("attain-demo-b-{}", std::process::id()));
        let sa = generate(&small(&a)).unwrap();
        generate(&small(&b)).unwrap();
        for f in &sa.files {
            let rel = f.strip_prefix(&a).unwrap();
            assert_eq!(std::fs::read(f).unwrap(), std::fs::read(b.join(rel)).unwrap(), "{}", rel.display());
        }
        // The KS2 LA row's TELIG is the sum of its schools' TELIG.
        let ks2 = std::fs::read_to_string(a.join("2018-2019/england_ks2final.csv")).unwrap();
        let rows: Vec<Vec<&str>> = ks2.split("\r\n").skip(1).filter(|l| !l.is_empty()).map(|l| l.split(',').collect()).collect();
        let schools: usize = rows.iter().filter(|r| (r[0] == "1" || r[0] == "2") && r[1] == DEMO_LA_CODE).map(|r| r[7].parse::<usize>().unwrap()).sum();
        let la: usize = rows.iter().find(|r| r[0] == "3" && r[1] == DEMO_LA_CODE).unwrap()[7].parse().unwrap();
        assert_eq!(schools, la);
        // Census NAT PRI is the sum of primary rows.
        let census = std::fs::read_to_string(a.join("2018-2019/england_census.csv")).unwrap();
        let pri: f64 = census.lines().filter(|l| l.contains(",State-funded primary,") && !l.starts_with("NAT")).map(|l| l.split(',').nth(4).unwrap().parse::<f64>().unwrap()).sum();
        let nat: f64 = census.lines().find(|l| l.starts_with("NAT,,PRI")).unwrap().split(',').nth(4).unwrap().parse().unwrap();
        assert_eq!(pri, nat);
        let sn = std::fs::read_to_string(a.join("neighbours/New_Statistical_Neighbour_Groupings_April_2021.csv")).unwrap();
        assert!(sn.lines().skip(1).all(|l| l.split(',').count() == 5 + 20 + 1));
        let _ = std::fs::remove_dir_all(&a);
        let _ = std::fs::remove_dir_all(&b);
    }
}
