//! Keeping `leads.score` current: the rules come from the database, the arithmetic from
//! `crmconnect_domain::scoring`. A lead is rescored when it changes; all leads when a rule does.

use std::collections::HashMap;

use crmconnect_domain::scoring::{score, LeadFacts, Rule};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::entities::{custom_field, custom_field_value, lead, lead_source, lead_tag, scoring_rule};
use crate::error::{Error, Result};
use crmconnect_domain::money::amount_of as money_of;

pub async fn rules(db: &impl ConnectionTrait) -> Result<Vec<Rule>> {
    scoring_rule::Entity::find()
        .order_by_asc(scoring_rule::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|r| {
            Rule::parse(&r.field, &r.operator, &r.value, r.points)
                .map_err(|(_, p)| Error::internal(anyhow::anyhow!("stored rule {} invalid: {}", r.id, p.message)))
        })
        .collect()
}

struct Lookups {
    sources: HashMap<i32, String>,
    custom_keys: HashMap<i32, String>,
}

async fn lookups(db: &impl ConnectionTrait) -> Result<Lookups> {
    Ok(Lookups {
        sources: lead_source::Entity::find().all(db).await?.into_iter().map(|s| (s.id, s.name)).collect(),
        custom_keys: custom_field::Entity::find().filter(custom_field::Column::Entity.eq("lead")).all(db).await?.into_iter().map(|f| (f.id, f.key)).collect(),
    })
}

fn facts(l: &lead::Model, tags: Vec<String>, custom: HashMap<String, Vec<String>>, lk: &Lookups) -> LeadFacts {
    LeadFacts {
        source: l.source_id.and_then(|id| lk.sources.get(&id).cloned()),
        industry: l.industry.clone(),
        area: l.area.clone(),
        function: l.title.clone(),
        company_size: l.company_size.clone(),
        country: l.country.clone(),
        tags,
        estimated_value: money_of(l.estimated_value_minor, l.currency.as_deref()),
        custom: custom.into_iter().collect(),
    }
}

/// Rescores the given leads (all when `ids` is `None`) in batches, writing only changed scores.
pub async fn rescore(db: &impl ConnectionTrait, ids: Option<&[i32]>) -> Result<u64> {
    let rules = rules(db).await?;
    let lk = lookups(db).await?;
    let mut changed = 0;
    let mut after = 0;
    loop {
        let mut q = lead::Entity::find().filter(lead::Column::Id.gt(after)).order_by_asc(lead::Column::Id).limit(1000);
        if let Some(ids) = ids {
            q = q.filter(lead::Column::Id.is_in(ids.to_vec()));
        }
        let batch = q.all(db).await?;
        let Some(last) = batch.last() else { break };
        after = last.id;
        let batch_ids: Vec<i32> = batch.iter().map(|l| l.id).collect();
        let mut tags: HashMap<i32, Vec<String>> = HashMap::new();
        for t in lead_tag::Entity::find().filter(lead_tag::Column::LeadId.is_in(batch_ids.clone())).all(db).await? {
            tags.entry(t.lead_id).or_default().push(t.tag);
        }
        let mut custom: HashMap<i32, HashMap<String, Vec<String>>> = HashMap::new();
        if !lk.custom_keys.is_empty() {
            let values = custom_field_value::Entity::find()
                .filter(custom_field_value::Column::EntityId.is_in(batch_ids.clone()))
                .filter(custom_field_value::Column::FieldId.is_in(lk.custom_keys.keys().copied().collect::<Vec<_>>()))
                .all(db)
                .await?;
            for v in values {
                if let Some(key) = lk.custom_keys.get(&v.field_id) {
                    custom.entry(v.entity_id).or_default().entry(key.clone()).or_default().push(v.value);
                }
            }
        }
        for l in &batch {
            let s = score(&facts(l, tags.remove(&l.id).unwrap_or_default(), custom.remove(&l.id).unwrap_or_default(), &lk), &rules);
            if s != l.score {
                lead::Entity::update_many().col_expr(lead::Column::Score, Expr::value(s)).filter(lead::Column::Id.eq(l.id)).exec(db).await?;
                changed += 1;
            }
        }
        if batch.len() < 1000 {
            break;
        }
    }
    Ok(changed)
}
