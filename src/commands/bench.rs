//! `attain bench ...`: timings printed as figures (speed is measured here, never in tests).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use crate::catalogue::Catalogue;

/// Ingest each year's directory of the demo national dataset, then all years together.
pub fn ingest(demo: &Path, repeat: usize, catalogue: Arc<Catalogue>) -> anyhow::Result<String> {
    let mut years: Vec<PathBuf> = std::fs::read_dir(demo)?.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.is_dir() && crate::year::year_from_path(&p.join("x")).is_some()).collect();
    years.sort();
    anyhow::ensure!(!years.is_empty(), "no year directories (e.g. 2018-2019) under {}: run `attain demo` first", demo.display());
    let scratch = std::env::temp_dir().join(format!("attain-bench-{}", std::process::id()));
    let mut out = String::new();
    let mut time = |paths: &[PathBuf], label: &str| -> anyhow::Result<()> {
        let mut best = f64::INFINITY;
        let mut results = 0;
        for _ in 0..repeat.max(1) {
            let _ = std::fs::remove_dir_all(&scratch);
            let t = Instant::now();
            let s = super::ingest::ingest(paths, &scratch, catalogue.clone(), None)?;
            best = best.min(t.elapsed().as_secs_f64());
            results = s.run.store_rows.get("results").copied().unwrap_or(0);
        }
        let bytes: u64 = crate::pipeline::hash_inputs(paths)?.iter().filter_map(|f| std::fs::metadata(&f.path).ok()).map(|m| m.len()).sum();
        out.push_str(&format!("ingest {label}: {best:.3} s (best of {repeat}), {:.1} MB in, {results} results, {:.0} results/s\n", bytes as f64 / 1e6, results as f64 / best));
        Ok(())
    };
    for y in &years {
        time(std::slice::from_ref(y), &format!("one national year ({})", y.file_name().unwrap_or_default().to_string_lossy()))?;
    }
    time(&years, &format!("all {} years", years.len()))?;
    let _ = std::fs::remove_dir_all(&scratch);
    Ok(out)
}
