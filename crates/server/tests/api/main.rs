//! Integration tests: the real server over HTTP, on SQLite or PostgreSQL (see helpers.rs).

// Test harness code: a failed unwrap/expect is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod api_tokens;
mod architecture;
mod audit;
mod auth;
mod authz_matrix;
mod cli;
mod clients;
mod commissions;
mod concurrency;
mod contracts;
mod errors;
mod expenses;
mod gateway;
mod goals;
mod helpers;
mod invoices;
mod kanban;
mod lead_tools;
mod leads;
mod openapi_contract;
mod opportunities;
mod pipelines;
mod proposals;
mod reports;
mod roles;
mod sales_orders;
mod scheduler;
mod smtp;
mod staff;
mod sync;
mod system;
mod tasks;
mod webhooks;
