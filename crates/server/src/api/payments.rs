//! Payments: recording them on invoices (never above the balance), the payments list,
//! deleting, receipts, payment modes, and client credit (advances applied later).

use actix_web::{web, HttpResponse};
use crmconnect_domain::api::{ApplyCreditInput, ClientCredit, CreditInput, Invoice, Page, Payment, PaymentInput, PaymentMode, PaymentModeInput, Problem};
use crmconnect_domain::money::{self, Currency};
use crmconnect_domain::permissions::{Action, Module, ViewScope};
use crmconnect_domain::validation::{parse_name, Validator};
use rust_decimal::Decimal;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, Order, QueryFilter, QueryOrder, QuerySelect};
use serde::Deserialize;
use serde_json::json;
use time::{Date, OffsetDateTime};
use utoipa::IntoParams;

use super::pdf_response;
use crate::audit::{self, Change};
use crate::auth::AuthUser;
use crate::conditional::{IfMatch, IfMatchHeader};
use crate::documents::{currency_of, today};
use crate::entities::{client, client_credit, invoice, payment, payment_mode};
use crate::extract::Json;
use crate::ops::invoices::{find_visible as find_invoice, load_api as load_invoice, lock_visible as lock_invoice, refresh_paid};
use crate::ops::payments::*;
use crate::pagination::{finish_page, Keys, PageParams, SinceParams, WholeList};
use crate::problem::{ApiError, ApiResult, ErrorCode};
use crate::state::AppState;
use crate::{db, pdf, settings};

/// Record a payment (amount, date, mode, reference). Partial payments accumulate; the status
/// follows (Partially paid 3, Paid 2). More than the balance → 409 `payment_exceeds_balance`.
#[utoipa::path(post, path = "/api/v1/invoices/{id}/payments", operation_id = "createInvoicePayment", tag = "payments", security(("bearer" = [])), params(("id" = i32, Path)),
    request_body = PaymentInput,
    responses((status = 201, body = Invoice), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`payment_exceeds_balance`, `invalid_status_transition`", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn create(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>, body: Json<PaymentInput>) -> ApiResult<HttpResponse> {
    user.require(Module::Payments, Action::Create)?;
    let b = body.0;
    let txn = db::begin_write(&state.db).await?;
    let inv = lock_invoice(&txn, &user, *id).await?;
    let mut v = Validator::new();
    check_mode(&txn, &mut v, b.payment_mode_id).await?;
    let transaction_id = check_text(&mut v, "transaction_id", &b.transaction_id, 200);
    let note = check_text(&mut v, "note", &b.note, 2000);
    let date = b.date.unwrap_or_else(today);
    if date > today() {
        v.push("date", "in_future", "a payment cannot be dated in the future");
    }
    v.finish().map_err(ApiError::validation)?;
    record_in(
        &txn,
        &user.actor(),
        &inv,
        NewPayment { amount: b.amount, date, payment_mode_id: b.payment_mode_id, transaction_id, note, source: "manual", gateway_event_id: None },
    )
    .await?;
    let after =
        load_invoice(&txn, &state.settings.public_url, &invoice::Entity::find_by_id(inv.id).one(&txn).await?.ok_or_else(|| ApiError::not_found("invoice"))?)
            .await?;
    txn.commit().await?;
    Ok(HttpResponse::Created().json(after))
}

/// Payments of one invoice, oldest first.
#[utoipa::path(get, path = "/api/v1/invoices/{id}/payments", operation_id = "listInvoicePayments", tag = "payments", security(("bearer" = [])), params(("id" = i32, Path), SinceParams),
    responses((status = 200, body = Page<Payment>), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn list_for_invoice(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>, since: web::Query<SinceParams>) -> ApiResult<HttpResponse> {
    // Payments are their own module: seeing an invoice does not show who paid what, when.
    user.view_scope(Module::Payments)?;
    let inv = find_invoice(&state.db, &user, *id).await?;
    // Payments are never edited (a correction is a delete and a new payment).
    let changed = since.condition(payment::Column::CreatedAt, payment::Column::CreatedAt)?;
    let rows = payment::Entity::find().filter(payment::Column::InvoiceId.eq(inv.id)).filter(changed).order_by_asc(payment::Column::Id).all(&state.db).await?;
    Ok(HttpResponse::Ok().json(Page { items: to_api_many(&state.db, &rows).await?, next_cursor: None }))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PaymentFilter {
    pub client_id: Option<i32>,
    pub invoice_id: Option<i32>,
    pub payment_mode_id: Option<i32>,
    #[serde(default, with = "crmconnect_domain::dates::option")]
    #[param(value_type = Option<String>, format = Date)]
    pub date_from: Option<Date>,
    #[serde(default, with = "crmconnect_domain::dates::option")]
    #[param(value_type = Option<String>, format = Date)]
    pub date_to: Option<Date>,
}

/// All payments, newest first (view own: payments of your clients).
#[utoipa::path(get, path = "/api/v1/payments", operation_id = "listPayments", tag = "payments", security(("bearer" = [])), params(PaymentFilter, PageParams),
    responses((status = 200, body = Page<Payment>), (status = 403, body = Problem, content_type = "application/problem+json")))]
