# CRMConnect recipes (the same as `cargo xtask …`, for people who have `just`).

# Build the browser app and the server, then serve on SQLite with demo data.
run:
    cargo xtask run

# Every test: unit, integration on SQLite and PostgreSQL, browser (headless Chromium).
test:
    cargo xtask test

# Compile the Leptos app to WASM into target/spa.
build-spa:
    cargo xtask build-spa

# Regenerate openapi/openapi.json from the code.
openapi:
    cargo xtask openapi

# Apply migrations to $DATABASE_URL (default: ./data/crmconnect.db).
migrate:
    cargo run --bin crmconnect -- migrate

# Create an administrator: just create-admin you@example.com 'long password'
create-admin email password:
    cargo run --bin crmconnect -- create-admin --email {{email}} --password {{password}}

lint:
    cargo fmt --all -- --check
    cargo clippy --workspace --all-targets -- -D warnings
