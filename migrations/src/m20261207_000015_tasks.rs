//! Tasks: follow-ups with assignees and followers, about a record, with a one-time reminder.

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
                .table(t("tasks"))
                .col(pk_auto(t("id")))
                .col(string_len(t("title"), 300))
                .col(text_null(t("description")))
                .col(integer(t("status_code")).default(1))
                .col(string_len(t("priority"), 20).default("medium"))
                .col(date_null(t("start_date")))
                .col(ts_null("due_at"))
                .col(string_len_null(t("related_type"), 40))
                .col(integer_null(t("related_id")))
                .col(ts_null("reminder_at"))
                // Set once when the reminder goes out (a conditional UPDATE: exactly once).
                .col(ts_null("reminded_at"))
                .col(ts_null("completed_at"))
                .col(integer_null(t("created_by")))
                .col(ts("created_at"))
                .col(ts("updated_at"))
                .to_owned(),
        )
        .await?;
        for (table, name) in [("task_assignees", "ux_task_assignees"), ("task_followers", "ux_task_followers")] {
            m.create_table(
                Table::create()
                    .table(t(table))
                    .col(pk_auto(t("id")))
                    .col(integer(t("task_id")))
                    .col(integer(t("staff_id")))
                    .foreign_key(&mut fk(table, "task_id", "tasks", ForeignKeyAction::Cascade))
                    .foreign_key(&mut fk(table, "staff_id", "staff", ForeignKeyAction::Cascade))
                    .to_owned(),
            )
            .await?;
            m.create_index(Index::create().name(name).table(t(table)).col(t("task_id")).col(t("staff_id")).unique().to_owned()).await?;
            m.create_index(index(&format!("idx_{table}_staff"), table, &["staff_id"])).await?;
        }
        m.create_index(index("idx_tasks_due_at", "tasks", &["due_at"])).await?;
        m.create_index(index("idx_tasks_related", "tasks", &["related_type", "related_id"])).await?;
        m.create_index(index("idx_tasks_updated_at", "tasks", &["updated_at", "id"])).await?;
        m.create_index(index("idx_tasks_reminder", "tasks", &["reminded_at", "reminder_at"])).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in ["task_followers", "task_assignees", "tasks"] {
            m.drop_table(Table::drop().table(t(table)).to_owned()).await?;
        }
        Ok(())
    }
}