pub async fn list(state: web::Data<AppState>, user: AuthUser, filter: web::Query<PaymentFilter>, page: web::Query<PageParams>) -> ApiResult<HttpResponse> {
    let scope = user.view_scope(Module::Payments)?;
    let page = page.parse()?;
    let mut q = page.select(
        payment::Entity::find(),
        Keys { id: payment::Column::Id, created_at: payment::Column::CreatedAt, updated_at: payment::Column::CreatedAt },
        Order::Desc,
    );
    if let ViewScope::Own(me) = scope {
        let mine = client::Entity::find()
            .select_only()
            .column(client::Column::Id)
            .filter(client::Column::AssignedTo.eq(me))
            .into_tuple::<i32>()
            .all(&state.db)
            .await?;
        q = q.filter(payment::Column::ClientId.is_in(mine));
    }
    if let Some(id) = filter.client_id {
        q = q.filter(payment::Column::ClientId.eq(id));
    }
    if let Some(id) = filter.invoice_id {
        q = q.filter(payment::Column::InvoiceId.eq(id));
    }
    if let Some(id) = filter.payment_mode_id {
        q = q.filter(payment::Column::PaymentModeId.eq(id));
    }
    if let Some(d) = filter.date_from {
        q = q.filter(payment::Column::Date.gte(d));
    }
    if let Some(d) = filter.date_to {
        q = q.filter(payment::Column::Date.lte(d));
    }
    let (rows, next_cursor) = finish_page(q.all(&state.db).await?, page, |p| (p.id, p.created_at));
    Ok(HttpResponse::Ok().json(Page { items: to_api_many(&state.db, &rows).await?, next_cursor }))
}

