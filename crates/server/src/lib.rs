//! CRMConnect server. See ARCHITECTURE.md for the map.

pub mod api;
pub mod audit;
pub mod auth;
pub mod config;
pub mod csv_export;
pub mod custom_fields;
pub mod db;
pub mod documents;
pub mod email;
pub mod entities;
pub mod error;
pub mod extract;
pub mod notifications;
pub mod openapi;
pub mod ops;
pub mod outbox;
pub mod pagination;
pub mod pdf;
pub mod scheduler;
pub mod scoring;
pub mod seed;
pub mod settings;
pub mod spa;
pub mod startup;
pub mod state;
pub mod visibility;
