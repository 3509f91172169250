//! Completes every operation of the OpenAPI document with what the server's shared layers
//! add to it: the path parameters of its template, and the error responses that the
//! extractors, authentication, rate limiting and the storage can give.
//!
//! Handlers declare their own success responses, query parameters and request bodies; the
//! rest is the same for every operation of a kind, so it is added here in one place instead
//! of being repeated (and forgotten) in 66 annotations.

use utoipa::Modify;
use utoipa::openapi::path::{Operation, Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
use utoipa::openapi::{ContentBuilder, HeaderBuilder, Ref, RefOr, Required, Schema};

pub struct ContractCompletion;

impl Modify for ContractCompletion {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for (path, item) in openapi.paths.paths.iter_mut() {
            let operations =
                [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch];
            for operation in operations.into_iter().flatten() {
                complete(path, operation);
            }
        }
    }
}

/// Why each status can be given, for the response descriptions.
const REASONS: [(&str, &str); 10] = [
    ("400", "Malformed request: invalid JSON, path or query parameter, or cursor"),
    ("401", "Missing, invalid or expired credentials"),
    ("403", "The credential lacks the scope or role, or a quota is exhausted"),
    ("404", "Not found, or not visible to this caller"),
    ("409", "Conflict with the current state (for example database_not_enabled)"),
    ("413", "The request body or a value in it is larger than the limit"),
    ("415", "The request body is not application/json"),
    ("422", "Validation failed; details.fields names each offending field"),
    ("429", "Rate limited; retry after the Retry-After header's seconds"),
    ("503", "A backend is temporarily unavailable"),
];

fn complete(path: &str, operation: &mut Operation) {
    let params = path_params(path);
    let declared: Vec<String> = operation
        .parameters
        .iter()
        .flatten()
        .filter_map(inline)
        .filter(|p| p.parameter_in == ParameterIn::Path)
        .map(|p| p.name.clone())
        .collect();
    for name in &params {
        if !declared.contains(name) {
            operation.parameters.get_or_insert_with(Vec::new).push(RefOr::T(path_parameter(name)));
        }
    }
    let authenticated = operation.security.as_ref().is_some_and(|s| !s.is_empty());
    let has_query = operation
        .parameters
        .iter()
        .flatten()
        .filter_map(inline)
        .any(|p| p.parameter_in == ParameterIn::Query);
    let has_body = operation.request_body.is_some();
    let api = path.starts_with("/api/v1/");
    let data = path.contains("/database");

    let mut statuses = Vec::new();
    // Credentials sent both ways, and malformed paths, queries or bodies, are 400.
    if authenticated || !params.is_empty() || has_query || has_body {
        statuses.push("400");
    }
    if authenticated {
        statuses.extend(["401", "403", "404"]);
    }
    if !params.is_empty() {
        statuses.push("404");
    }
    if data {
        statuses.push("409");
    }
    if has_body {
        statuses.extend(["413", "415", "422"]);
    }
    if has_query || !params.is_empty() {
        statuses.push("422");
    }
    if api {
        statuses.extend(["429", "503"]);
    }
    for status in statuses {
        operation
            .responses
            .responses
            .entry(status.to_owned())
            .or_insert_with(|| RefOr::T(error_response(status)));
    }
    // Every declared error response carries the error envelope, with a description.
    for (status, response) in operation.responses.responses.iter_mut() {
        if let RefOr::T(response) = response
            && response.description.is_empty()
        {
            response.description = describe(status);
        }
    }
}

fn inline(p: &RefOr<Parameter>) -> Option<&Parameter> {
    match p {
        RefOr::T(p) => Some(p),
        RefOr::Ref(_) => None,
    }
}

fn describe(status: &str) -> String {
    REASONS
        .iter()
        .find(|(s, _)| *s == status)
        .map_or_else(|| "Success".to_owned(), |(_, reason)| (*reason).to_owned())
}

fn error_response(status: &str) -> utoipa::openapi::Response {
    let mut builder = ResponseBuilder::new().description(describe(status)).content(
        "application/json",
        ContentBuilder::new().schema(Some(Ref::from_schema_name("ErrorBody"))).build(),
    );
    if status == "429" {
        builder = builder.header(
            "Retry-After",
            HeaderBuilder::new()
                .schema(Some(ObjectBuilder::new().schema_type(Type::Integer).minimum(Some(1))))
                .description(Some("Seconds to wait before retrying"))
                .build(),
        );
    }
    builder.build()
}

/// The `{name}` segments of a path template, in order.
pub fn path_params(path: &str) -> Vec<String> {
    path.split('/')
        .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .map(str::to_owned)
        .collect()
}

/// A path parameter typed by the house's naming: `*_id` are UUIDs, `table_name` an
/// identifier, `group` a consumer group name.
fn path_parameter(name: &str) -> Parameter {
    let schema: Schema = if name.ends_with("_id") {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid)))
            .into()
    } else if name == "table_name" {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some("^[A-Za-z_][A-Za-z0-9_]{0,62}$"))
            .into()
    } else {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some(crate::routes::events::TOPIC_PATTERN))
            .into()
    };
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Path)
        .required(Required::True)
        .schema(Some(schema))
        .build()
}
