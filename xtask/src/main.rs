//! `cargo xtask <command>`: project automation that needs nothing but cargo.
//!
//! - `run`       build the browser app and the server, then serve on SQLite with demo data
//! - `test`      every test: unit, integration on SQLite and PostgreSQL, browser (Chromium)
//! - `build-spa` compile the Leptos app to WASM and bundle it into `target/spa`
//! - `openapi`   regenerate `openapi/openapi.json` from the code

// A developer tool: panicking with a message is an acceptable way to stop.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::env;
use std::net::{TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

/// The same package selection in every test step, so cargo's feature resolution — and thus the
/// build — is shared (xtask and the WASM app would change it and force a second build).
const TESTED_PACKAGES: [&str; 6] = ["-p", "crmconnect-domain", "-p", "crmconnect-migration", "-p", "crmconnect"];

const DEFAULT_TEST_POSTGRES: &str = "postgres://postgres@127.0.0.1:5432/postgres";

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("run") => run(),
        Some("test") => test(&args[1..]),
        Some("build-spa") => build_spa().map(|_| ()),
        Some("openapi") => openapi(),
        _ => {
            eprintln!("usage: cargo xtask <run | test | build-spa | openapi>");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask lives in the workspace").to_path_buf()
}

fn cargo() -> Command {
    let mut cmd = Command::new(env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(root());
    cmd
}

fn status(mut cmd: Command, what: &str) -> Result<()> {
    let st = cmd.status().with_context(|| format!("starting {what}"))?;
    if !st.success() {
        bail!("{what} failed ({st})");
    }
    Ok(())
}

fn spa_dir() -> PathBuf {
    root().join("target").join("spa")
}

fn ensure_wasm_target() -> Result<()> {
    let installed = Command::new("rustup").args(["target", "list", "--installed"]).output();
    match installed {
        Ok(out) if String::from_utf8_lossy(&out.stdout).contains("wasm32-unknown-unknown") => Ok(()),
        Ok(_) => {
            eprintln!("xtask: installing the wasm32-unknown-unknown target (rustup)…");
            let mut cmd = Command::new("rustup");
            cmd.args(["target", "add", "wasm32-unknown-unknown"]);
            status(cmd, "rustup target add wasm32-unknown-unknown")
        }
        // No rustup (e.g. a distro toolchain): let cargo report a missing target itself.
        Err(_) => Ok(()),
    }
}

/// Compiles the frontend to WASM, runs wasm-bindgen (as a library, pinned to the lockfile's
/// version), optionally wasm-opt, and copies the static files. Returns the output directory.
fn build_spa() -> Result<PathBuf> {
    let started = Instant::now();
    ensure_wasm_target()?;
    let mut cmd = cargo();
    cmd.args(["build", "-p", "crmconnect-frontend", "--target", "wasm32-unknown-unknown", "--profile", "wasm-release"]);
    status(cmd, "building the browser app (WASM)")?;
    let wasm = root().join("target/wasm32-unknown-unknown/wasm-release/crmconnect-frontend.wasm");
    let out = spa_dir();
    std::fs::create_dir_all(&out)?;
    wasm_bindgen_cli_support::Bindgen::new().input_path(&wasm).web(true)?.out_name("crmconnect").typescript(false).generate(&out).context("wasm-bindgen")?;
    let bundle = out.join("crmconnect_bg.wasm");
    optimise_wasm(&bundle);
    for file in ["index.html", "style.css", "boot.js"] {
        std::fs::copy(root().join("frontend").join(file), out.join(file)).with_context(|| format!("copying {file}"))?;
    }
    let size = std::fs::metadata(&bundle)?.len();
    eprintln!("xtask: browser app built in {:.0?} → {} ({} KiB wasm)", started.elapsed(), out.display(), size / 1024);
    Ok(out)
}

/// `wasm-opt -Oz` from the npm package `binaryen` when npm is available (Debian's binaryen
/// breaks the bundle, see shared/STACK.md). Optional: without it the bundle is just larger.
fn optimise_wasm(bundle: &Path) {
    if env::var_os("CRM_SKIP_WASM_OPT").is_some() {
        return;
    }
    let tools = root().join("target/xtask-node");
    let wasm_opt = tools.join("node_modules/.bin/wasm-opt");
    if !wasm_opt.exists() {
        let _ = std::fs::create_dir_all(&tools);
        let installed = Command::new("npm").args(["install", "--silent", "--no-audit", "--no-fund", "--prefix"]).arg(&tools).arg("binaryen@132").status();
        if !matches!(installed, Ok(s) if s.success()) {
            eprintln!("xtask: npm package `binaryen` unavailable; skipping wasm-opt (bundle stays larger)");
            return;
        }
    }
    let tmp = bundle.with_extension("opt.wasm");
    let ok = Command::new(&wasm_opt)
        .args(["-Oz", "--enable-bulk-memory", "--enable-nontrapping-float-to-int", "--enable-sign-ext", "--enable-mutable-globals"])
        .arg(bundle)
        .arg("-o")
        .arg(&tmp)
        .status()
        .is_ok_and(|s| s.success());
    if ok {
        let _ = std::fs::rename(&tmp, bundle);
    } else {
        eprintln!("xtask: wasm-opt failed; keeping the unoptimised bundle");
    }
}

fn run() -> Result<()> {
    let spa = build_spa()?;
    let mut build = cargo();
    build.args(["build", "--release", "--bin", "crmconnect"]);
    status(build, "building the server")?;
    let mut serve = Command::new(root().join("target/release/crmconnect"));
    serve.current_dir(root()).args(["serve", "--seed-demo-if-empty"]).env("CRM_SPA_DIR", &spa);
    if env::var_os("RUST_LOG").is_none() {
        serve.env("RUST_LOG", "info,sqlx=warn,sea_orm=warn,actix_web::middleware::logger=warn");
    }
    status(serve, "crmconnect serve")
}

fn openapi() -> Result<()> {
    let out = cargo().args(["run", "--quiet", "--bin", "crmconnect", "--", "openapi"]).output()?;
    if !out.status.success() {
        bail!("crmconnect openapi failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    std::fs::write(root().join("openapi/openapi.json"), &out.stdout)?;
    eprintln!("xtask: wrote openapi/openapi.json");
    Ok(())
}

fn loud(lines: &[&str]) {
    let bar = "!".repeat(78);
    eprintln!("\n{bar}");
    for l in lines {
        eprintln!("!! {l}");
    }
    eprintln!("{bar}\n");
}

fn required(var: &str) -> bool {
    env::var(var).is_ok_and(|v| v == "1" || v.eq_ignore_ascii_case("true"))
}

fn postgres_reachable(url: &str) -> bool {
    // postgres://user@host:port/db → host:port
    let rest = url.split("://").nth(1).unwrap_or("");
    let host_port = rest.rsplit('@').next().unwrap_or(rest).split('/').next().unwrap_or("");
    let host_port = if host_port.contains(':') { host_port.to_string() } else { format!("{host_port}:5432") };
    host_port.to_socket_addrs().ok().and_then(|mut addrs| addrs.next()).is_some_and(|addr| TcpStream::connect_timeout(&addr, Duration::from_secs(2)).is_ok())
}

fn which(name: &str) -> Option<PathBuf> {
    env::var_os("PATH").and_then(|paths| env::split_paths(&paths).map(|p| p.join(name)).find(|p| p.is_file()))
}

/// Every test. PostgreSQL and Chromium lanes run when available; when not, a loud line says
/// so — unless CRM_REQUIRE_POSTGRES=1 / CRM_REQUIRE_BROWSER=1 (set by CI), which make them fail.
fn test(extra: &[String]) -> Result<()> {
    let started = Instant::now();
    let spa = build_spa()?;

    let pg_url = env::var("CRM_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_TEST_POSTGRES.into());
    let pg = postgres_reachable(&pg_url);
    if !pg {
        if required("CRM_REQUIRE_POSTGRES") {
            bail!("PostgreSQL is required (CRM_REQUIRE_POSTGRES=1) but {pg_url} is unreachable");
        }
        loud(&[
            "PostgreSQL lane SKIPPED: nothing answers at the test server.",
            &format!("tried {pg_url}"),
            "enable it: start PostgreSQL (see README) or set CRM_TEST_POSTGRES_URL.",
        ]);
    }
    let chromedriver = env::var_os("CRM_CHROMEDRIVER").map(PathBuf::from).or_else(|| which("chromedriver"));
    let chromium =
        env::var_os("CRM_CHROMIUM").map(PathBuf::from).or_else(|| which("chromium")).or_else(|| which("chromium-browser")).or_else(|| which("google-chrome"));
    let browser = chromedriver.is_some() && chromium.is_some();
    if !browser {
        if required("CRM_REQUIRE_BROWSER") {
            bail!("Chromium + chromedriver are required (CRM_REQUIRE_BROWSER=1) but were not found on PATH");
        }
        loud(&["Browser test SKIPPED: chromium and/or chromedriver not found on PATH.", "enable it: apt-get install -y chromium chromium-driver"]);
    }

    // 1. Unit tests of every crate + integration tests on SQLite.
    eprintln!("xtask: unit + integration tests (SQLite)");
    let mut cmd = cargo();
    cmd.arg("test").args(TESTED_PACKAGES).args(extra).env("CRM_SPA_DIR", &spa).env_remove("CRM_TEST_DATABASE");
    status(cmd, "tests on SQLite")?;

    // 2. The same integration suite on PostgreSQL.
    if pg {
        eprintln!("xtask: integration tests (PostgreSQL at {pg_url})");
        let mut cmd = cargo();
        cmd.arg("test").args(TESTED_PACKAGES).args(["--test", "api"]).args(extra).env("CRM_TEST_DATABASE", &pg_url);
        status(cmd, "tests on PostgreSQL")?;
    }

    // 3. The browser test in headless Chromium.
    if let (Some(driver), Some(chrome)) = (chromedriver, chromium) {
        eprintln!("xtask: browser test (headless Chromium)");
        let mut cmd = cargo();
        cmd.arg("test")
            .args(TESTED_PACKAGES)
            .args(["--test", "browser", "--", "--ignored"])
            .env("CRM_SPA_DIR", &spa)
            .env("CRM_CHROMEDRIVER", driver)
            .env("CRM_CHROMIUM", chrome);
        status(cmd, "browser test")?;
    }
    eprintln!(
        "xtask: all tests passed in {:.0?} (PostgreSQL lane: {}, browser: {})",
        started.elapsed(),
        if pg { "ran" } else { "SKIPPED" },
        if browser { "ran" } else { "SKIPPED" }
    );
    Ok(())
}
