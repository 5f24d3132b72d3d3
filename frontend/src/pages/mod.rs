pub mod dashboard;
pub mod layout;
pub mod login;
pub mod module;
