//! The store as a BI tool reads it: opened with DuckDB (the `duckdb` Python package), the
//! README's query run exactly as written, label tables, column names SQL can use unquoted,
//! school types as names with their codes, and an older store's `group` column.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::common::{bin, copy_dir, csv_rows, demo_world, real_store, scratch};

/// Rows of a DuckDB query as JSON objects (column -> value). None where the duckdb Python
/// package is absent (which fails under CI=true: .ci/run installs it).
fn duckdb(sql: &str) -> Option<Vec<BTreeMap<String, Value>>> {
    const RUN: &str = "import sys, json, duckdb\n\
        rel = duckdb.sql(sys.stdin.read())\n\
        print(json.dumps([dict(zip(rel.columns, r)) for r in rel.fetchall()], default=str))";
    let has = Command::new("python3")
        .args(["-c", "import duckdb"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !has {
        assert_ne!(
            std::env::var("CI").as_deref(),
            Ok("true"),
            "the duckdb Python package is missing (CI=true: .ci/run installs it)"
        );
        eprintln!("SKIPPED: the duckdb Python package is not installed");
        return None;
    }
    let mut child = Command::new("python3")
        .args(["-c", RUN])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(sql.as_bytes())
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(
        o.status.success(),
        "duckdb: {}\n{sql}",
        String::from_utf8_lossy(&o.stderr)
    );
    Some(serde_json::from_slice(&o.stdout).unwrap())
}

/// The README's DuckDB query, as printed there, on the store at `store`.
fn readme_query(store: &Path) -> String {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let section = &readme[readme
        .find("## The store in DuckDB")
        .expect("the README's BI section")..];
    let start = section.find("```sql\n").expect("a sql block") + "```sql\n".len();
    let sql = &section[start..start + section[start..].find("```").unwrap()];
    assert!(sql.contains("'output/store/"));
    sql.replace("'output/store/", &format!("'{}/", store.display()))
}

fn rank_json(store: &Path, measure: &str, year: &str) -> Vec<Value> {
    let o = bin()
        .args([
            "rank",
            "--measure",
            measure,
            "--year",
            year,
            "--format",
            "json",
            "--store",
        ])
        .arg(store)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

#[test]
fn the_readme_duckdb_query_gives_attain_ranks_figures() {
    let world = demo_world();
    let store = world.join("store");
    let sql = readme_query(&store);
    // The query is about this measure, group and year: the comparison below is too.
    for part in [
        "r.measure = 'ks2_rwm_expected'",
        "r.pupil_group = 'all'",
        "r.year = 2019",
    ] {
        assert!(sql.contains(part), "the README's query changed: {part}");
    }
    let Some(rows) = duckdb(&sql) else { return };
    let ranked: BTreeMap<String, Value> = rank_json(&store, "ks2_rwm_expected", "2019")
        .into_iter()
        .filter(|r| r["value"].is_number())
        .map(|r| (r["la_code"].as_str().unwrap().to_string(), r))
        .collect();
    assert_eq!(rows.len(), ranked.len(), "one row per LA with a figure");
    // Regions as the demo's code list gives them (computed from the demo file itself).
    let regions: BTreeMap<String, String> =
        csv_rows(&world.join("data/lists/la_and_region_codes_meta.csv"))
            .into_iter()
            .map(|r| (r["LEA"].clone(), r["REGION NAME"].clone()))
            .collect();
    let cat = attain::catalogue::Catalogue::builtin();
    let label = cat
        .measure("ks2_rwm_expected")
        .unwrap()
        .short_label()
        .to_string();
    for r in &rows {
        let code = r["la_code"].as_str().unwrap();
        let a = &ranked[code];
        assert_eq!(r["value"].as_f64(), a["value"].as_f64(), "{code} value");
        assert_eq!(r["rank"].as_u64(), a["rank"].as_u64(), "{code} rank");
        assert_eq!(r["local_authority"], a["la_name"], "{code} name");
        assert_eq!(r["region"].as_str(), Some(regions[code].as_str()), "{code}");
        assert_eq!(r["measure"].as_str(), Some(label.as_str()));
        assert_eq!(r["pupils"].as_str(), Some("All pupils"));
    }
}

#[test]
fn no_store_column_is_a_reserved_word_in_sql() {
    let store = demo_world().join("store");
    let mut sql = String::from(
        "WITH reserved AS (SELECT keyword_name FROM duckdb_keywords() WHERE keyword_category = 'reserved'), cols AS (",
    );
    let tables: Vec<String> = std::fs::read_dir(&store)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "parquet"))
        .map(|p| p.display().to_string())
        .collect();
    assert!(tables.len() >= 15, "{tables:?}");
    let parts: Vec<String> = tables
        .iter()
        .map(|t| format!("SELECT '{t}' AS tbl, column_name FROM (DESCRIBE SELECT * FROM '{t}')"))
        .collect();
    sql.push_str(&parts.join(" UNION ALL "));
    sql.push_str(") SELECT tbl, column_name, column_name IN (SELECT keyword_name FROM reserved) AS is_reserved FROM \
        cols");
    let Some(rows) = duckdb(&sql) else { return };
    let reserved: Vec<String> = rows
        .iter()
        .filter(|r| r["is_reserved"] == Value::Bool(true))
        .map(|r| format!("{}: {}", r["tbl"], r["column_name"]))
        .collect();
    assert!(reserved.is_empty(), "{reserved:?}");
    // The check can fail: `group` is on DuckDB's list, and the results table's group column is `pupil_group`.
    let group = duckdb(
        "SELECT 'group' IN (SELECT keyword_name FROM duckdb_keywords() WHERE keyword_category = \
        'reserved') AS r",
    )
    .unwrap();
    assert_eq!(group[0]["r"], Value::Bool(true));
    assert!(rows
        .iter()
        .any(|r| r["tbl"].as_str().unwrap().ends_with("/results.parquet")
            && r["column_name"] == "pupil_group"));
}

#[test]
fn an_older_store_with_a_group_column_reads_as_before_and_is_rewritten_by_ingest() {
    let world = demo_world();
    let dir = scratch("bi-old-store");
    let old = dir.join("store");
    copy_dir(&world.join("store"), &old);
    let results = old.join("results.parquet");
    let renamed = dir.join("results-old.parquet");
    let Some(_) = duckdb(&format!(
        "COPY (SELECT * RENAME (pupil_group AS \"group\") FROM '{}') TO '{}' (FORMAT parquet)",
        results.display(),
        renamed.display()
    )) else {
        return;
    };
    std::fs::rename(&renamed, &results).unwrap();
    let columns = |p: &Path| -> Vec<String> {
        duckdb(&format!("DESCRIBE SELECT * FROM '{}'", p.display()))
            .unwrap()
            .iter()
            .map(|r| r["column_name"].as_str().unwrap().to_string())
            .collect()
    };
    assert!(columns(&results).contains(&"group".to_string()));
    for (measure, year) in [("ks2_rwm_expected", "2019"), ("ks2_rwm_higher", "2018")] {
        let ranks = rank_json(&old, measure, year);
        assert!(!ranks.is_empty(), "{measure} {year}");
        assert_eq!(
            ranks,
            rank_json(&world.join("store"), measure, year),
            "{measure} {year}"
        );
    }
    // The next ingest writes the new name.
    let o = bin()
        .arg("ingest")
        .arg(world.join("data/lists/la_and_region_codes_meta.csv"))
        .arg("--store")
        .arg(&old)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let now = columns(&results);
    assert!(now.contains(&"pupil_group".to_string()) && !now.contains(&"group".to_string()));
}

#[test]
fn label_tables_name_every_code_and_school_types_are_names_with_codes() {
    let Some(store) = real_store() else { return };
    let t = |name: &str| format!("'{}/{name}.parquet'", store.display());
    let Some(missing) = duckdb(&format!(
        "SELECT 'measure' AS kind, measure AS code FROM {r} EXCEPT SELECT 'measure', measure FROM {m} \
         UNION ALL (SELECT 'group', pupil_group FROM {r} EXCEPT SELECT 'group', pupil_group FROM {g}) \
         UNION ALL (SELECT 'la', code FROM {r} WHERE level = 'la' EXCEPT SELECT 'la', code FROM {a} WHERE level = \
             'la') \
         UNION ALL (SELECT 'type', school_type FROM {s} WHERE school_type IS NOT NULL EXCEPT SELECT 'type', \
             school_type FROM {st})",
        r = t("results"),
        m = t("measure_labels"),
        g = t("group_labels"),
        a = t("area_labels"),
        s = t("schools"),
        st = t("school_type_labels"),
    )) else {
        return;
    };
    assert!(missing.is_empty(), "codes without labels: {missing:?}");

    // Catalogue measures carry the catalogue's words; LAIT's its dictionary's.
    let cat = attain::catalogue::Catalogue::builtin();
    let labels: BTreeMap<String, (String, String)> = duckdb(&format!(
        "SELECT measure, label, source FROM {}",
        t("measure_labels")
    ))
    .unwrap()
    .into_iter()
    .map(|r| {
        (
            r["measure"].as_str().unwrap().to_string(),
            (
                r["label"].as_str().unwrap().to_string(),
                r["source"].as_str().unwrap().to_string(),
            ),
        )
    })
    .collect();
    for m in &cat.measures {
        assert_eq!(
            labels[&m.id],
            (m.short_label().to_string(), "catalogue".to_string()),
            "{}",
            m.id
        );
    }
    assert!(labels
        .iter()
        .any(|(id, (_, source))| id.starts_with("lait:") && source.contains("dfe-lait")));

    // Types: names, never the performance tables' codes, and each name with one code.
    let codes: BTreeSet<String> = cat
        .school_types
        .maintained
        .iter()
        .chain(&cat.school_types.academy)
        .chain(&cat.school_types.independent)
        .cloned()
        .collect();
    let types = duckdb(&format!(
        "SELECT school_type, school_type_code, count(*) AS n FROM {} WHERE school_type IS NOT NULL GROUP BY ALL",
        t("schools")
    ))
    .unwrap();
    assert!(!types.is_empty());
    for r in &types {
        let name = r["school_type"].as_str().unwrap();
        assert!(!codes.contains(name), "a code stored as a type name: {r:?}");
        if let Some(code) = r["school_type_code"].as_str() {
            assert_eq!(
                cat.school_types.names.get(code).map(String::as_str),
                Some(name),
                "{r:?}"
            );
        }
    }
    // Both kinds of source are read: GIAS's words and the performance tables' codes meet in
    // one name (an academy converter from either is `Academy (converter)`, `ACC`).
    assert!(types
        .iter()
        .any(|r| r["school_type"] == "Academy (converter)" && r["school_type_code"] == "ACC"));
}
