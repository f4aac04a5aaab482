//! attain: England's published school-performance data turned into what a local
//! authority's school-improvement team needs.
//!
//! Layers point downward only: `ingest` (one reader per file family) -> `store`
//! (canonical parquet tables) -> `analysis` -> `render`; the CLI (`src/main.rs`,
//! `commands`) and the pipeline runner sit on top.

// Clippy runs in CI with -D warnings (.ci/run). Long tuple types and large enum variants
// are kept where a named type or a box would say less.
#![allow(clippy::type_complexity, clippy::large_enum_variant)]

pub mod analysis;
pub mod atomic;
pub mod audit;
pub mod audit_diff;
pub mod catalogue;
pub mod cli;
pub mod commands;
pub mod dates;
pub mod demo;
pub mod error;
pub mod ingest;
pub mod level;
pub mod number;
pub mod output;
pub mod pipeline;
pub mod progress;
pub mod render;
pub mod resources;
pub mod store;
pub mod value;
pub mod year;

pub fn version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}
