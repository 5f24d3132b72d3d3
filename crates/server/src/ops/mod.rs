//! Business operations: what the API does, below HTTP. Each module mirrors its resource among
//! the HTTP handlers and holds its queries (visibility, loading into API types) and its
//! operations (issue, pay, accept, convert, move…), which run in the caller's transaction.
//! Dependencies point down only: this layer never names the handlers; they parse, authorise,
//! call one operation here and map the result.

pub mod activities;
pub mod clients;
pub mod commissions;
pub mod contracts;
pub mod dashboard;
pub mod events;
pub mod expenses;
pub mod gateway;
pub mod goals;
pub mod invoices;
pub mod kanban;
pub mod leads;
pub mod lookups;
pub mod opportunities;
pub mod payments;
pub mod pipelines;
pub mod portal;
pub mod proposals;
pub mod recurring;
pub mod reports;
pub mod sales_orders;
pub mod staff;
pub mod tasks;
pub mod webhooks;
