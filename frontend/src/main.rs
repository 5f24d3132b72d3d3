//! CRMConnect browser app: Leptos CSR, talking only to the public `/api/v1`.

mod api;
mod app;
mod nav;
mod pages;

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(app::App);
}
