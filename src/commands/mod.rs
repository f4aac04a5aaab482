//! The library side of each CLI command: what `src/main.rs` calls after parsing flags.

pub mod ingest;
pub mod measures;
pub mod bench;
pub mod analysis;
pub mod trend;
pub mod ofsted;
pub mod categorise;
pub mod charts;
pub mod partnerships;
pub mod workbook;
pub mod pupils;
pub mod targets;
