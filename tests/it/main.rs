//! Integration tests: one binary (linking polars once), one module per area.

mod common;
mod analysis;
mod booklet;
mod cli;
mod corpus;
mod fuzz;
mod charts;
mod council;
mod partnerships;
mod pipeline;
mod pupils;
mod real_data;
mod targets;
