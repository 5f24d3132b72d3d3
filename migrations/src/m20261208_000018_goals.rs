//! Teams and goals: targets for the company, a staff member or a team over a period, with the
//! notifications sent once when a goal is achieved or missed.

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
                .table(t("teams"))
                .col(pk_auto(t("id")))
                .col(string_len(t("name"), 100).unique_key())
                .col(ts("created_at"))
                .col(ts("updated_at"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(t("team_members"))
                .col(pk_auto(t("id")))
                .col(integer(t("team_id")))
                .col(integer(t("staff_id")))
                .foreign_key(&mut fk("team_members", "team_id", "teams", ForeignKeyAction::Cascade))
                .foreign_key(&mut fk("team_members", "staff_id", "staff", ForeignKeyAction::Cascade))
                .to_owned(),
        )
        .await?;
        m.create_index(Index::create().name("ux_team_members").table(t("team_members")).col(t("team_id")).col(t("staff_id")).unique().to_owned()).await?;
        m.create_index(index("idx_team_members_staff", "team_members", &["staff_id"])).await?;
        m.create_table(
            Table::create()
                .table(t("goals"))
                .col(pk_auto(t("id")))
                .col(string_len(t("subject"), 200))
                .col(string_len(t("goal_type"), 30))
                // Decimal text: an amount for money goals, a whole number for the others.
                .col(string_len(t("target"), 40))
                .col(string_len_null(t("currency"), 3))
                .col(date(t("start_date")))
                .col(date(t("end_date")))
                .col(string_len(t("target_type"), 10))
                .col(integer_null(t("staff_id")))
                .col(integer_null(t("team_id")))
                .col(boolean(t("notify_when_achieved")).default(false))
                .col(boolean(t("notify_when_missed")).default(false))
                // Set once by the job runner (a conditional UPDATE), so each notice goes out once.
                .col(ts_null("achieved_notified_at"))
                .col(ts_null("missed_notified_at"))
                .col(integer_null(t("created_by")))
                .col(ts("created_at"))
                .col(ts("updated_at"))
                .foreign_key(&mut fk("goals", "staff_id", "staff", ForeignKeyAction::Cascade))
                .foreign_key(&mut fk("goals", "team_id", "teams", ForeignKeyAction::Cascade))
                .to_owned(),
        )
        .await?;
        m.create_index(index("idx_goals_updated_at", "goals", &["updated_at", "id"])).await?;
        m.create_index(index("idx_teams_updated_at", "teams", &["updated_at", "id"])).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in ["goals", "team_members", "teams"] {
            m.drop_table(Table::drop().table(t(table)).to_owned()).await?;
        }
        Ok(())
    }
}
