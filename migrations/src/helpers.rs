//! Small builders shared by the migrations. Everything is named by string, so these never
//! depend on today's entities; change them only in ways that keep old migrations identical.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub fn t(name: &str) -> Alias {
    Alias::new(name)
}

pub fn ts(name: &str) -> ColumnDef {
    timestamp_with_time_zone(t(name))
}

pub fn ts_null(name: &str) -> ColumnDef {
    timestamp_with_time_zone_null(t(name))
}

pub fn fk(from: &str, col: &str, to: &str, on_delete: ForeignKeyAction) -> ForeignKeyCreateStatement {
    ForeignKey::create().from(t(from), t(col)).to(t(to), t("id")).on_delete(on_delete).to_owned()
}

pub fn index(name: &str, table: &str, cols: &[&str]) -> IndexCreateStatement {
    let mut idx = Index::create();
    idx.name(name).table(t(table));
    for c in cols {
        idx.col(t(c));
    }
    idx.to_owned()
}