/// Delete a payment; the invoice's paid total and status follow. A payment made from client
/// credit returns the money to the credit.
#[utoipa::path(delete, path = "/api/v1/payments/{id}", operation_id = "deletePayment", tag = "payments", security(("bearer" = [])), params(("id" = i32, Path)),
    responses((status = 204, description = "Deleted"), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn delete(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>) -> ApiResult<HttpResponse> {
    user.require(Module::Payments, Action::Delete)?;
    let txn = db::begin_write(&state.db).await?;
    let p = payment::Entity::find_by_id(*id).one(&txn).await?.ok_or_else(|| ApiError::not_found("payment"))?;
    lock_invoice(&txn, &user, p.invoice_id).await?;
    // Re-read under the invoice's lock: a simultaneous delete of the same payment lost the race.
    let p = payment::Entity::find_by_id(p.id).one(&txn).await?.ok_or_else(|| ApiError::not_found("payment"))?;
    let before = to_api_many(&txn, std::slice::from_ref(&p)).await?.remove(0);
    client_credit::Entity::delete_many().filter(client_credit::Column::PaymentId.eq(p.id)).exec(&txn).await?;
    crate::ops::commissions::on_payment_deleted(&txn, p.id).await?;
    payment::Entity::delete_by_id(p.id).exec(&txn).await?;
    refresh_paid(&txn, p.invoice_id).await?;
    audit::record(&txn, &user.actor(), Change::new("payment.deleted", "invoice", p.invoice_id).before(&before)).await?;
    txn.commit().await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A receipt for one payment, as PDF.
#[utoipa::path(get, path = "/api/v1/payments/{id}/receipt", operation_id = "getPaymentReceiptPdf", tag = "payments", security(("bearer" = [])), params(("id" = i32, Path)),
    responses((status = 200, description = "application/pdf", content_type = "application/pdf"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn receipt(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>) -> ApiResult<HttpResponse> {
    let p = payment::Entity::find_by_id(*id).one(&state.db).await?.ok_or_else(|| ApiError::not_found("payment"))?;
    user.view_scope(Module::Payments)?;
    let inv = find_invoice(&state.db, &user, p.invoice_id).await?;
    let api = to_api_many(&state.db, std::slice::from_ref(&p)).await?.remove(0);
    let company = settings::load(&state.db).await?;
    let c = client::Entity::find_by_id(p.client_id).one(&state.db).await?.ok_or_else(|| ApiError::not_found("client"))?;
    let number = format!("RCPT-{:06}", p.id);
    let invoice_api = load_invoice(&state.db, &state.settings.public_url, &inv).await?;
    let bytes = pdf::render(&pdf::DocumentPdf {
        title: "PAYMENT RECEIPT".into(),
        number: number.clone(),
        seller: pdf::company_block(&company),
        buyer: [Some(c.company), c.vat_number].into_iter().flatten().collect(),
        meta: vec![
            ("Date".into(), p.date.to_string()),
            ("Invoice".into(), api.invoice_number.clone().unwrap_or_default()),
            ("Mode".into(), api.payment_mode.clone().unwrap_or_else(|| "-".into())),
        ],
        currency: p.currency.clone(),
        lines: Vec::new(),
        amounts: crmconnect_domain::api::Amounts {
            subtotal: api.amount,
            discount_total: Decimal::ZERO,
            taxes: Vec::new(),
            total_tax: Decimal::ZERO,
            total: api.amount,
        },
        extra_totals: vec![(format!("Balance due {}", p.currency), invoice_api.balance_due)],
        sections: vec![("Reference".into(), api.transaction_id.unwrap_or_default())],
    });
    Ok(pdf_response(&number, bytes))
}

/// Payment modes (bank transfer, cash, card…).
#[utoipa::path(get, path = "/api/v1/payment-modes", operation_id = "listPaymentModes", tag = "payments", security(("bearer" = [])), params(WholeList, SinceParams),
    responses((status = 200, body = Page<PaymentMode>), (status = 401, body = Problem, content_type = "application/problem+json")))]
pub async fn list_modes(state: web::Data<AppState>, _user: AuthUser, since: web::Query<SinceParams>, whole: web::Query<WholeList>) -> ApiResult<HttpResponse> {
    whole.check()?;
    let changed = since.condition(payment_mode::Column::CreatedAt, payment_mode::Column::UpdatedAt)?;
    let rows = payment_mode::Entity::find().filter(changed).order_by_asc(payment_mode::Column::Id).all(&state.db).await?;
    Ok(HttpResponse::Ok().json(Page { items: rows.iter().map(mode_to_api).collect::<Vec<_>>(), next_cursor: None }))
}

/// Add a payment mode (settings: edit).
#[utoipa::path(post, path = "/api/v1/payment-modes", operation_id = "createPaymentMode", tag = "payments", security(("bearer" = [])), request_body = PaymentModeInput,
    responses((status = 201, body = PaymentMode), (status = 409, description = "`name_taken`", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn create_mode(state: web::Data<AppState>, user: AuthUser, body: Json<PaymentModeInput>) -> ApiResult<HttpResponse> {
    user.require(Module::Settings, Action::Edit)?;
    let name = parse_name(body.0.name.as_deref().unwrap_or_default(), 100).map_err(|e| ApiError::field("name", e.code, e.message))?;
    let now = OffsetDateTime::now_utc();
    let txn = db::begin_write(&state.db).await?;
    name_free(&txn, &name, None).await?;
    let saved = payment_mode::ActiveModel {
        name: Set(name),
        active: Set(body.0.active.unwrap_or(true)),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let api = mode_to_api(&saved);
    audit::record(&txn, &user.actor(), Change::new("payment_mode.created", "payment_mode", saved.id).after(&api)).await?;
    txn.commit().await?;
    Ok(HttpResponse::Created().json(api))
}

/// Rename or (de)activate a payment mode (settings: edit).
#[utoipa::path(patch, path = "/api/v1/payment-modes/{id}", operation_id = "updatePaymentMode", tag = "payments", security(("bearer" = [])), params(("id" = i32, Path), IfMatchHeader), request_body = PaymentModeInput,
    responses((status = 200, body = PaymentMode), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`name_taken`", body = Problem, content_type = "application/problem+json")))]
pub async fn update_mode(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i32>,
    if_match: IfMatch,
    body: Json<PaymentModeInput>,
) -> ApiResult<HttpResponse> {
    user.require(Module::Settings, Action::Edit)?;
    let txn = db::begin_write(&state.db).await?;
    let current = db::Read::ForUpdate.apply(payment_mode::Entity::find_by_id(*id)).one(&txn).await?.ok_or_else(|| ApiError::not_found("payment mode"))?;
    let before = mode_to_api(&current);
    if_match.check(&before)?;
    let mut row: payment_mode::ActiveModel = current.into();
    if let Some(n) = &body.0.name {
        let n = parse_name(n, 100).map_err(|e| ApiError::field("name", e.code, e.message))?;
        name_free(&txn, &n, Some(*id)).await?;
        row.name = Set(n);
    }
    if let Some(a) = body.0.active {
        row.active = Set(a);
    }
    row.updated_at = Set(OffsetDateTime::now_utc());
    let api = mode_to_api(&row.update(&txn).await?);
    audit::record(&txn, &user.actor(), Change::new("payment_mode.updated", "payment_mode", api.id).before(&before).after(&api)).await?;
    txn.commit().await?;
    Ok(HttpResponse::Ok().json(api))
}

/// Delete a payment mode no payment uses (else deactivate it).
#[utoipa::path(delete, path = "/api/v1/payment-modes/{id}", operation_id = "deletePaymentMode", tag = "payments", security(("bearer" = [])), params(("id" = i32, Path)),
    responses((status = 204, description = "Deleted"), (status = 409, description = "`in_use`", body = Problem, content_type = "application/problem+json")))]
pub async fn delete_mode(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>) -> ApiResult<HttpResponse> {
    user.require(Module::Settings, Action::Edit)?;
    let txn = db::begin_write(&state.db).await?;
    let current = payment_mode::Entity::find_by_id(*id).one(&txn).await?.ok_or_else(|| ApiError::not_found("payment mode"))?;
    if payment::Entity::find().filter(payment::Column::PaymentModeId.eq(current.id)).one(&txn).await?.is_some() {
        return Err(ApiError::new(ErrorCode::InUse, "Payments use this mode; deactivate it instead."));
    }
    payment_mode::Entity::delete_by_id(current.id).exec(&txn).await?;
    audit::record(&txn, &user.actor(), Change::new("payment_mode.deleted", "payment_mode", current.id).before(&mode_to_api(&current))).await?;
    txn.commit().await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A client's credit: balance per currency and its history.
#[utoipa::path(get, path = "/api/v1/clients/{id}/credits", operation_id = "listClientCredits", tag = "payments", security(("bearer" = [])), params(("id" = i32, Path), SinceParams),
    responses((status = 200, body = ClientCredit), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn list_credits(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>, since: web::Query<SinceParams>) -> ApiResult<HttpResponse> {
    user.view_scope(Module::Payments)?;
    let c = visible_client(&state.db, &user, *id).await?;
    // Entries are never edited; `updated_since` and `created_since` both pick newer entries.
    let changed = since.condition(client_credit::Column::CreatedAt, client_credit::Column::CreatedAt)?;
    Ok(HttpResponse::Ok().json(credit_with_entries(&state.db, c.id, changed).await?))
}

/// Record money received before an invoice exists (an advance): it becomes client credit.
#[utoipa::path(post, path = "/api/v1/clients/{id}/credits", operation_id = "createClientCredit", tag = "payments", security(("bearer" = [])), params(("id" = i32, Path)), request_body = CreditInput,
    responses((status = 201, body = ClientCredit), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn create_credit(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>, body: Json<CreditInput>) -> ApiResult<HttpResponse> {
    user.require(Module::Payments, Action::Create)?;
    let b = body.0;
    let txn = db::begin_write(&state.db).await?;
    let c = visible_client(&txn, &user, *id).await?;
    let mut v = Validator::new();
    let currency = crate::documents::enabled_currency(&txn, &mut v, "currency", &b.currency).await?;
    let minor = currency.and_then(|cur| v.check("amount", money::to_minor(b.amount, cur)));
    if b.amount <= Decimal::ZERO {
        v.push("amount", "not_positive", "the amount must be greater than 0");
    }
    check_mode(&txn, &mut v, b.payment_mode_id).await?;
    let note = check_text(&mut v, "note", &b.note, 2000);
    v.finish().map_err(ApiError::validation)?;
    let saved = client_credit::ActiveModel {
        client_id: Set(c.id),
        currency: Set(currency.map(Currency::code).unwrap_or_default().to_string()),
        amount_minor: Set(minor.unwrap_or_default()),
        date: Set(b.date.unwrap_or_else(today)),
        invoice_id: Set(None),
        payment_id: Set(None),
        payment_mode_id: Set(b.payment_mode_id),
        note: Set(note),
        created_by: Set(Some(user.id())),
        created_at: Set(OffsetDateTime::now_utc()),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let mut change = Change::new("client.credit_received", "client", c.id);
    change.after = Some(json!({"credit_id": saved.id, "amount": b.amount.to_string(), "currency": saved.currency}));
    audit::record(&txn, &user.actor(), change).await?;
    let api = credit_of(&txn, c.id).await?;
    txn.commit().await?;
    Ok(HttpResponse::Created().json(api))
}

/// Pay (part of) an invoice from the client's credit in the invoice's currency.
#[utoipa::path(post, path = "/api/v1/invoices/{id}/apply-credit", operation_id = "applyCreditToInvoice", tag = "payments", security(("bearer" = [])), params(("id" = i32, Path)),
    request_body = ApplyCreditInput,
    responses((status = 200, body = Invoice), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`payment_exceeds_balance`, `insufficient_credit`, `invalid_status_transition` (a draft or cancelled invoice)", body = Problem, content_type = "application/problem+json")))]
pub async fn apply_credit(state: web::Data<AppState>, user: AuthUser, id: web::Path<i32>, body: Json<ApplyCreditInput>) -> ApiResult<HttpResponse> {
    user.require(Module::Payments, Action::Create)?;
    let txn = db::begin_write(&state.db).await?;
    let inv = lock_invoice(&txn, &user, *id).await?;
    // The credit balance is the client's, shared by all its invoices: hold the client row so two
    // applications to different invoices cannot both spend the same credit.
    db::Read::ForUpdate.apply(client::Entity::find_by_id(inv.client_id)).one(&txn).await?;
    let c = currency_of(&inv.currency);
    let available: i64 = credit_of(&txn, inv.client_id)
        .await?
        .balances
        .iter()
        .find(|b| b.currency == inv.currency)
        .map(|b| money::to_minor(b.amount, c).unwrap_or(0))
        .unwrap_or(0);
    let wanted = money::to_minor(body.0.amount, c).map_err(|e| ApiError::field("amount", e.code, e.message))?;
    if wanted > available {
        return Err(ApiError::new(ErrorCode::InsufficientCredit, format!("The client has {} {} of credit.", money::from_minor(available, c), inv.currency)));
    }
    let p = record_in(
        &txn,
        &user.actor(),
        &inv,
        NewPayment {
            amount: body.0.amount,
            date: today(),
            payment_mode_id: None,
            transaction_id: None,
            note: Some("Applied from client credit".into()),
            source: "credit",
            gateway_event_id: None,
        },
    )
    .await?;
    client_credit::ActiveModel {
        client_id: Set(inv.client_id),
        currency: Set(inv.currency.clone()),
        amount_minor: Set(-wanted),
        date: Set(today()),
        invoice_id: Set(Some(inv.id)),
        payment_id: Set(Some(p.id)),
        payment_mode_id: Set(None),
        note: Set(inv.number.clone().map(|n| format!("Applied to {n}"))),
        created_by: Set(Some(user.id())),
        created_at: Set(OffsetDateTime::now_utc()),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let after =
        load_invoice(&txn, &state.settings.public_url, &invoice::Entity::find_by_id(inv.id).one(&txn).await?.ok_or_else(|| ApiError::not_found("invoice"))?)
            .await?;
    txn.commit().await?;
    Ok(HttpResponse::Ok().json(after))
}
