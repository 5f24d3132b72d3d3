//! `crmconnect seed-demo`: a realistic demo company. Grows as modules land.

use anyhow::{bail, Context};
use crmconnect_domain::leads::{phone_key, POSITION_GAP};
use crmconnect_domain::validation::EmailAddress;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, TransactionTrait};
use time::{Duration, OffsetDateTime};

use crate::audit::Actor;
use crate::entities::{
    client, client_contact, lead, lead_activity, lead_source, lead_status_change, lead_tag, lost_reason, opportunity_status, pipeline, pipeline_status,
    reminder, role, scoring_rule, staff,
};
use crate::ops::staff::{insert_staff, NewStaff};

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

const FIRST: &[&str] = &[
    "Ana", "Bogdan", "Cristina", "Dan", "Elena", "Florin", "Gabriela", "Horia", "Irina", "Ion", "Laura", "Matei", "Nicoleta", "Ovidiu", "Paula", "Radu",
    "Sorina", "Tudor", "Vlad", "Zoe",
];
const LAST: &[&str] =
    &["Popa", "Ionescu", "Stoica", "Munteanu", "Rusu", "Lazăr", "Matei", "Ciobanu", "Toma", "Neagu", "Barbu", "Dobre", "Vasile", "Moldovan", "Oprea"];
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
        let role =
            role::Entity::find().filter(role::Column::Name.eq(*role_name)).one(db).await?.with_context(|| format!("default role {role_name} missing"))?;
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
    let proposals = seed_quoting(db, &sellers).await?;
    let (invoices, payments) = seed_invoicing(db).await?;
    seed_goals(db, &sellers).await?;
    Ok(DemoSummary { staff: DEMO_STAFF.len(), proposals, invoices, payments, ..summary })
}

#[derive(Debug, Default)]
pub struct DemoSummary {
    pub staff: usize,
    pub leads: usize,
    pub clients: usize,
    pub activities: usize,
    pub opportunities: usize,
    pub proposals: usize,
    pub invoices: usize,
    pub payments: usize,
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
    let converted: Vec<&lead::Model> =
        lead_rows.iter().filter(|l| l.status_id == statuses[statuses.len() - 1].id && !l.lost && !l.junk).take(DEMO_CLIENTS / 2).collect();
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
    let opp_statuses: Vec<i32> =
        opportunity_status::Entity::find().order_by_asc(opportunity_status::Column::Id).all(&txn).await?.into_iter().map(|s| s.id).collect();
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
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
    }
    txn.commit().await?;
    Ok(summary)
}

/// Catalogue items of the demo company: (description, unit, unit price, purchase price, VAT name, group).
const DEMO_ITEMS: &[(&str, &str, &str, &str, &str, &str)] = &[
    ("CRM support plan", "month", "450", "180", "VAT 21%", "Services"),
    ("Hosting and backups", "month", "120", "60", "VAT 21%", "Services"),
    ("Implementation workshop", "day", "2400", "1200", "VAT 21%", "Projects"),
    ("Data migration", "project", "3500", "1500", "VAT 21%", "Projects"),
    ("GPS tracker T200", "pcs", "389.90", "240", "VAT 21%", "Products"),
    ("On-site installation", "h", "150", "70", "VAT 21%", "Services"),
    ("Training manual (printed)", "pcs", "85", "30", "VAT 11%", "Products"),
];

