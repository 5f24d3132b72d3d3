//! The `crmconnect` command: serve, migrate, create-admin, seed-demo, rotate-jwt-secret, openapi.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use crmconnect::audit::Actor;
use crmconnect::config::Settings;
use crmconnect::entities::role;
use crmconnect::error::{Error, ErrorCode};
use crmconnect::ops::staff::{insert_staff, NewStaff};
use crmconnect::{db, openapi, seed, startup::Application};
use crmconnect_domain::api::CreateStaff;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

/// CRMConnect: the CRM from first contact to payment. Configuration comes from the
/// environment (DATABASE_URL, CRM_BIND, CRM_PUBLIC_URL, CRM_JWT_SECRET, CRM_DATA_DIR,
/// CRM_SMTP_URL, CRM_SPA_DIR, RUST_LOG); see README.md.
#[derive(Parser)]
#[command(name = "crmconnect", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Apply pending migrations, then serve the API and the browser app.
    Serve {
        /// Load the demo company first when the database has no staff yet.
        #[arg(long)]
        seed_demo_if_empty: bool,
    },
    /// Apply pending migrations and exit.
    Migrate,
    /// Create an administrator account.
    CreateAdmin {
        #[arg(long)]
        email: String,
        /// At least 12 characters, not a common password. May also come from CRM_ADMIN_PASSWORD.
        #[arg(long, env = "CRM_ADMIN_PASSWORD", hide_env_values = true)]
        password: String,
        #[arg(long, default_value = "Administrator")]
        name: String,
    },
    /// Load a realistic demo company into a new, empty database.
    SeedDemo,
    /// Replace the generated JWT secret kept in the database (restart every server after).
    /// Not needed, and refused, when CRM_JWT_SECRET is set: change that variable instead.
    RotateJwtSecret,
    /// Print the OpenAPI document to stdout.
    Openapi,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Command::Openapi = cli.command {
        return match openapi::spec_json() {
            Ok(json) => {
                print!("{json}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: cannot serialise the OpenAPI document: {e}");
                ExitCode::FAILURE
            }
        };
    }
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info,sqlx=warn,sea_orm=warn".into()))
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match actix_web::rt::System::with_tokio_rt(|| runtime).block_on(run(cli.command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command) -> anyhow::Result<()> {
    let settings = Settings::from_env();
    settings.check().map_err(anyhow::Error::msg)?;
    match command {
        Command::Serve { seed_demo_if_empty } => {
            if seed_demo_if_empty {
                let conn = db::connect(&settings.database_url).await?;
                db::migrate(&conn).await?;
                if seed::is_empty(&conn).await? {
                    let s = seed::seed_demo(&conn).await?;
                    eprintln!(
                        "Loaded the demo company: {} staff, {} leads, {} opportunities, {} clients, {} proposals, {} invoices.",
                        s.staff, s.leads, s.opportunities, s.clients, s.proposals, s.invoices
                    );
                }
                conn.close().await?;
            }
            let app = Application::build(settings.clone()).await?;
            let url = settings.public_url.clone();
            eprintln!("CRMConnect is listening on port {} — open {url}", app.port());
            eprintln!("API docs: {url}/api/docs/");
            if seed_demo_if_empty {
                eprintln!("Demo login: {} / {}", seed::DEMO_ADMIN_EMAIL, seed::DEMO_PASSWORD);
            }
            app.run_until_stopped().await?;
        }
        Command::Migrate => {
            let conn = db::connect(&settings.database_url).await?;
            db::migrate(&conn).await?;
            eprintln!("Migrations applied to {}.", db::redact(&settings.database_url));
        }
        Command::CreateAdmin { email, password, name } => {
            let conn = db::connect(&settings.database_url).await?;
            db::migrate(&conn).await?;
            let admin_role = role::Entity::find()
                .filter(role::Column::IsAdmin.eq(true))
                .order_by_asc(role::Column::Id)
                .one(&conn)
                .await?
                .ok_or_else(|| anyhow::anyhow!("no administrator role exists"))?;
            let body = CreateStaff { name, email, password, role_id: admin_role.id };
            let new = NewStaff::try_from(body).map_err(|e| anyhow::anyhow!(describe(&e)))?;
            let created = insert_staff(&conn, &Actor::system(), new).await.map_err(|e| anyhow::anyhow!(describe(&e)))?;
            eprintln!("Administrator {} <{}> created (id {}).", created.name, created.email, created.id);
        }
        Command::SeedDemo => {
            let conn = db::connect(&settings.database_url).await?;
            db::migrate(&conn).await?;
            let s = seed::seed_demo(&conn).await?;
            eprintln!(
                "Demo company loaded: {} staff, {} leads ({} activities), {} opportunities, {} clients, {} proposals, {} invoices ({} payments). Sign in as {} / {}.",
                s.staff, s.leads, s.activities, s.opportunities, s.clients, s.proposals, s.invoices, s.payments, seed::DEMO_ADMIN_EMAIL, seed::DEMO_PASSWORD
            );
        }
        Command::RotateJwtSecret => {
            if settings.jwt_secret.is_some() {
                anyhow::bail!("CRM_JWT_SECRET is set, so the stored secret is not used: set a new random value there and restart the servers");
            }
            let conn = db::connect(&settings.database_url).await?;
            db::migrate(&conn).await?;
            db::rotate_jwt_secret(&conn, &crmconnect::auth::secrets::random_secret()).await?;
            eprintln!("A new JWT secret is stored. Restart every server; signed-in users stay signed in (their refresh tokens renew their access).");
        }
        Command::Openapi => unreachable!("handled before the runtime starts"),
    }
    Ok(())
}

/// A human sentence for an operation's failure on the command line.
fn describe(e: &Error) -> String {
    match e {
        Error::Refused(ErrorCode::EmailTaken, _) => "a staff member with this e-mail already exists".into(),
        Error::Invalid(errors) => errors.iter().map(|f| format!("\n  --{}: {}", f.field, f.message)).collect::<String>().trim_start().to_string(),
        other => other.to_string(),
    }
}
