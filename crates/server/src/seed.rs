//! `crmconnect seed-demo`: a realistic demo company. Grows as modules land.

use anyhow::{bail, Context};
use crmconnect_domain::leads::{phone_key, POSITION_GAP};
use crmconnect_domain::validation::EmailAddress;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    TransactionTrait,
};
use time::{Duration, OffsetDateTime};

use crate::api::staff::{insert_staff, NewStaff};
use crate::audit::Actor;
use crate::entities::{
    client, client_contact, lead, lead_activity, lead_source, lead_status_change, lead_tag, lost_reason, opportunity_status,
    pipeline, pipeline_status, reminder, role, scoring_rule, staff,
};

pub const DEMO_PASSWORD: &str = "demo1234";
pub const DEMO_ADMIN_EMAIL: &str = "admin@demo.crmconnect.dev";
pub const DEMO_LEADS: usize = 320;
pub const DEMO_CLIENTS: usize = 40;
pub const DEMO_OPPORTUNITIES: usize = 45;

/// Staff of the demo company: (name, e-mail, role).
const DEMO_STAFF: &[(&str, &str, &str)] = &[
    ("Alexandra Ionescu", DEMO_ADMIN_EMAIL, "Administrator"),
    ("Mihai Popescu", "mihai.popescu@demo.crmconnect.dev", "Sales Manager"),
    ("Elena Dumitrescu", "elena.dumitrescu@demo.crmconnect.dev", "Account Manager"),
    ("Andrei Stan", "andrei.stan@demo.crmconnect.dev", "Sales Agent"),
    ("Ioana Marin", "ioana.marin@demo.crmconnect.dev", "Sales Agent"),
    ("Radu Georgescu", "radu.georgescu@demo.crmconnect.dev", "SDR"),
    ("Maria Constantin", "maria.constantin@demo.crmconnect.dev", "SDR"),
];

const FIRST: &[&str] = &["Ana", "Bogdan", "Cristina", "Dan", "Elena", "Florin", "Gabriela", "Horia", "Irina", "Ion", "Laura", "Matei", "Nicoleta", "Ovidiu", "Paula", "Radu", "Sorina", "Tudor", "Vlad", "Zoe"];
const LAST: &[&str] = &["Popa", "Ionescu", "Stoica", "Munteanu", "Rusu", "Lazăr", "Matei", "Ciobanu", "Toma", "Neagu", "Barbu", "Dobre", "Vasile", "Moldovan", "Oprea"];
const COMPANY_A: &[&str] = &["Carpați", "Dacia", "Nord", "Delta", "Transilvania", "Banat", "Olt", "Siret", "Mureș", "Prahova", "Argeș", "Danubius"];
const COMPANY_B: &[&str] = &["Tech", "Logistic", "Construct", "Agro", "Soft", "Media", "Retail", "Energy", "Med", "Print"];
const INDUSTRIES: &[&str] = &["Software", "Manufacturing", "Retail", "Construction", "Healthcare", "Logistics", "Agriculture", "Energy"];
const AREAS: &[&str] = &["North-West", "Center", "North-East", "South-East", "South", "Bucharest-Ilfov", "South-West", "West"];
const CITIES: &[&str] = &["Cluj-Napoca", "Brașov", "Iași", "Constanța", "Ploiești", "București", "Craiova", "Timișoara"];
const TITLES: &[&str] = &["CEO", "CFO", "CTO", "Purchasing Manager", "Operations Director", "IT Manager", "Owner"];
const SIZES: &[&str] = &["1-10", "11-50", "51-200", "201-1000", "1000+"];
const TAGS: &[&str] = &["vip", "q4", "referral", "upsell", "tender", "eu-funds"];

pub async fn is_empty(db: &DatabaseConnection) -> anyhow::Result<bool> {
    Ok(staff::Entity::find().count(db).await? == 0)
}

