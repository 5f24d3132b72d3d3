pub mod dashboard;
pub mod layout;
pub mod leads;
pub mod login;
pub mod module;
pub mod portal;
pub mod proposals;
pub mod invoices;
