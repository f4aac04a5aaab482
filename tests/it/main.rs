//! Integration tests: one binary (linking polars once), one module per area.

// Clippy runs on the tests too (.ci/run, -D warnings); these style lints flag tests written
// before it did, allowed here until those files are next edited.
#![allow(
    clippy::double_ended_iterator_last,
    clippy::useless_asref,
    clippy::manual_range_contains,
    clippy::cmp_owned,
    clippy::zombie_processes,
    clippy::type_complexity,
    clippy::manual_range_patterns,
    clippy::manual_is_multiple_of,
    clippy::cloned_ref_to_slice_refs,
    clippy::needless_borrows_for_generic_args,
    clippy::manual_contains,
    clippy::needless_range_loop
)]

mod analysis;
mod atomic;
mod bi_store;
mod booklet;
mod booklet_layout;
mod booklet_summary;
mod browser;
mod charts;
mod cli;
mod cli_conventions;
mod common;
mod comparators;
mod corpus;
mod council;
mod determinism;
mod disclosure;
mod docs;
mod escaping;
mod exit_codes;
mod fuzz;
mod hardening;
mod lait_rules;
mod modern_layouts;
mod numbers;
mod ofsted_frameworks;
mod partnerships;
mod per_la;
mod pipeline;
mod predecessors;
mod pupils;
mod real_data;
mod series_breaks;
mod spreadsheets;
mod targets;
mod trust;