/// Loads the demo company; refuses on a database that already has staff.
pub async fn seed_demo(db: &DatabaseConnection) -> anyhow::Result<DemoSummary> {
    if !is_empty(db).await? {
        bail!("the database is not empty (it has staff accounts); seed-demo only fills a new database");
    }
    let mut staff_ids = Vec::new();
    for (name, email, role_name) in DEMO_STAFF {
        let role = role::Entity::find()
            .filter(role::Column::Name.eq(*role_name))
            .one(db)
            .await?
            .with_context(|| format!("default role {role_name} missing"))?;
        let new = NewStaff {
            name: name.to_string(),
            email: EmailAddress::parse(email).map_err(|p| anyhow::anyhow!(p.message))?,
            password: DEMO_PASSWORD.to_string(),
            role_id: role.id,
        };
        let created = insert_staff(db, &Actor::system(), new).await.map_err(|e| anyhow::anyhow!("{e}"))?;
        staff_ids.push((created.id, *role_name));
    }
    let sellers: Vec<i32> = staff_ids.iter().filter(|(_, r)| matches!(*r, "Sales Agent" | "SDR" | "Account Manager")).map(|(id, _)| *id).collect();
    let summary = seed_pipeline(db, &sellers).await?;
    Ok(DemoSummary { staff: DEMO_STAFF.len(), ..summary })
}

#[derive(Debug, Default)]
pub struct DemoSummary {
    pub staff: usize,
    pub leads: usize,
    pub clients: usize,
    pub activities: usize,
    pub opportunities: usize,
}

fn pick<'a, T>(rng: &mut StdRng, items: &'a [T]) -> &'a T {
    &items[rng.gen_range(0..items.len())]
}

fn ascii(s: &str) -> String {
    s.to_lowercase()
        .chars()
        .map(|c| match c {
            'ă' | 'â' => 'a',
            'î' => 'i',
            'ș' | 'ş' => 's',
            'ț' | 'ţ' => 't',
            c => c,
        })
        .filter(|c| c.is_ascii_alphanumeric())
        .collect()
}

