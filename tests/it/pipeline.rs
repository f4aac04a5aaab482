//! `attain run`: stages run in order, write a manifest, and are skipped when unchanged.

use crate::common::{bin, raw, raw_dir, scratch};

#[test]
fn a_second_run_with_unchanged_inputs_does_no_work() {
    if raw_dir().is_none() {
        return;
    }
    let dir = scratch("pipeline");
    let input = dir.join("in");
    std::fs::create_dir_all(&input).unwrap();
    std::fs::copy(
        raw("clarelgibson-hants-surrey/data-in/ks2/2018-850-ks2.csv"),
        input.join("2018-850-ks2.csv"),
    )
    .unwrap();
    let toml = format!(
        "name = \"t\"\noutput = \"{out}\"\n[[stage]]\nname = \"ingest\"\nrun = \"ingest\"\ninputs = \
            [\"{inp}\"]\noutputs = [\"{store}\"]\n",
        out = dir.join("out").display(),
        inp = input.display(),
        store = dir.join("store").display()
    );
    let p = dir.join("t.toml");
    std::fs::write(&p, toml).unwrap();

    let first = bin().arg("run").arg(&p).output().unwrap();
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("out/manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["stages"][0]["outcome"], "ran");
    assert_eq!(
        manifest["inputs"][0]["path"].as_str().unwrap(),
        attain::ingest::display_path(&input.join("2018-850-ks2.csv"))
    );
    let sha = manifest["inputs"][0]["sha256"].as_str().unwrap();
    assert_eq!(sha.len(), 64);
    assert_eq!(manifest["tool_version"], attain::version());
    assert!(dir.join("store/results.parquet").exists());

    let second = bin().arg("run").arg(&p).output().unwrap();
    assert!(second.status.success());
    let err = String::from_utf8_lossy(&second.stderr);
    assert!(
        err.contains("stage ingest: inputs unchanged, skipped") && err.contains("nothing to do"),
        "{err}"
    );

    // Change an input: the stage runs again.
    let mut text = std::fs::read(input.join("2018-850-ks2.csv")).unwrap();
    text.extend_from_slice(b"\r\n");
    std::fs::write(input.join("2018-850-ks2.csv"), text).unwrap();
    let third = bin().arg("run").arg(&p).output().unwrap();
    assert!(third.status.success());
    assert!(String::from_utf8_lossy(&third.stderr).contains("stage ingest: running ingest"));
}

#[test]
fn an_unknown_step_is_a_config_error() {
    let dir = scratch("pipeline-bad");
    let p = dir.join("bad.toml");
    std::fs::write(
        &p,
        "name = \"b\"\n[[stage]]\nname = \"x\"\nrun = \"frobnicate\"\n",
    )
    .unwrap();
    let out = bin().arg("run").arg(&p).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown step \"frobnicate\""));
}

#[test]
fn the_demo_pipeline_runs_from_nothing_and_ranks_the_demo_la() {
    let dir = scratch("demo-pipeline");
    let toml = format!(
        "name = \"demo\"\noutput = \"{out}\"\n[[stage]]\nname = \"demo-data\"\nrun = \"demo\"\noutputs = \
            [\"{data}\"]\noptions = {{ schools = 1500, las = 20 }}\n[[stage]]\nname = \"ingest\"\nrun = \
            \"ingest\"\ninputs = [\"{data}\"]\noutputs = [\"{store}\"]\n",
        out = dir.join("out").display(),
        data = dir.join("data").display(),
        store = dir.join("store").display()
    );
    let p = dir.join("demo.toml");
    std::fs::write(&p, toml).unwrap();
    let out = bin().arg("run").arg(&p).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rank = bin()
        .args([
            "rank",
            "--measure",
            "ks2_rwm_expected",
            "--la",
            "650",
            "--neighbours",
            "2021",
            "--format",
            "json",
            "--store",
        ])
        .arg(dir.join("store"))
        .output()
        .unwrap();
    assert!(
        rank.status.success(),
        "{}",
        String::from_utf8_lossy(&rank.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&rank.stdout).unwrap();
    assert_eq!(v[0]["la_name"], "Borsetshire");
    assert_eq!(v[0]["year"], 2019);
    assert_eq!(v[0]["of"], 20, "every demo LA has a KS2 figure");
    assert_eq!(v[0]["sn_of"], 11, "the LA and its ten neighbours");
    // The demo's LA rows are rebuilt exactly from its school rows (TELIG).
    let rec = bin()
        .args([
            "reconcile",
            "--measure",
            "ks2_cohort",
            "--la",
            "650",
            "--format",
            "json",
            "--store",
        ])
        .arg(dir.join("store"))
        .output()
        .unwrap();
    let r: serde_json::Value = serde_json::from_slice(&rec.stdout).unwrap();
    assert_eq!(r[0]["explanation"], "exact");
    // National figures are rebuilt from every school in a national download.
    let rec = bin()
        .args([
            "reconcile",
            "--measure",
            "ks2_rwm_expected",
            "--format",
            "json",
            "--store",
        ])
        .arg(dir.join("store"))
        .output()
        .unwrap();
    let r: serde_json::Value = serde_json::from_slice(&rec.stdout).unwrap();
    let england = r
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["code"] == "E92000001")
        .unwrap();
    assert!(england["schools"].as_u64().unwrap() > 1000);
    assert!(england["difference"].as_f64().unwrap().abs() <= 1.0);
}

#[test]
fn the_charts_and_workbook_stages_draw_the_demo_la_from_a_charts_section() {
    let dir = scratch("charts-pipeline");
    let toml = format!(
        "name = \"charts\"\noutput = \"{out}\"\n[la]\ncode = \"650\"\n[charts]\nmeasures = \
            [\"ks2_rwm_expected\"]\nyears = 3\ngaps = []\n\
         [[stage]]\nname = \"demo-data\"\nrun = \"demo\"\noutputs = [\"{data}\"]\noptions = {{ schools = 1500, las = \
             20 }}\n\
         [[stage]]\nname = \"ingest\"\nrun = \"ingest\"\ninputs = [\"{data}\"]\noutputs = [\"{store}\"]\n\
         [[stage]]\nname = \"charts\"\nrun = \"charts\"\ninputs = [\"{store}\"]\noutputs = [\"{charts}\"]\n\
         [[stage]]\nname = \"workbook\"\nrun = \"workbook\"\ninputs = [\"{store}\"]\noutputs = [\"{xlsx}\"]\noptions \
             = {{ rules = \"{rules}\" }}\n",
        out = dir.join("out").display(),
        data = dir.join("data").display(),
        store = dir.join("store").display(),
        charts = dir.join("charts").display(),
        xlsx = dir.join("650.xlsx").display(),
        rules = concat!(env!("CARGO_MANIFEST_DIR"), "/pipelines/rules/merton.toml"),
    );
    let p = dir.join("charts.toml");
    std::fs::write(&p, toml).unwrap();
    let out = bin().arg("run").arg(&p).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("charts/charts.json")).unwrap()).unwrap();
    let names: Vec<&str> = json["charts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "650-ks2-rwm-expected-neighbours-2019",
            "650-ks2-rwm-expected-trend",
            "650-ks2-rwm-expected-rank",
            "650-ofsted-good-or-outstanding"
        ]
    );
    for n in &names {
        assert!(
            dir.join("charts").join(format!("{n}.png")).exists()
                && dir.join("charts").join(format!("{n}.svg")).exists()
        );
    }
    assert!(dir.join("650.xlsx").exists());
    let again = bin().arg("run").arg(&p).output().unwrap();
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("stage charts: inputs unchanged, skipped")
    );
}
