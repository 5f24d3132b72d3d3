//! CRMConnect domain: pure rules and shared API types.
//!
//! Nothing here knows about HTTP or the database, and the crate compiles for
//! `wasm32-unknown-unknown` so the browser client uses the very same types and rules.

pub mod api;
pub mod commission;
pub mod custom_fields;
pub mod dates;
pub mod documents;
pub mod goals;
pub mod invoices;
pub mod leads;
pub mod money;
pub mod opportunities;
pub mod permissions;
pub mod proposals;
pub mod recurring;
pub mod reports;
pub mod sales_orders;
pub mod scoring;
pub mod tasks;
pub mod validation;
