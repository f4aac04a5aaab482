//! Flags checked against the catalogue and the store before any work, each refused with exit 2
//! and a "did you mean" suggestion (`--measure`, `--group`, `--la`, `--school`): a typo must
//! never pass as an empty answer.

use crate::analysis::data::Data;
use crate::catalogue::Catalogue;
use crate::error::ConfigError;
use crate::store::frame::{self, ResultFilter};
use crate::store::schema::Level;

/// The closest candidate to `given`, when it is close enough to be a likely typo.
pub fn suggest<'c>(given: &str, candidates: impl IntoIterator<Item = &'c str>) -> Option<&'c str> {
    let given = given.to_ascii_lowercase();
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(&given, &c.to_ascii_lowercase()), c))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

/// "; did you mean x?" or nothing.
fn did_you_mean(s: Option<&str>) -> String {
    s.map(|s| format!("; did you mean {s:?}?"))
        .unwrap_or_default()
}

/// A catalogue measure, or a LAIT measure (`lait:ID`).
pub fn measure(cat: &Catalogue, id: &str) -> Result<(), ConfigError> {
    if cat.measure(id).is_some() || id.starts_with("lait:") {
        return Ok(());
    }
    let ids: Vec<&str> = cat.measures.iter().map(|m| m.id.as_str()).collect();
    Err(ConfigError::new(
        "--measure",
        format!(
            "unknown measure {id:?}{} (see `attain measures`)",
            did_you_mean(suggest(id, ids))
        ),
    ))
}

/// A catalogue pupil group (published figures: no combinations).
pub fn group(cat: &Catalogue, id: &str) -> Result<(), ConfigError> {
    if cat.group(id).is_some() {
        return Ok(());
    }
    let ids: Vec<&str> = cat.groups.iter().map(|g| g.id.as_str()).collect();
    Err(ConfigError::new(
        "--group",
        format!(
            "unknown group {id:?}{} (see `attain measures --groups`)",
            did_you_mean(suggest(id, ids))
        ),
    ))
}

/// An LA (or other area) code the store knows.
pub fn la(data: &Data, code: &str) -> anyhow::Result<()> {
    let areas = if data.store.table_path("areas").exists() {
        frame::area_names(&data.store.read("areas")?)?
    } else {
        Vec::new()
    };
    if areas.iter().any(|(c, _)| c == code) {
        return Ok(());
    }
    // A store built from one LA's files may have its figures but no name for it.
    let any = |f: ResultFilter| -> anyhow::Result<bool> { Ok(!data.query(&f)?.is_empty()) };
    if data.store.table_path("results").exists()
        && (any(ResultFilter {
            level: Some(Level::La),
            code: Some(code.to_string()),
            ..Default::default()
        })? || any(ResultFilter {
            level: Some(Level::School),
            la_code: Some(code.to_string()),
            ..Default::default()
        })?)
    {
        return Ok(());
    }
    anyhow::bail!(ConfigError::new(
        "--la",
        format!(
            "no LA {code:?} in the store at {}{} (LAs are given by their 3-digit code, e.g. 650)",
            data.store.dir.display(),
            la_hint(code, &areas)
        )
    ))
}

/// An LA given with pupil-level files: one whose schools have pupils in the files (the
/// store's schools say which LA each school is in).
pub fn pupil_la(
    code: &str,
    pupils: &[crate::ingest::pupils::Pupil],
    places: &crate::analysis::pupils::Places,
) -> Result<(), ConfigError> {
    let mut las: Vec<(String, String)> = pupils
        .iter()
        .filter_map(|p| places.schools.get(&p.urn)?.1.clone())
        .collect::<std::collections::BTreeSet<String>>()
        .into_iter()
        .map(|c| {
            let name = places.las.get(&c).cloned().unwrap_or_default();
            (c, name)
        })
        .collect();
    if las.iter().any(|(c, _)| c == code) {
        return Ok(());
    }
    let message = if las.is_empty() {
        format!(
            "LA {code:?}: the store has no schools of the pupil files' URNs, so their LAs are \
             unknown (give --store a store with the LA's school information)"
        )
    } else {
        let hint = la_hint(code, &las);
        las.truncate(5);
        format!(
            "no pupils in the files are at schools of LA {code:?}{hint} (the files' schools are in {})",
            las.iter()
                .map(|(c, n)| if n.is_empty() { c.clone() } else { format!("{c} ({n})") })
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    Err(ConfigError::new("--la", message))
}

/// "; did you mean 650 (Borsetshire)?" for an LA given wrongly, or nothing. Codes are digits:
/// suggested by one changed digit; a name, by its likeness to the LAs' names.
fn la_hint(code: &str, areas: &[(String, String)]) -> String {
    let by_code = areas
        .iter()
        .filter(|(c, _)| c.len() == code.len() && strsim::hamming(c, code) == Ok(1))
        .map(|(c, n)| format!("{c} ({n})"))
        .next();
    let by_name = suggest(code, areas.iter().map(|(_, n)| n.as_str())).and_then(|n| {
        areas
            .iter()
            .find(|(_, name)| name == n)
            .map(|(c, n)| format!("{c} ({n})"))
    });
    by_name
        .or(by_code)
        .map(|s| format!("; did you mean {s}?"))
        .unwrap_or_default()
}

/// Years for messages, runs collapsed: "2017-2019", "2014, 2017-2019", or "no years".
pub fn span(years: &[i32]) -> String {
    let mut runs: Vec<(i32, i32)> = Vec::new();
    for &y in years {
        match runs.last_mut() {
            Some((_, end)) if *end + 1 == y => *end = y,
            _ => runs.push((y, y)),
        }
    }
    if runs.is_empty() {
        return "no years".into();
    }
    runs.iter()
        .map(|(a, b)| {
            if a == b {
                a.to_string()
            } else {
                format!("{a}-{b}")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Schools named with `--school` that the store has no results for in `year`: say whether it
/// does not know the school at all, or has it for other years.
pub fn schools_in_year(data: &Data, urns: &[String], year: i32) -> anyhow::Result<()> {
    for urn in urns {
        let years: Vec<i32> = {
            let mut y: Vec<i32> = data
                .query(&ResultFilter {
                    level: Some(Level::School),
                    code: Some(urn.clone()),
                    ..Default::default()
                })?
                .into_iter()
                .map(|r| r.year)
                .collect();
            y.sort();
            y.dedup();
            y
        };
        if years.contains(&year) {
            continue;
        }
        let name = data.name(urn);
        let msg = if years.is_empty() && name.is_empty() {
            format!("URN {urn} is not in the store")
        } else if years.is_empty() {
            format!("the store has URN {urn} ({name}) but no results for it")
        } else {
            format!(
                "the store has URN {urn}{} but not for {year} ({}): it has {}",
                if name.is_empty() {
                    String::new()
                } else {
                    format!(" ({name})")
                },
                crate::year::academic_label(year),
                span(&years)
            )
        };
        anyhow::bail!(ConfigError::new("--school", msg));
    }
    Ok(())
}
