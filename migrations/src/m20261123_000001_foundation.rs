//! Staff, roles, sessions, API tokens, login throttling, settings and the audit log.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::helpers::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(t("roles"))
                .col(pk_auto(t("id")))
                .col(string_len_uniq(t("name"), 100))
                .col(text(t("description")))
                .col(boolean(t("is_admin")))
                .col(json_binary(t("permissions")))
                .col(ts("created_at"))
                .col(ts("updated_at"))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(t("staff"))
                .col(pk_auto(t("id")))
                .col(string_len(t("name"), 200))
                .col(string_len_uniq(t("email"), 254))
                .col(string(t("password_hash")))
                .col(integer(t("role_id")))
                .col(boolean(t("active")))
                .col(ts_null("last_login_at"))
                .col(ts("created_at"))
                .col(ts("updated_at"))
                .foreign_key(ForeignKey::create().from(t("staff"), t("role_id")).to(t("roles"), t("id")).on_delete(ForeignKeyAction::Restrict))
                .to_owned(),
        )
        .await?;
        m.create_index(Index::create().name("ix_staff_role").table(t("staff")).col(t("role_id")).to_owned()).await?;

        m.create_table(
            Table::create()
                .table(t("refresh_tokens"))
                .col(pk_auto(t("id")))
                .col(integer(t("staff_id")))
                // SHA-256 of a 256-bit random secret: a fast hash is enough at that entropy.
                .col(string_len_uniq(t("token_hash"), 64))
                .col(ts("expires_at"))
                .col(ts_null("revoked_at"))
                .col(ts("created_at"))
                .foreign_key(ForeignKey::create().from(t("refresh_tokens"), t("staff_id")).to(t("staff"), t("id")).on_delete(ForeignKeyAction::Cascade))
                .to_owned(),
        )
        .await?;
        m.create_index(Index::create().name("ix_refresh_tokens_staff").table(t("refresh_tokens")).col(t("staff_id")).to_owned()).await?;

        m.create_table(
            Table::create()
                .table(t("api_tokens"))
                .col(pk_auto(t("id")))
                .col(integer(t("staff_id")))
                .col(string_len(t("name"), 200))
                .col(string_len_uniq(t("token_hash"), 64))
                .col(json_binary(t("scopes")))
                .col(ts_null("expires_at"))
                .col(ts_null("last_used_at"))
                .col(ts_null("revoked_at"))
                .col(ts("created_at"))
                .foreign_key(ForeignKey::create().from(t("api_tokens"), t("staff_id")).to(t("staff"), t("id")).on_delete(ForeignKeyAction::Cascade))
                .to_owned(),
        )
        .await?;
        m.create_index(Index::create().name("ix_api_tokens_staff").table(t("api_tokens")).col(t("staff_id")).to_owned()).await?;

        // Failed sign-ins, keyed `email:<address>` or `ip:<address>`; shared by every server.
        m.create_table(Table::create().table(t("login_failures")).col(pk_auto(t("id"))).col(string_len(t("key"), 300)).col(ts("at")).to_owned()).await?;
        m.create_index(Index::create().name("ix_login_failures_key_at").table(t("login_failures")).col(t("key")).col(t("at")).to_owned()).await?;

        m.create_table(
            Table::create().table(t("app_settings")).col(string_len(t("key"), 100).primary_key()).col(text(t("value"))).col(ts("updated_at")).to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(t("audit_log"))
                .col(pk_auto(t("id")))
                .col(ts("at"))
                .col(integer_null(t("actor_staff_id")))
                .col(integer_null(t("actor_api_token_id")))
                .col(string_len(t("action"), 100))
                .col(string_len(t("entity_type"), 60))
                .col(integer_null(t("entity_id")))
                .col(json_binary_null(t("before")))
                .col(json_binary_null(t("after")))
                .col(string_len_null(t("ip"), 64))
                .to_owned(),
        )
        .await?;
        m.create_index(Index::create().name("ix_audit_log_entity").table(t("audit_log")).col(t("entity_type")).col(t("entity_id")).to_owned()).await?;
        m.create_index(Index::create().name("ix_audit_log_actor").table(t("audit_log")).col(t("actor_staff_id")).to_owned()).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in ["audit_log", "app_settings", "login_failures", "api_tokens", "refresh_tokens", "staff", "roles"] {
            m.drop_table(Table::drop().table(t(table)).to_owned()).await?;
        }
        Ok(())
    }
}
