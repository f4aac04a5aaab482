//! The library side of each CLI command: what `src/main.rs` calls after parsing flags.

pub mod analysis;
pub mod bench;
pub mod categorise;
pub mod charts;
pub mod ingest;
pub mod measures;
pub mod ofsted;
pub mod partnerships;
pub mod pupils;
pub mod targets;
pub mod trend;
pub mod workbook;
