//! Every shared type with a date or timestamp serialises it as text in *every* build.
//!
//! `time`'s own `Serialize` writes `"2026-12-22"` only when its `serde-human-readable` feature is
//! on — which cargo turns on in the server build (a dependency asks for it) and not in the WASM
//! build, where the same field became `[2026,356]` and the server refused the body. The fix is an
//! explicit `#[serde(with = …)]` on each field; these tests serialise through serde_test's
//! `Compact` wrapper (`is_human_readable() == false`), which makes `time` take its non-text path
//! exactly as the browser build does, so a field without an explicit format fails here whatever
//! the features of this build are.

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};
use serde_test::Configure;

use super::*;

/// Parses `body` as `T`, then serialises it as the WASM build would.
fn as_the_browser_sends<T: Serialize + DeserializeOwned>(body: Value) -> Value {
    let parsed: T = serde_json::from_value(body.clone()).unwrap_or_else(|e| panic!("{} does not parse {body}: {e}", std::any::type_name::<T>()));
    serde_json::to_value(parsed.compact()).expect("serialises")
}

/// Asserts that each of `fields` comes back exactly as sent (text, same format).
fn assert_dates_survive<T: Serialize + DeserializeOwned>(body: Value, fields: &[&str]) {
    let sent = as_the_browser_sends::<T>(body.clone());
    for field in fields {
        assert_eq!(sent[field], body[field], "{}.{field} as the browser serialises it", std::any::type_name::<T>());
        assert!(sent[field].is_string() || sent[field].is_null(), "{}.{field} must be text, got {}", std::any::type_name::<T>(), sent[field]);
    }
}

#[test]
fn the_time_crate_alone_would_write_a_tuple() {
    // Guards the premise of this module: without an explicit format the browser build sends a
    // sequence. If `time` ever changes that, these tests still pass but prove less.
    let d = time::macros::date!(2026 - 12 - 22);
    assert!(serde_json::to_value(d.compact()).expect("serialises").is_array());
}

#[test]
fn proposal_and_sales_order_inputs_send_dates_as_text() {
    assert_dates_survive::<ProposalInput>(json!({"date": "2026-12-01", "open_till": "2026-12-22"}), &["date", "open_till"]);
    // `null` clears the validity (PATCH semantics) and must stay `null`, not become absent.
    assert_dates_survive::<ProposalInput>(json!({"open_till": null}), &["open_till"]);
    assert_dates_survive::<SalesOrderInput>(json!({"date": "2026-12-01"}), &["date"]);
}

#[test]
fn billing_inputs_send_dates_as_text() {
    assert_dates_survive::<InvoiceInput>(json!({"date": "2026-12-01", "due_date": "2026-12-31"}), &["date", "due_date"]);
    assert_dates_survive::<InvoiceInput>(json!({"due_date": null}), &["due_date"]);
    assert_dates_survive::<PaymentInput>(json!({"amount": "10.00", "date": "2026-12-01"}), &["date"]);
    assert_dates_survive::<CreditInput>(json!({"amount": "10.00", "currency": "RON", "date": "2026-12-01"}), &["date"]);
    assert_dates_survive::<RecurringInvoiceInput>(json!({"start_date": "2027-01-01"}), &["start_date"]);
    assert_dates_survive::<ContractInput>(json!({"start_date": "2027-01-01", "end_date": "2027-12-31"}), &["start_date", "end_date"]);
    assert_dates_survive::<ContractInput>(json!({"end_date": null}), &["end_date"]);
    assert_dates_survive::<RenewInput>(json!({"start_date": "2028-01-01", "end_date": "2028-12-31"}), &["start_date", "end_date"]);
}

#[test]
fn task_inputs_send_dates_and_timestamps_as_text() {
    assert_dates_survive::<TaskInput>(
        json!({"title": "Call", "start_date": "2026-12-07", "due_at": "2026-12-08T09:00:00Z", "reminder_at": "2026-12-08T08:00:00Z"}),
        &["start_date", "due_at", "reminder_at"],
    );
    assert_dates_survive::<TaskInput>(json!({"due_at": null, "reminder_at": null}), &["due_at", "reminder_at"]);
}

#[test]
fn funnel_inputs_send_dates_and_timestamps_as_text() {
    assert_dates_survive::<CreateReminder>(json!({"remind_at": "2026-12-02T09:30:00Z", "description": "call back"}), &["remind_at"]);
    assert_dates_survive::<CreateActivity>(json!({"type": "meeting", "summary": "demo", "occurred_at": "2026-12-02T09:30:00Z"}), &["occurred_at"]);
    assert_dates_survive::<ConvertToOpportunity>(
        json!({"estimated_value": "100.00", "currency": "RON", "probability": 40, "expected_close_date": "2027-02-28"}),
        &["expected_close_date"],
    );
    assert_dates_survive::<CreateOpportunity>(
        json!({"estimated_value": "100.00", "currency": "RON", "probability": 40, "expected_close_date": "2027-02-28"}),
        &["expected_close_date"],
    );
    assert_dates_survive::<UpdateOpportunity>(json!({"expected_close_date": "2027-02-28"}), &["expected_close_date"]);
    assert_dates_survive::<CreateApiToken>(json!({"name": "erp", "scopes": ["leads:view"], "expires_at": "2027-01-01T00:00:00Z"}), &["expires_at"]);
}
