//! sea-orm entities: plain table mappings, no behaviour. They never leave the server crate;
//! handlers turn them into the domain crate's API types.

pub mod api_token;
pub mod app_setting;
pub mod attachment;
pub mod audit_log;
pub mod client;
pub mod client_contact;
pub mod custom_field;
pub mod custom_field_value;
pub mod event;
pub mod lead;
pub mod lead_activity;
pub mod lead_source;
pub mod lead_status_change;
pub mod lead_tag;
pub mod login_failure;
pub mod lost_reason;
pub mod opportunity_status;
pub mod pipeline;
pub mod pipeline_status;
pub mod refresh_token;
pub mod reminder;
pub mod role;
pub mod scoring_rule;
pub mod staff;
