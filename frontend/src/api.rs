//! Every HTTP call of the app: the bearer access token in memory (the refresh token is the
//! server's HttpOnly cookie), one transparent refresh on 401,
//! and problem+json errors decoded into [`ApiFailure`].

use crmconnect_domain::api::{ChangePasswordRequest, LoginRequest, Problem, RefreshRequest, TokenResponse};
use crmconnect_domain::validation::FieldError;
use gloo_net::http::{Request, RequestBuilder, Response};
use leptos::prelude::{Effect, GetUntracked, RwSignal, Set};
use serde::{de::DeserializeOwned, Serialize};

/// Not a secret: that this browser signed in, so a reload tries the refresh cookie.
const SIGNED_IN_KEY: &str = "crm.signed_in";
/// What earlier versions kept in localStorage; removed on sign-in and sign-out.
const LEGACY_KEYS: [&str; 2] = ["crm.access_token", "crm.refresh_token"];

thread_local! {
    /// The access token lives in memory only: script injected into the page cannot find it in
    /// storage, and a reload gets a new one with the HttpOnly refresh cookie.
    static ACCESS_TOKEN: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

/// A failed call: the server's problem document when it sent one (boxed, so the many
/// `Result<_, ApiFailure>` stay small).
#[derive(Debug, Clone, PartialEq)]
pub struct ApiFailure {
    pub status: u16,
    pub problem: Option<Box<Problem>>,
    pub message: String,
}

impl ApiFailure {
    fn network(err: impl std::fmt::Display) -> Self {
        Self { status: 0, problem: None, message: format!("The server could not be reached ({err}).") }
    }

    /// An error found before calling the server, shaped like the server's so it shows by
    /// the field it is about.
    pub fn invalid(field: &str, message: String) -> Self {
        let problem = Problem {
            type_url: "about:blank".into(),
            title: "Check the form".into(),
            status: 422,
            detail: message.clone(),
            code: "validation_failed".into(),
            errors: vec![FieldError { field: field.into(), code: "invalid".into(), message: message.clone() }],
        };
        Self { status: 422, problem: Some(Box::new(problem)), message }
    }

    /// One readable sentence: the problem's detail, else a generic message.
    pub fn summary(&self) -> String {
        if self.stale() {
            return "This record was changed by someone else since you opened it — reload to see the changes.".into();
        }
        match &self.problem {
            Some(p) => format!("{}: {}", p.title, p.detail),
            None => self.message.clone(),
        }
    }

    /// A save refused because the record changed since it was read (412, `If-Match`).
    pub fn stale(&self) -> bool {
        self.status == 412
    }

    /// The error for one form field, if the server named it (`tiers[1].from`, as the body's
    /// parser names it, is `tiers.1.from`, as the rules' checks do).
    pub fn field(&self, name: &str) -> Option<String> {
        self.problem.as_ref()?.errors.iter().find(|e| e.field.replace('[', ".").replace(']', "") == name).map(|e| e.message.clone())
    }
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

fn access_token() -> Option<String> {
    ACCESS_TOKEN.with(|t| t.borrow().clone())
}

pub fn has_session() -> bool {
    storage().and_then(|s| s.get_item(SIGNED_IN_KEY).ok().flatten()).is_some()
}

/// Keeps a new session: the access token in memory; the refresh token is the server's
/// HttpOnly cookie, never seen by this code.
fn store(tokens: &TokenResponse) {
    ACCESS_TOKEN.with(|t| *t.borrow_mut() = Some(tokens.access_token.clone()));
    if let Some(s) = storage() {
        let _ = s.set_item(SIGNED_IN_KEY, "1");
        for key in LEGACY_KEYS {
            let _ = s.remove_item(key);
        }
    }
}

pub fn clear_session() {
    ACCESS_TOKEN.with(|t| *t.borrow_mut() = None);
    if let Some(s) = storage() {
        let _ = s.remove_item(SIGNED_IN_KEY);
        for key in LEGACY_KEYS {
            let _ = s.remove_item(key);
        }
    }
}

async fn failure(res: Response) -> ApiFailure {
    let status = res.status();
    let problem = res.json::<Problem>().await.ok().map(Box::new);
    ApiFailure { status, problem, message: format!("The server answered {status}.") }
}

/// The body of a successful answer, else the failure. Not generic: one copy of the async
/// code serves every call, and only [`parse`] is compiled per result type (bundle size).
async fn body_text(res: Response) -> Result<String, ApiFailure> {
    if res.ok() {
        res.text().await.map_err(ApiFailure::network)
    } else {
        Err(failure(res).await)
    }
}

fn parse<T: DeserializeOwned>(text: &str) -> Result<T, ApiFailure> {
    serde_json::from_str(text).map_err(ApiFailure::network)
}

#[derive(Clone, Copy)]
enum Method {
    Get,
    Post,
    Patch,
    Put,
    Delete,
}

impl Method {
    fn request(self, path: &str) -> RequestBuilder {
        match self {
            Method::Get => Request::get(path),
            Method::Post => Request::post(path),
            Method::Patch => Request::patch(path),
            Method::Put => Request::put(path),
            Method::Delete => Request::delete(path),
        }
    }
}

/// An authenticated JSON call; the answer's body.
async fn call(method: Method, path: &str, body: Option<serde_json::Value>) -> Result<String, ApiFailure> {
    body_text(send(method, path, body.as_ref().map(Body::Json), None).await?).await
}

/// [`call`] on a record being edited: a write sends its [`Version`] as `If-Match`, and the
/// answer's `ETag` becomes the version. (Apart from `call`: one more argument there would grow
/// every generic caller.)
async fn call_versioned(method: Method, path: &str, body: Option<serde_json::Value>, version: Version) -> Result<String, ApiFailure> {
    let if_match = version.get_untracked().filter(|_| body.is_some());
    let res = send(method, path, body.as_ref().map(Body::Json), if_match.as_deref()).await?;
    let etag = res.headers().get("etag");
    let text = body_text(res).await?;
    version.try_set(etag);
    Ok(text)
}

fn to_json<B: Serialize>(body: &B) -> Result<serde_json::Value, ApiFailure> {
    serde_json::to_value(body).map_err(ApiFailure::network)
}

pub async fn login(email: String, password: String) -> Result<(), ApiFailure> {
    let req = Request::post("/api/v1/auth/login").json(&LoginRequest { email, password }).map_err(ApiFailure::network)?;
    let tokens: TokenResponse = parse(&body_text(req.send().await.map_err(ApiFailure::network)?).await?)?;
    store(&tokens);
    Ok(())
}

/// Changes the signed-in user's password. The server revokes every session and API token of
/// the account and answers with a new session: its tokens are kept exactly as a login's.
pub async fn change_password(current_password: String, new_password: String) -> Result<(), ApiFailure> {
    let tokens: TokenResponse = post("/api/v1/me/password", &ChangePasswordRequest { current_password, new_password }).await?;
    store(&tokens);
    Ok(())
}

/// Revokes the session's refresh token (the cookie) on the server and forgets the session.
pub async fn logout() {
    if let Ok(req) = Request::post("/api/v1/auth/logout").json(&RefreshRequest::default()) {
        let _ = req.send().await;
    }
    clear_session();
}

type Renewal = futures_util::future::Shared<futures_util::future::LocalBoxFuture<'static, bool>>;

thread_local! {
    /// The refresh in flight, if any. A refresh token works once: calls that fail together
    /// (every call of a freshly loaded page has no access token yet) share one refresh rather
    /// than each presenting the same cookie, which the server would take for a stolen token.
    static RENEWAL: std::cell::RefCell<Option<Renewal>> = const { std::cell::RefCell::new(None) };
}

/// A new access token from the refresh cookie (sent by the browser to the auth endpoints
/// only); concurrent callers wait for the same one.
async fn refresh() -> bool {
    use futures_util::FutureExt;
    let renewal = RENEWAL.with(|r| r.borrow_mut().get_or_insert_with(|| renew().boxed_local().shared()).clone());
    let ok = renewal.clone().await;
    // Forget this refresh once done — not a newer one another caller may have started since.
    RENEWAL.with(|r| {
        let mut slot = r.borrow_mut();
        if slot.as_ref().is_some_and(|current| current.ptr_eq(&renewal)) {
            *slot = None;
        }
    });
    ok
}

async fn renew() -> bool {
    if !has_session() {
        return false;
    }
    let Ok(req) = Request::post("/api/v1/auth/refresh").json(&RefreshRequest::default()) else { return false };
    match req.send().await {
        Ok(res) if res.ok() => match res.json::<TokenResponse>().await {
            Ok(tokens) => {
                store(&tokens);
                true
            }
            Err(_) => false,
        },
        _ => false,
    }
}

/// Sends an authenticated request; on 401 refreshes once and retries. When the session is
/// gone for good the tokens are cleared and the browser goes to the login page.
enum Body<'a> {
    Json(&'a serde_json::Value),
    /// multipart/form-data (uploads); the browser sets the boundary.
    Form(&'a web_sys::FormData),
}

async fn send(method: Method, path: &str, body: Option<Body<'_>>, if_match: Option<&str>) -> Result<Response, ApiFailure> {
    for attempt in 0..2 {
        let mut req = method.request(path);
        if let Some(token) = access_token() {
            req = req.header("Authorization", &format!("Bearer {token}"));
        }
        if let Some(etag) = if_match {
            req = req.header("If-Match", etag);
        }
        let res = match &body {
            Some(Body::Json(b)) => req.json(b).map_err(ApiFailure::network)?.send().await,
            Some(Body::Form(f)) => req.body(wasm_bindgen::JsValue::from((*f).clone())).map_err(ApiFailure::network)?.send().await,
            None => req.send().await,
        }
        .map_err(ApiFailure::network)?;
        if res.status() == 401 && attempt == 0 && refresh().await {
            continue;
        }
        if res.status() == 401 {
            clear_session();
            go_to_login();
        }
        return Ok(res);
    }
    unreachable!("the loop returns on its second pass")
}

pub fn go_to_login() {
    if let Some(window) = web_sys::window() {
        let loc = window.location();
        let here = format!("{}{}", loc.pathname().unwrap_or_default(), loc.search().unwrap_or_default());
        if !here.starts_with("/login") {
            let _ = loc.set_href(&format!("/login?next={}", url_encode(&here)));
        }
    }
}

/// Percent-encodes text for a URL query or path segment list (`/` is kept).
pub fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

pub async fn get<T: DeserializeOwned>(path: &str) -> Result<T, ApiFailure> {
    parse(&call(Method::Get, path, None).await?)
}

pub async fn post<B: Serialize, T: DeserializeOwned>(path: &str, body: &B) -> Result<T, ApiFailure> {
    parse(&call(Method::Post, path, Some(to_json(body)?)).await?)
}

pub async fn patch<B: Serialize, T: DeserializeOwned>(path: &str, body: &B) -> Result<T, ApiFailure> {
    parse(&call(Method::Patch, path, Some(to_json(body)?)).await?)
}

pub async fn put<B: Serialize, T: DeserializeOwned>(path: &str, body: &B) -> Result<T, ApiFailure> {
    parse(&call(Method::Put, path, Some(to_json(body)?)).await?)
}

/// The version of a record open for editing: the `ETag` of its last answer (GET or PATCH),
/// sent back as `If-Match` so a save never overwrites someone else's change unseen.
pub type Version = RwSignal<Option<String>>;

/// `GET` of one record, keeping its version.
pub async fn get_versioned<T: DeserializeOwned>(path: &str, version: Version) -> Result<T, ApiFailure> {
    parse(&call_versioned(Method::Get, path, None, version).await?)
}

/// `PATCH` with `If-Match: version`: refused with 412 ([`ApiFailure::stale`]) when the record
/// changed since; on success `version` becomes the answer's.
pub async fn patch_versioned<B: Serialize, T: DeserializeOwned>(path: &str, body: &B, version: Version) -> Result<T, ApiFailure> {
    parse(&call_versioned(Method::Patch, path, Some(to_json(body)?), version).await?)
}

/// Uploads one file as the multipart field `file`.
pub async fn upload<T: DeserializeOwned>(path: &str, file: &web_sys::File) -> Result<T, ApiFailure> {
    let form = web_sys::FormData::new().map_err(|_| ApiFailure::network("form data"))?;
    form.append_with_blob_and_filename("file", file, &file.name()).map_err(|_| ApiFailure::network("form data"))?;
    parse(&body_text(send(Method::Post, path, Some(Body::Form(&form)), None).await?).await?)
}

/// `DELETE`; the answer (204) carries no body.
pub async fn delete(path: &str) -> Result<(), ApiFailure> {
    let res = send(Method::Delete, path, None, None).await?;
    if res.ok() {
        Ok(())
    } else {
        Err(failure(res).await)
    }
}

/// A call of the public client portal: no token is sent, a 401 never redirects.
async fn public_call(method: Method, path: &str, body: Option<serde_json::Value>) -> Result<String, ApiFailure> {
    let req = method.request(path);
    let res = match body {
        Some(b) => req.json(&b).map_err(ApiFailure::network)?.send().await,
        None => req.send().await,
    };
    body_text(res.map_err(ApiFailure::network)?).await
}

pub async fn public_post<B: Serialize, T: DeserializeOwned>(path: &str, body: &B) -> Result<T, ApiFailure> {
    parse(&public_call(Method::Post, path, Some(to_json(body)?)).await?)
}

/// Fetches an authenticated file into a blob URL.
async fn blob_url(path: &str, mime: &str) -> Result<String, ApiFailure> {
    let res = send(Method::Get, path, None, None).await?;
    if !res.ok() {
        return Err(failure(res).await);
    }
    let bytes = res.binary().await.map_err(ApiFailure::network)?;
    let array = js_sys::Uint8Array::from(bytes.as_slice());
    let parts = js_sys::Array::of1(&array);
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(mime);
    let blob = web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &options).map_err(|_| ApiFailure::network("blob"))?;
    web_sys::Url::create_object_url_with_blob(&blob).map_err(|_| ApiFailure::network("object URL"))
}

/// Fetches an authenticated file (a PDF) and opens it in a new tab; a failure lands in `error`.
pub fn open_file(path: String, error: RwSignal<Option<ApiFailure>>) {
    leptos::task::spawn_local(async move {
        match blob_url(&path, "application/pdf").await {
            Ok(url) => {
                if let Some(w) = web_sys::window() {
                    let _ = w.open_with_url_and_target(&url, "_blank");
                }
            }
            Err(e) => error.set(Some(e)),
        }
    });
}

/// Fetches an authenticated file and saves it under `file_name` (CSV exports, attachments).
pub async fn download(path: &str, file_name: &str) -> Result<(), ApiFailure> {
    use wasm_bindgen::JsCast;
    let url = blob_url(path, "application/octet-stream").await?;
    let link =
        web_sys::window().and_then(|w| w.document()).and_then(|d| d.create_element("a").ok()).and_then(|e| e.dyn_into::<web_sys::HtmlAnchorElement>().ok());
    if let Some(a) = link {
        a.set_href(&url);
        a.set_download(file_name);
        a.click();
    }
    Ok(())
}

/// Data of a page, loaded from the API: `None` until the first answer.
pub type Loaded<T> = RwSignal<Option<Result<T, ApiFailure>>>;

/// Loads `GET path()` and loads it again whenever a signal read by `path` changes (filters,
/// a reload counter). An older answer never overwrites a newer one; the previous data stays
/// shown while reloading.
///
/// One small copy per result type instead of a `LocalResource` per call site keeps the WASM
/// bundle within budget.
pub fn load<T>(path: impl Fn() -> String + 'static) -> Loaded<T>
where
    T: DeserializeOwned + Send + Sync + 'static,
{
    load_with(Box::new(path), false, None)
}

/// [`load`] of one record to edit, keeping its [`Version`].
pub fn load_versioned<T>(path: impl Fn() -> String + 'static, version: Version) -> Loaded<T>
where
    T: DeserializeOwned + Send + Sync + 'static,
{
    load_with(Box::new(path), false, Some(version))
}

/// [`load`] for the public client portal (no token).
pub fn load_public<T>(path: impl Fn() -> String + 'static) -> Loaded<T>
where
    T: DeserializeOwned + Send + Sync + 'static,
{
    load_with(Box::new(path), true, None)
}

fn load_with<T>(path: Box<dyn Fn() -> String>, public: bool, version: Option<Version>) -> Loaded<T>
where
    T: DeserializeOwned + Send + Sync + 'static,
{
    let data: Loaded<T> = RwSignal::new(None);
    watch(
        path,
        public,
        version,
        std::rc::Rc::new(move |text: Result<String, ApiFailure>| {
            data.try_set(Some(text.and_then(|t| parse::<T>(&t))));
        }),
    );
    data
}

/// The part of [`load_with`] that is the same for every result type, compiled once: requests
/// `path()` again whenever it changes and hands the newest answer to `deliver`, which only
/// parses it (a copy of the request's state machine per type cost ~80 KB of WASM).
fn watch(path: Box<dyn Fn() -> String>, public: bool, version: Option<Version>, deliver: std::rc::Rc<dyn Fn(Result<String, ApiFailure>)>) {
    let latest = std::rc::Rc::new(std::cell::Cell::new(0u32));
    Effect::new(move |_| {
        let p = path();
        let ticket = latest.get().wrapping_add(1);
        latest.set(ticket);
        let (latest, deliver) = (latest.clone(), deliver.clone());
        leptos::task::spawn_local(async move {
            let text = match version {
                Some(v) => call_versioned(Method::Get, &p, None, v).await,
                None if public => public_call(Method::Get, &p, None).await,
                None => call(Method::Get, &p, None).await,
            };
            if latest.get() == ticket {
                deliver(text);
            }
        });
    });
}
