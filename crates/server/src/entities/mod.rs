//! sea-orm entities: plain table mappings, no behaviour. They never leave the server crate;
//! handlers turn them into the domain crate's API types.

pub mod api_token;
pub mod app_setting;
pub mod audit_log;
pub mod login_failure;
pub mod refresh_token;
pub mod role;
pub mod staff;
