//! Unknown query parameters are refused with `422 unknown_parameter` naming them, so a typo
//! (`?updatedsince=…`) never silently turns a filtered list into "everything". What an operation
//! accepts is what the OpenAPI document lists for it — one source for the check and the docs.
//! Likewise an `If-Match` sent to an operation that cannot check it (it does not declare the
//! header) is refused rather than ignored: ignoring it would overwrite what the caller meant to
//! protect.

use std::collections::{BTreeSet, HashMap, HashSet};

use actix_web::dev::ServiceRequest;
use crmconnect_domain::validation::FieldError;
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::OpenApi;

use crate::problem::{ApiError, ErrorCode};

/// The operation extension that says a list also filters by custom fields, `cf.<key>=<value>`.
pub const CUSTOM_FIELD_FILTERS: &str = "x-custom-field-filters";
const CUSTOM_FIELD_PREFIX: &str = "cf.";

struct Accepted {
    names: HashSet<String>,
    custom_fields: bool,
    if_match: bool,
}

/// The accepted query parameters of every documented operation, by method and path pattern.
pub struct QueryRules {
    by_route: HashMap<(String, String), Accepted>,
}

impl QueryRules {
    pub fn from_spec(spec: &OpenApi) -> Self {
        let mut by_route = HashMap::new();
        for (path, item) in &spec.paths.paths {
            let ops = [("GET", &item.get), ("PUT", &item.put), ("POST", &item.post), ("PATCH", &item.patch), ("DELETE", &item.delete)];
            for (method, op) in ops {
                if let Some(op) = op {
                    by_route.insert((method.to_string(), path.clone()), accepted(op));
                }
            }
        }
        QueryRules { by_route }
    }

    /// `Err` naming every query parameter the matched operation does not accept. Requests to
    /// routes outside the document pass (they have their own 404/405).
    pub fn check(&self, req: &ServiceRequest) -> Result<(), ApiError> {
        let if_match = req.headers().contains_key(actix_web::http::header::IF_MATCH);
        if req.query_string().is_empty() && !if_match {
            return Ok(());
        }
        let Some(pattern) = req.match_pattern() else { return Ok(()) };
        let Some(accepted) = self.by_route.get(&(req.method().as_str().to_string(), pattern)) else { return Ok(()) };
        if if_match && !accepted.if_match {
            return Err(ApiError::new(
                ErrorCode::BadRequest,
                "This operation cannot check `If-Match`; send it without the header (the operations that take it document it).",
            ));
        }
        if req.query_string().is_empty() {
            return Ok(());
        }
        // A query that does not even parse is left to the handler's own 400.
        let Ok(pairs) = serde_urlencoded::from_str::<Vec<(String, String)>>(req.query_string()) else { return Ok(()) };
        let unknown: BTreeSet<String> = pairs.into_iter().map(|(name, _)| name).filter(|name| !accepted.accepts(name)).collect();
        if unknown.is_empty() {
            return Ok(());
        }
        let mut known: Vec<&str> = accepted.names.iter().map(String::as_str).collect();
        known.sort_unstable();
        if accepted.custom_fields {
            known.push("cf.<key>");
        }
        let list = |names: &mut dyn Iterator<Item = &str>| names.map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ");
        let detail = if known.is_empty() {
            format!("This endpoint takes no query parameters; unknown: {}.", list(&mut unknown.iter().map(String::as_str)))
        } else {
            format!("Unknown query parameter(s): {}. This endpoint accepts {}.", list(&mut unknown.iter().map(String::as_str)), list(&mut known.into_iter()))
        };
        let mut err = ApiError::new(ErrorCode::UnknownParameter, detail);
        err.errors = unknown
            .into_iter()
            .map(|name| FieldError { message: format!("`{name}` is not a parameter of this endpoint"), field: name, code: "unknown_parameter".into() })
            .collect();
        Err(err)
    }
}

impl Accepted {
    fn accepts(&self, name: &str) -> bool {
        self.names.contains(name) || (self.custom_fields && name.starts_with(CUSTOM_FIELD_PREFIX))
    }
}

fn accepted(op: &Operation) -> Accepted {
    let names = op.parameters.iter().flatten().filter(|p| p.parameter_in == ParameterIn::Query).map(|p| p.name.clone()).collect();
    let custom_fields = op.extensions.as_ref().is_some_and(|e| e.contains_key(CUSTOM_FIELD_FILTERS));
    let if_match = op.parameters.iter().flatten().any(|p| p.parameter_in == ParameterIn::Header && p.name == "If-Match");
    Accepted { names, custom_fields, if_match }
}
