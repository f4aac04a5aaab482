//! Parsing one published cell into a number or a reason why there is no number.
//!
//! Published files withhold values with tokens (SUPP, NE, x, c, ...). Those are
//! never zeros: each keeps its reason in [`Status`], which travels with the value
//! into the store and on to every output.

/// Why a value is (or is not) present. `Ok` means a number was published.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Status {
    Ok,
    /// Empty cell or a lone space: the field does not apply to this row.
    Blank,
    /// SUPP: suppressed (small numbers) in performance tables.
    Supp,
    /// NE: no entries.
    Ne,
    /// NP: not published.
    Np,
    /// NA: not applicable / not available.
    Na,
    /// NEW: new institution.
    New,
    /// LOWCOV: low coverage of prior attainment.
    Lowcov,
    /// SP: small percentage (between 0% and 0.5%).
    Sp,
    /// DNS: did not submit.
    Dns,
    /// RE: redacted.
    Re,
    /// x: not available (EES).
    X,
    /// c: confidential / suppressed (EES).
    C,
    /// z: not applicable (EES).
    Z,
    /// k: rounds to zero but is not zero (EES). Stored without a value.
    K,
    /// `-`: no value (LAIT).
    Dash,
    /// `..`: not available (ONS-style).
    DotDot,
}

impl Status {
    /// The token as it appears in published files (and in our outputs).
    pub fn token(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Blank => "blank",
            Status::Supp => "SUPP",
            Status::Ne => "NE",
            Status::Np => "NP",
            Status::Na => "NA",
            Status::New => "NEW",
            Status::Lowcov => "LOWCOV",
            Status::Sp => "SP",
            Status::Dns => "DNS",
            Status::Re => "RE",
            Status::X => "x",
            Status::C => "c",
            Status::Z => "z",
            Status::K => "k",
            Status::Dash => "-",
            Status::DotDot => "..",
        }
    }

    /// What the token means, for notes pages and `attain inspect`.
    pub fn meaning(self) -> &'static str {
        match self {
            Status::Ok => "published value",
            Status::Blank => "blank: the field does not apply to this row",
            Status::Supp => "suppressed to protect small numbers",
            Status::Ne => "no entries",
            Status::Np => "not published",
            Status::Na => "not applicable or not available",
            Status::New => "new institution",
            Status::Lowcov => "low coverage of prior attainment",
            Status::Sp => "small percentage (between 0% and 0.5%)",
            Status::Dns => "did not submit",
            Status::Re => "redacted",
            Status::X => "not available",
            Status::C => "confidential (suppressed)",
            Status::Z => "not applicable",
            Status::K => "rounds to zero, but is not zero",
            Status::Dash => "no value published",
            Status::DotDot => "not available",
        }
    }

    pub fn from_token(token: &str) -> Option<Status> {
        Some(match token {
            "ok" => Status::Ok,
            "blank" | "" => Status::Blank,
            "SUPP" => Status::Supp,
            "NE" => Status::Ne,
            "NP" => Status::Np,
            "NA" => Status::Na,
            "NEW" => Status::New,
            "LOWCOV" => Status::Lowcov,
            "SP" => Status::Sp,
            "DNS" => Status::Dns,
            "RE" => Status::Re,
            "x" => Status::X,
            "c" => Status::C,
            "z" => Status::Z,
            "k" => Status::K,
            "-" => Status::Dash,
            ".." => Status::DotDot,
            _ => return None,
        })
    }

    pub const ALL: [Status; 17] = [
        Status::Ok,
        Status::Blank,
        Status::Supp,
        Status::Ne,
        Status::Np,
        Status::Na,
        Status::New,
        Status::Lowcov,
        Status::Sp,
        Status::Dns,
        Status::Re,
        Status::X,
        Status::C,
        Status::Z,
        Status::K,
        Status::Dash,
        Status::DotDot,
    ];
}

/// A parsed cell: either a finite number with `Status::Ok`, or no number and the reason.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cell {
    pub value: Option<f64>,
    pub status: Status,
}

impl Cell {
    pub fn ok(v: f64) -> Cell {
        Cell {
            value: Some(v),
            status: Status::Ok,
        }
    }
    pub fn missing(status: Status) -> Cell {
        Cell {
            value: None,
            status,
        }
    }
}

/// Why a cell could not be read. The caller adds file, row and column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadValue {
    pub text: String,
    pub reason: &'static str,
}

/// Parse one cell. Accepts `68%`, `45.4%`, `7.0000000000000007E-2`, `1,234`,
/// blanks and every known withholding token; anything else is an error.
pub fn parse_cell(raw: &str) -> Result<Cell, BadValue> {
    let text = raw.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}');
    if text.is_empty() {
        return Ok(Cell::missing(Status::Blank));
    }
    if let Some(status) = token_status(text) {
        return Ok(Cell::missing(status));
    }
    let number = text.strip_suffix('%').unwrap_or(text).trim_end();
    // Thousands separators appear in some EES and Excel exports ("12,818").
    let cleaned;
    let number = if number.contains(',') && thousands_grouped(number) {
        cleaned = number.replace(',', "");
        cleaned.as_str()
    } else {
        number
    };
    if !looks_numeric(number) {
        return Err(BadValue {
            text: raw.to_string(),
            reason: "not a number and not a known status token",
        });
    }
    match number.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(Cell::ok(v)),
        Ok(_) => Err(BadValue {
            text: raw.to_string(),
            reason: "number out of range",
        }),
        Err(_) => Err(BadValue {
            text: raw.to_string(),
            reason: "not a number and not a known status token",
        }),
    }
}