/// Leads over every status, source and seller, some lost or junk, with activities; and
/// clients, some converted from leads. Deterministic (fixed seed) and one transaction.
async fn seed_pipeline(db: &DatabaseConnection, sellers: &[i32]) -> anyhow::Result<DemoSummary> {
    let mut rng = StdRng::seed_from_u64(2026);
    let txn = db.begin().await?;
    let sales = pipeline::Entity::find().order_by_desc(pipeline::Column::IsDefault).one(&txn).await?.context("no pipeline")?;
    let statuses = pipeline_status::Entity::find()
        .filter(pipeline_status::Column::PipelineId.eq(sales.id))
        .order_by_asc(pipeline_status::Column::SortOrder)
        .all(&txn)
        .await?;
    let sources: Vec<i32> = lead_source::Entity::find().all(&txn).await?.into_iter().map(|s| s.id).collect();
    let reasons: Vec<i32> = lost_reason::Entity::find().all(&txn).await?.into_iter().map(|r| r.id).collect();
    anyhow::ensure!(!statuses.is_empty(), "the Sales pipeline has no statuses");
    let now = OffsetDateTime::now_utc();
    let mut summary = DemoSummary::default();
    let mut positions = vec![0i64; statuses.len()];
    let mut lead_rows = Vec::new();

    for i in 0..DEMO_LEADS {
        let (first, last) = (pick(&mut rng, FIRST), pick(&mut rng, LAST));
        let company = format!("{} {} SRL", pick(&mut rng, COMPANY_A), pick(&mut rng, COMPANY_B));
        // Funnel shape: more leads in the early stages.
        let stage = [0, 0, 0, 1, 1, 1, 2, 2, 3, 4][rng.gen_range(0..10)].min(statuses.len() - 1);
        let created = now - Duration::hours(rng.gen_range(1..24 * 120));
        let stage_since = created + (now - created) * rng.gen_range(0.0..1.0);
        let (currency, value) = if rng.gen_bool(0.7) { ("RON", rng.gen_range(20..800) * 100 * 100) } else { ("EUR", rng.gen_range(5..200) * 100 * 100) };
        let phone = format!("+40 7{:02} {:03} {:03}", rng.gen_range(20..99), rng.gen_range(0..1000), rng.gen_range(0..1000));
        let lost = rng.gen_bool(0.1);
        let junk = !lost && rng.gen_bool(0.03);
        positions[stage] += POSITION_GAP;
        let row = lead::ActiveModel {
            name: Set(format!("{first} {last}")),
            company: Set(Some(company.clone())),
            title: Set(Some(pick(&mut rng, TITLES).to_string())),
            email: Set(Some(format!("{}.{}{}@{}.ro", ascii(first), ascii(last), i, ascii(&company).trim_end_matches("srl")))),
            phone_key: Set(Some(phone_key(&phone))),
            phone: Set(Some(phone)),
            website: Set(None),
            address: Set(None),
            city: Set(Some(pick(&mut rng, CITIES).to_string())),
            country: Set(Some("Romania".into())),
            industry: Set(Some(pick(&mut rng, INDUSTRIES).to_string())),
            area: Set(Some(pick(&mut rng, AREAS).to_string())),
            company_size: Set(Some(pick(&mut rng, SIZES).to_string())),
            source_id: Set(Some(*pick(&mut rng, &sources))),
            pipeline_id: Set(sales.id),
            status_id: Set(statuses[stage].id),
            position: Set(positions[stage]),
            assigned_to: Set(if rng.gen_bool(0.9) { Some(*pick(&mut rng, sellers)) } else { None }),
            estimated_value_minor: Set(Some(value)),
            currency: Set(Some(currency.into())),
            description: Set(None),
            score: Set(0),
            is_opportunity: Set(false),
            lost: Set(lost),
            lost_reason_id: Set(if lost { Some(*pick(&mut rng, &reasons)) } else { None }),
            junk: Set(junk),
            converted_client_id: Set(None),
            converted_at: Set(None),
            last_contacted_at: Set(None),
            last_status_change_at: Set(stage_since),
            created_by: Set(None),
            created_at: Set(created),
            updated_at: Set(stage_since),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        lead_status_change::ActiveModel {
            lead_id: Set(row.id),
            from_status_id: Set(None),
            to_status_id: Set(statuses[0].id),
            staff_id: Set(None),
            at: Set(created),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        if stage > 0 {
            lead_status_change::ActiveModel {
                lead_id: Set(row.id),
                from_status_id: Set(Some(statuses[0].id)),
                to_status_id: Set(statuses[stage].id),
                staff_id: Set(row.assigned_to),
                at: Set(stage_since),
                ..Default::default()
            }
            .insert(&txn)
            .await?;
        }
        if rng.gen_bool(0.3) {
            lead_tag::Entity::insert(lead_tag::ActiveModel { lead_id: Set(row.id), tag: Set(pick(&mut rng, TAGS).to_string()) }).exec(&txn).await?;
        }
        if stage > 0 || rng.gen_bool(0.3) {
            let at = created + (stage_since - created) * 0.5;
            let (kind, summary_text, duration) = match rng.gen_range(0..3) {
                0 => ("call", "Discovery call", Some(rng.gen_range(5..45))),
                1 => ("email", "Sent company presentation", None),
                _ => ("meeting", "Needs assessment", None),
            };
            lead_activity::ActiveModel {
                lead_id: Set(row.id),
                activity_type: Set(kind.into()),
                summary: Set(summary_text.into()),
                body: Set((kind == "email").then(|| "Hello, please find our presentation attached.".to_string())),
                duration_minutes: Set(duration),
                attendees: Set(None),
                occurred_at: Set(at),
                staff_id: Set(row.assigned_to),
                created_at: Set(at),
                ..Default::default()
            }
            .insert(&txn)
            .await?;
            let mut touched: lead::ActiveModel = row.clone().into();
            touched.last_contacted_at = Set(Some(at));
            touched.update(&txn).await?;
            summary.activities += 1;
        }
        lead_rows.push(row);
    }
    summary.leads = lead_rows.len();

    // Clients: the first ones converted from late-stage leads, the rest direct.
    let converted: Vec<&lead::Model> = lead_rows.iter().filter(|l| l.status_id == statuses[statuses.len() - 1].id && !l.lost && !l.junk).take(DEMO_CLIENTS / 2).collect();
    for i in 0..DEMO_CLIENTS {
        let from = converted.get(i).copied();
        let company = match from {
            Some(l) => l.company.clone().unwrap_or_default(),
            None => format!("{} {} SA", pick(&mut rng, COMPANY_A), pick(&mut rng, COMPANY_B)),
        };
        let c = client::ActiveModel {
            company: Set(company.clone()),
            vat_number: Set(Some(format!("RO{}", rng.gen_range(1_000_000..99_999_999)))),
            registration_number: Set(Some(format!("J{:02}/{}/20{:02}", rng.gen_range(1..52), rng.gen_range(100..9999), rng.gen_range(5..26)))),
            address: Set(Some(format!("Str. Principală nr. {}", rng.gen_range(1..200)))),
            city: Set(Some(pick(&mut rng, CITIES).to_string())),
            county: Set(None),
            country: Set(Some("Romania".into())),
            zip: Set(None),
            phone: Set(from.and_then(|l| l.phone.clone())),
            website: Set(None),
            currency: Set(from.and_then(|l| l.currency.clone()).unwrap_or_else(|| "RON".into())),
            payment_terms_days: Set(*pick(&mut rng, &[15, 30, 30, 45, 60])),
            assigned_to: Set(from.and_then(|l| l.assigned_to).or_else(|| Some(*pick(&mut rng, sellers)))),
            lead_id: Set(from.map(|l| l.id)),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        let (first, last) = (pick(&mut rng, FIRST), pick(&mut rng, LAST));
        client_contact::ActiveModel {
            client_id: Set(c.id),
            name: Set(from.map(|l| l.name.clone()).unwrap_or_else(|| format!("{first} {last}"))),
            email: Set(Some(from.and_then(|l| l.email.clone()).unwrap_or_else(|| format!("{}.{}@{}.ro", ascii(first), ascii(last), ascii(&company))))),
            phone: Set(from.and_then(|l| l.phone.clone())),
            title: Set(Some(pick(&mut rng, TITLES).to_string())),
            is_primary: Set(true),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        if let Some(l) = from {
            let mut row: lead::ActiveModel = l.clone().into();
            row.converted_client_id = Set(Some(c.id));
            row.converted_at = Set(Some(now));
            row.update(&txn).await?;
        }
    }
    summary.clients = DEMO_CLIENTS;

    // Opportunities from qualified-and-later leads, with probabilities and close dates.
    let opp_statuses: Vec<i32> = opportunity_status::Entity::find().order_by_asc(opportunity_status::Column::Id).all(&txn).await?.into_iter().map(|s| s.id).collect();
    let candidates: Vec<&lead::Model> = lead_rows.iter().filter(|l| !l.lost && !l.junk && l.status_id != statuses[0].id).take(DEMO_OPPORTUNITIES).collect();
    for l in candidates {
        let mut row: lead::ActiveModel = l.clone().into();
        row.id = sea_orm::ActiveValue::NotSet;
        row.is_opportunity = Set(true);
        row.origin_lead_id = Set(Some(l.id));
        row.probability = Set(Some(*pick(&mut rng, &[10, 25, 40, 50, 60, 75, 90])));
        row.expected_close_date = Set(Some((now + Duration::days(rng.gen_range(-10..120))).date()));
        row.opportunity_status_id = Set(opp_statuses.first().map(|_| *pick(&mut rng, &opp_statuses[..opp_statuses.len().min(3)])));
        row.converted_client_id = Set(None);
        row.converted_at = Set(None);
        row.insert(&txn).await?;
        summary.opportunities += 1;
    }

    // Scoring rules from the guide's criteria, then every lead scored.
    for (field, operator, value, points) in [
        ("source", "in", serde_json::json!(["Referral", "Partner"]), 30),
        ("industry", "equals", serde_json::json!("Software"), 20),
        ("company_size", "range", serde_json::json!({"min": 51}), 15),
        ("function", "in", serde_json::json!(["CEO", "CTO", "Owner"]), 10),
        ("tag", "equals", serde_json::json!("vip"), 25),
    ] {
        scoring_rule::ActiveModel {
            field: Set(field.into()),
            operator: Set(operator.into()),
            value: Set(value),
            points: Set(points),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
    }
    crate::scoring::rescore(&txn, None).await.map_err(|e| anyhow::anyhow!("{e}"))?;

    // Follow-ups: some due today, some overdue, some ahead.
    for l in lead_rows.iter().filter(|l| !l.lost && !l.junk && l.assigned_to.is_some()).step_by(7) {
        reminder::ActiveModel {
            lead_id: Set(l.id),
            staff_id: Set(l.assigned_to.unwrap_or_default()),
            remind_at: Set(now + Duration::hours(rng.gen_range(-72..240))),
            note: Set(Some("Follow up on the offer".into())),
            done_at: Set(None),
            created_by: Set(l.assigned_to),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
    }
    txn.commit().await?;
    Ok(summary)
}
