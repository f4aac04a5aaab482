//! Integration tests: one binary (linking polars once), one module per area.

mod common;
mod analysis;
mod atomic;
mod browser;
mod booklet;
mod cli;
mod corpus;
mod fuzz;
mod charts;
mod council;
mod determinism;
mod escaping;
mod partnerships;
mod pipeline;
mod pupils;
mod real_data;
mod targets;
