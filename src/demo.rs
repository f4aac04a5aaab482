// PLACEHOLDER until the demo generator lands (being written by a helper).
pub struct DemoOptions { pub out_dir: std::path::PathBuf, pub seed: u64, pub schools: usize, pub las: usize }
impl Default for DemoOptions { fn default() -> Self { DemoOptions { out_dir: "data/demo".into(), seed: 20190701, schools: 20_000, las: 150 } } }
pub struct DemoSummary { pub files: Vec<std::path::PathBuf>, pub schools: usize, pub las: usize, pub demo_la_code: String, pub demo_la_name: String }
pub fn generate(_opts: &DemoOptions) -> anyhow::Result<DemoSummary> { anyhow::bail!("demo generator not built yet") }