fn token_status(text: &str) -> Option<Status> {
    Some(match text {
        "SUPP" | "supp" => Status::Supp,
        "NE" => Status::Ne,
        "NP" => Status::Np,
        "NA" | "N/A" | "n/a" => Status::Na,
        "NEW" => Status::New,
        "LOWCOV" => Status::Lowcov,
        "SP" => Status::Sp,
        "DNS" => Status::Dns,
        "RE" => Status::Re,
        "x" | "X" => Status::X,
        "c" | "C" => Status::C,
        "z" | "Z" => Status::Z,
        "k" => Status::K,
        "-" | "–" => Status::Dash,
        ".." => Status::DotDot,
        _ => return None,
    })
}

/// Only plain decimal/scientific notation: Rust's parser also accepts "inf" and "NaN".
fn looks_numeric(s: &str) -> bool {
    let b = s.as_bytes();
    if b.is_empty() {
        return false;
    }
    let mut digits = 0usize;
    let mut dots = 0usize;
    let mut exp = false;
    let mut i = 0usize;
    if b[0] == b'-' || b[0] == b'+' {
        i = 1;
    }
    while i < b.len() {
        match b[i] {
            b'0'..=b'9' => digits += 1,
            b'.' if !exp => {
                dots += 1;
                if dots > 1 {
                    return false;
                }
            }
            b'e' | b'E' if !exp && digits > 0 => {
                exp = true;
                if i + 1 < b.len() && (b[i + 1] == b'-' || b[i + 1] == b'+') {
                    i += 1;
                }
                if i + 1 >= b.len() {
                    return false;
                }
            }
            _ => return false,
        }
        i += 1;
    }
    digits > 0
}

fn thousands_grouped(s: &str) -> bool {
    let body = s.trim_start_matches(['-', '+']);
    let int_part = body.split('.').next().unwrap_or("");
    let groups: Vec<&str> = int_part.split(',').collect();
    groups.len() > 1
        && !groups[0].is_empty()
        && groups[0].len() <= 3
        && groups[1..]
            .iter()
            .all(|g| g.len() == 3 && g.bytes().all(|c| c.is_ascii_digit()))
}

/// Round half away from zero, as DfE does (2.5 -> 3, -2.5 -> -3), to `dps` places.
/// Works on the decimal representation so that 67.75 -> 67.8 and not 67.7.
pub fn round_half_away(v: f64, dps: u32) -> f64 {
    let factor = 10f64.powi(dps as i32);
    let scaled = v * factor;
    // Nudge by a few ulps so that binary representation error (x.4999999) does not flip a half.
    let nudged = scaled + scaled.signum() * scaled.abs().max(1.0) * 4.0 * f64::EPSILON;
    nudged.round() / factor
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_and_float_artefacts() {
        assert_eq!(parse_cell("68%").unwrap(), Cell::ok(68.0));
        assert_eq!(parse_cell("45.4%").unwrap(), Cell::ok(45.4));
        assert_eq!(
            parse_cell("7.0000000000000007E-2").unwrap().value,
            Some(0.07)
        );
        assert_eq!(parse_cell("0.56999999999999995").unwrap().value, Some(0.57));
        assert_eq!(parse_cell("12,818").unwrap(), Cell::ok(12818.0));
        assert_eq!(parse_cell("-0.18").unwrap(), Cell::ok(-0.18));
    }

    #[test]
    fn tokens_keep_their_reason_and_never_become_zero() {
        for (t, s) in [
            ("SUPP", Status::Supp),
            ("NE", Status::Ne),
            ("NP", Status::Np),
            ("NA", Status::Na),
            ("NEW", Status::New),
            ("LOWCOV", Status::Lowcov),
            ("SP", Status::Sp),
            ("DNS", Status::Dns),
            ("x", Status::X),
            ("c", Status::C),
            ("z", Status::Z),
            ("k", Status::K),
            ("-", Status::Dash),
            ("..", Status::DotDot),
            (" ", Status::Blank),
            ("", Status::Blank),
        ] {
            let c = parse_cell(t).unwrap();
            assert_eq!(c.status, s, "{t}");
            assert_eq!(c.value, None, "{t}");
        }
    }

    #[test]
    fn rejects_garbage() {
        for t in [
            "12..5", "1e400", "inf", "NaN", "abc", "1.2.3", "5e", "%", "--1",
        ] {
            assert!(parse_cell(t).is_err(), "{t}");
        }
    }

    #[test]
    fn rounding_half_away_from_zero() {
        assert_eq!(round_half_away(67.75, 0), 68.0);
        assert_eq!(round_half_away(2.5, 0), 3.0);
        assert_eq!(round_half_away(-2.5, 0), -3.0);
        assert_eq!(round_half_away(33.75, 1), 33.8);
        assert_eq!(round_half_away(0.125, 2), 0.13);
        assert_eq!(round_half_away(49.1, 0), 49.0);
    }
}
