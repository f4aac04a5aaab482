//! The arithmetic the booklets, committee charts and ad-hoc questions rest on:
//! aggregation and reconciliation, gaps, rankings (LAIT's method), trends with breaks,
//! significance, and school positions. Reads the store through `data::Data`.

pub mod aggregate;
pub mod categorise;
pub mod comparators;
pub mod data;
pub mod disclosure;
pub mod facts;
pub mod gaps;
pub mod inspection;
pub mod ledger;
pub mod lineage;
pub mod ofsted;
pub mod partnerships;
pub mod position;
pub mod precision;
pub mod pupil_groups;
pub mod pupils;
pub mod rank;
pub mod ranking;
pub mod rules;
pub mod school_profile;
pub mod series_breaks;
pub mod significance;
pub mod summary;
pub mod target_returns;
pub mod targets;
pub mod trend;
pub mod unpublished;