/// (item index in DEMO_ITEMS, quantity)
type TemplateLine = (usize, &'static str);

/// The guide's three templates: (name, content, lines).
const DEMO_TEMPLATES: &[(&str, &str, &[TemplateLine])] = &[
    ("Monthly Services", "<p>Our monthly services keep your CRM running, supported and backed up.</p>", &[(0, "1"), (1, "1")]),
    ("One-time Project", "<p>A fixed-scope implementation: workshop, data migration and go-live.</p>", &[(2, "2"), (3, "1")]),
    ("Product + Installation Package", "<p>Hardware delivered and installed by our technicians.</p>", &[(4, "10"), (5, "8"), (6, "10")]),
];

/// Items, the guide's templates, and proposals in every status (two expired), one accepted
/// proposal converted to an invoice. One transaction.
async fn seed_quoting(db: &DatabaseConnection, sellers: &[i32]) -> anyhow::Result<usize> {
    use crate::documents::{self, Line};
    use crate::entities::{item, proposal, proposal_comment, proposal_template, tax};
    use crmconnect_domain::documents::AppliedTax;
    use crmconnect_domain::proposals::{format_number, ProposalStatus};

    let mut rng = StdRng::seed_from_u64(4242);
    let txn = db.begin().await?;
    let now = OffsetDateTime::now_utc();
    let taxes = tax::Entity::find().all(&txn).await?;
    let tax_of = |name: &str| taxes.iter().find(|t| t.name == name).map(|t| AppliedTax { tax_id: t.id, name: t.name.clone(), rate: documents::dec(&t.rate) });
    let mut items = Vec::new();
    for (description, unit, price, purchase, vat, group) in DEMO_ITEMS {
        let applied = tax_of(vat);
        let saved = item::ActiveModel {
            description: Set(description.to_string()),
            long_description: Set(None),
            unit: Set(Some(unit.to_string())),
            unit_price: Set(price.to_string()),
            purchase_price: Set(Some(purchase.to_string())),
            tax_ids: Set(serde_json::json!(applied.iter().map(|t| t.tax_id).collect::<Vec<_>>())),
            group_name: Set(Some(group.to_string())),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        items.push((saved, applied));
    }
    let line = |index: usize, qty: &str| {
        let (it, applied) = &items[index];
        Line {
            item_id: Some(it.id),
            description: it.description.clone(),
            long_description: None,
            qty: documents::dec(qty),
            unit: it.unit.clone(),
            unit_price: documents::dec(&it.unit_price),
            discount_percent: rust_decimal::Decimal::ZERO,
            taxes: applied.iter().cloned().collect(),
        }
    };
    let mut templates = Vec::new();
    for (name, content, lines) in DEMO_TEMPLATES {
        let t = proposal_template::ActiveModel {
            name: Set(name.to_string()),
            content: Set(content.to_string()),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        let lines: Vec<Line> = lines.iter().map(|(i, q)| line(*i, q)).collect();
        documents::save_lines(&txn, documents::PROPOSAL_TEMPLATE, t.id, &lines).await.map_err(|e| anyhow::anyhow!("{e}"))?;
        templates.push((t, lines));
    }

    let leads = lead::Entity::find()
        .filter(lead::Column::Lost.eq(false))
        .filter(lead::Column::Junk.eq(false))
        .filter(lead::Column::Email.is_not_null())
        .order_by_asc(lead::Column::Id)
        .all(&txn)
        .await?;
    let ron = crmconnect_domain::money::Currency::RON;
    // Two of each status; the first Sent and the first Sent-manually ones are past open_till.
    let plan: Vec<ProposalStatus> = ProposalStatus::ALL.iter().flat_map(|s| [*s, *s]).collect();
    let mut count = 0;
    for (n, status) in plan.iter().enumerate() {
        let l = &leads[(n * 7) % leads.len()];
        let (template, lines) = &templates[n % templates.len()];
        let totals = documents::compute(ron, lines, None).map_err(|e| anyhow::anyhow!(e.message))?;
        let (subtotal, discount, tax, total) = documents::minor_totals(&totals, ron);
        let date = (now - Duration::days(rng.gen_range(1..40))).date();
        let expired = n % 2 == 0 && matches!(status, ProposalStatus::Sent | ProposalStatus::SentManually);
        let open_till = if expired { now.date() - Duration::days(3) } else { date.max(now.date()) + Duration::days(14) };
        let sent = *status != ProposalStatus::Draft;
        let number = format_number("PRO-", documents::next_number(&txn, "proposal").await.map_err(|e| anyhow::anyhow!("{e}"))?, 6);
        let seller = l.assigned_to.or_else(|| sellers.first().copied());
        let accepted = *status == ProposalStatus::Accepted;
        let p = proposal::ActiveModel {
            number: Set(number),
            subject: Set(format!("{} for {}", template.name, l.company.clone().unwrap_or_else(|| l.name.clone()))),
            lead_id: Set(Some(l.id)),
            client_id: Set(l.converted_client_id),
            recipient_name: Set(Some(l.name.clone())),
            recipient_email: Set(l.email.clone()),
            recipient_phone: Set(l.phone.clone()),
            recipient_address: Set(l.address.clone()),
            recipient_city: Set(l.city.clone()),
            recipient_country: Set(l.country.clone()),
            recipient_zip: Set(None),
            open_till: Set(Some(open_till)),
            status_code: Set(status.code()),
            allow_comments: Set(true),
            assigned_to: Set(seller),
            content: Set(template.content.clone()),
            terms: Set("<p>Prices in RON, VAT shown per rate. Payment within 15 days of the invoice.</p>".into()),
            internal_notes: Set(Some("Demo data".into())),
            tags: Set(serde_json::json!([])),
            portal_token: Set(Some(crate::auth::secrets::random_secret())),
            invoice_id: Set(None),
            sales_order_id: Set(None),
            accepted_name: Set(accepted.then(|| l.name.clone())),
            accepted_email: Set(if accepted { l.email.clone() } else { None }),
            accepted_signature: Set(accepted.then(|| l.name.clone())),
            accepted_at: Set(accepted.then_some(now - Duration::days(1))),
            accepted_ip: Set(accepted.then(|| "198.51.100.7".to_string())),
            accepted_user_agent: Set(accepted.then(|| "Mozilla/5.0 (demo)".to_string())),
            declined_reason: Set((*status == ProposalStatus::Declined).then(|| "Budget moved to next year".to_string())),
            declined_at: Set((*status == ProposalStatus::Declined).then_some(now - Duration::days(2))),
            sent_at: Set(sent.then_some(now - Duration::days(5))),
            viewed_at: Set(matches!(status, ProposalStatus::Viewed | ProposalStatus::Accepted | ProposalStatus::Declined).then_some(now - Duration::days(3))),
            currency: Set("RON".into()),
            date: Set(date),
            discount_type: Set(None),
            discount_value: Set("0".into()),
            discount_applies: Set("before_tax".into()),
            subtotal_minor: Set(subtotal),
            discount_minor: Set(discount),
            total_tax_minor: Set(tax),
            total_minor: Set(total),
            created_by: Set(seller),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        documents::save_lines(&txn, documents::PROPOSAL, p.id, lines).await.map_err(|e| anyhow::anyhow!("{e}"))?;
        if *status == ProposalStatus::Viewed {
            proposal_comment::ActiveModel {
                proposal_id: Set(p.id),
                content: Set("Could we start next month instead?".into()),
                staff_id: Set(None),
                author_name: Set(l.name.clone()),
                created_at: Set(now - Duration::hours(20)),
                ..Default::default()
            }
            .insert(&txn)
            .await?;
        }
        if accepted && n % 2 == 0 {
            crate::ops::proposals::convert_in(&txn, &Actor::system(), &p, crate::ops::proposals::Target::Invoice).await.map_err(|e| anyhow::anyhow!("{e}"))?;
        }
        count += 1;
    }
    txn.commit().await?;
    Ok(count)
}

/// Invoices in every status (draft, unpaid, partially paid, paid, overdue, cancelled) with
/// payments, and a monthly recurring schedule. One transaction.
async fn seed_invoicing(db: &DatabaseConnection) -> anyhow::Result<(usize, usize)> {
    use crate::documents::{self, Line};
    use crate::entities::{invoice, item, payment_mode, recurring_invoice};
    use crate::ops::invoices::issue_in;
    use crate::ops::payments::{record_in, NewPayment};
    use crmconnect_domain::documents::AppliedTax;

    let err = |e: crate::error::Error| anyhow::anyhow!("{e}");
    let txn = db.begin().await?;
    let now = OffsetDateTime::now_utc();
    let today = now.date();
    let ron = crmconnect_domain::money::Currency::RON;
    let clients = sea_orm::QuerySelect::limit(client::Entity::find().order_by_asc(client::Column::Id), 12).all(&txn).await?;
    let items = item::Entity::find().order_by_asc(item::Column::Id).all(&txn).await?;
    let taxes = crate::entities::tax::Entity::find().all(&txn).await?;
    let mode = payment_mode::Entity::find().order_by_asc(payment_mode::Column::Id).one(&txn).await?.map(|m| m.id);
    seed_commission_policies(&txn, &clients).await.map_err(err)?;
    let line = |it: &item::Model, qty: i64| Line {
        item_id: Some(it.id),
        description: it.description.clone(),
        long_description: None,
        qty: rust_decimal::Decimal::from(qty),
        unit: it.unit.clone(),
        unit_price: documents::dec(&it.unit_price),
        discount_percent: rust_decimal::Decimal::ZERO,
        taxes: serde_json::from_value::<Vec<i32>>(it.tax_ids.clone())
            .unwrap_or_default()
            .iter()
            .filter_map(|id| taxes.iter().find(|t| t.id == *id))
            .map(|t| AppliedTax { tax_id: t.id, name: t.name.clone(), rate: documents::dec(&t.rate) })
            .collect(),
    };
    // (days ago issued, days until due (negative = past), paid fraction in %, cancelled, draft)
    let plan: &[(i64, i64, i64, bool, bool)] = &[
        (2, 28, 0, false, true),
        (5, 25, 0, false, false),
        (10, 20, 40, false, false),
        (40, -10, 100, false, false),
        (45, -15, 0, false, false),
        (50, -20, 30, false, false),
        (20, 10, 0, true, false),
        (3, 27, 100, false, false),
    ];
    let (mut invoices, mut payments) = (0, 0);
    for (n, (ago, due_in, paid_pct, cancelled, draft)) in plan.iter().enumerate() {
        let c = &clients[n % clients.len()];
        let lines = vec![line(&items[n % items.len()], 1 + (n as i64 % 3)), line(&items[(n + 2) % items.len()], 2)];
        let draft_invoice = crate::ops::invoices::DraftInvoice {
            client: c,
            currency: ron,
            date: today - Duration::days(*ago),
            due_date: Some(today + Duration::days(*due_in)),
            lines: &lines,
            discount: None,
            terms: "<p>Payment by bank transfer within the due date.</p>".into(),
            client_note: None,
            sale_agent: c.assigned_to,
            proposal_id: None,
            sales_order_id: None,
            recurring: None,
            created_by: c.assigned_to,
        };
        let inv = crate::ops::invoices::insert_draft(&txn, draft_invoice).await.map_err(err)?;
        let (total, date) = (inv.total_minor, inv.date);
        invoices += 1;
        if *draft {
            continue;
        }
        let inv = issue_in(&txn, &Actor::system(), &inv).await.map_err(err)?;
        if *paid_pct > 0 {
            let amount = crmconnect_domain::money::from_minor(total * paid_pct / 100, ron);
            let p = NewPayment {
                amount,
                date: date + Duration::days(1),
                payment_mode_id: mode,
                transaction_id: Some(format!("OP-{}", 1000 + n)),
                note: None,
                source: "manual",
                gateway_event_id: None,
            };
            record_in(&txn, &Actor::system(), &inv, p).await.map_err(err)?;
            payments += 1;
        }
        if *cancelled {
            let mut row: invoice::ActiveModel = inv.into();
            row.status_code = Set(5);
            row.update(&txn).await?;
        }
    }
    seed_commission_receipt(&txn, now).await.map_err(err)?;
    if let Some(c) = clients.first() {
        let r = recurring_invoice::ActiveModel {
            client_id: Set(c.id),
            currency: Set("RON".into()),
            frequency: Set("monthly".into()),
            interval: Set(1),
            start_date: Set(today.replace_day(1).unwrap_or(today)),
            cycles: Set(12),
            mode: Set("draft".into()),
            active: Set(true),
            sale_agent: Set(c.assigned_to),
            terms: Set(String::new()),
            client_note: Set(None),
            created_by: Set(c.assigned_to),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        documents::save_lines(&txn, crate::scheduler::RECURRING_LINES, r.id, &[line(&items[0], 1)]).await.map_err(err)?;
    }
    txn.commit().await?;
    Ok((invoices, payments))
}

/// Two policies — the guide's ladder for the first seller of the demo clients, 10 % for the
/// others — so the seeded payments earn commissions the way real ones do.
async fn seed_commission_policies(txn: &sea_orm::DatabaseTransaction, clients: &[client::Model]) -> crate::error::Result<()> {
    use crate::ops::commissions::{add_applicable, save_policy};
    use crmconnect_domain::api::CommissionPolicyInput;
    use crmconnect_domain::commission::{CommissionType, Tier};
    let d = |s: &str| crate::documents::dec(s);
    let ladder = CommissionPolicyInput {
        name: Some("Sales ladder".into()),
        commission_type: Some(CommissionType::Ladder),
        tiers: Some(vec![
            Tier { from: d("0"), to: Some(d("10000")), rate: d("5") },
            Tier { from: d("10000"), to: Some(d("30000")), rate: d("7") },
            Tier { from: d("30000"), to: None, rate: d("10") },
        ]),
        ..Default::default()
    };
    let flat =
        CommissionPolicyInput { name: Some("Flat 10%".into()), commission_type: Some(CommissionType::Percentage), rate: Some(d("10")), ..Default::default() };
    let ladder = save_policy(txn, None, &ladder).await?;
    let flat = save_policy(txn, None, &flat).await?;
    let mut sellers: Vec<i32> = clients.iter().filter_map(|c| c.assigned_to).collect();
    sellers.dedup();
    let mut seen = std::collections::BTreeSet::new();
    for (n, seller) in sellers.into_iter().filter(|s| seen.insert(*s)).enumerate() {
        add_applicable(txn, seller, if n == 0 { ladder.id } else { flat.id }).await?;
    }
    Ok(())
}

/// Pays out one seller's oldest commission, so the demo shows commissions in both states.
async fn seed_commission_receipt(txn: &sea_orm::DatabaseTransaction, now: OffsetDateTime) -> crate::error::Result<()> {
    use crate::entities::commission;
    use crmconnect_domain::api::CommissionReceiptInput;
    let Some(first) = commission::Entity::find().order_by_asc(commission::Column::Id).one(txn).await? else { return Ok(()) };
    let input = CommissionReceiptInput {
        staff_id: first.staff_id,
        commission_ids: vec![first.id],
        date: Some(now.date()),
        note: Some("Paid with the salary".into()),
        create_expense: true,
    };
    crate::ops::commissions::create_receipt(txn, first.staff_id, &input, now).await?;
    Ok(())
}

/// A team of the sellers and goals in every status: achieved (this month's income so far),
/// in progress (an ambitious team target), missed (a past period with nothing in it).
async fn seed_goals(db: &DatabaseConnection, sellers: &[i32]) -> anyhow::Result<()> {
    use crate::ops::goals::{save_goal, save_team};
    use crmconnect_domain::api::TeamInput;
    use crmconnect_domain::goals::{GoalInput, GoalTargetType, GoalType};
    let err = |e: crate::error::Error| anyhow::anyhow!("{e}");
    let txn = db.begin().await?;
    let today = OffsetDateTime::now_utc().date();
    let team = save_team(&txn, None, &TeamInput { name: Some("Field sales".into()), member_ids: Some(sellers.to_vec()) }).await.map_err(err)?;
    let goal = |subject: &str, goal_type, target: &str, days: (i64, i64), target_type, team_id| GoalInput {
        subject: subject.into(),
        goal_type,
        target: crate::documents::dec(target),
        currency: Some("RON".into()),
        start_date: today + Duration::days(days.0),
        end_date: today + Duration::days(days.1),
        target_type,
        staff_id: None,
        team_id,
        notify_when_achieved: true,
        notify_when_missed: true,
    };
    let goals = [
        goal("Income, last 60 days", GoalType::Income, "100", (-60, 0), GoalTargetType::All, None),
        goal("Field sales: invoices this quarter", GoalType::TotalInvoices, "1000000", (-30, 60), GoalTargetType::Team, Some(team.id)),
        goal("New clients last year", GoalType::NewClients, "5", (-400, -300), GoalTargetType::All, None),
    ];
    let creator = sellers.first().copied().unwrap_or_default();
    for g in &goals {
        save_goal(&txn, None, g, creator).await.map_err(err)?;
    }
    txn.commit().await?;
    Ok(())
}
