//! Resources: the project's tables and vector namespaces, each with its schema, so a client
//! can show them or hand them to the model without a tool call.

use crate::outcome::ToolError;
use crate::tools::segment;
use rmcp::model::{Resource, ResourceContents};
use serde_json::Value;
use uuid::Uuid;
use zerodb_client::{Client, HttpMethod};

const SCHEME: &str = "zerodb://projects/";

/// What a resource URI names.
#[derive(Debug, PartialEq, Eq)]
pub enum Named {
    Table { project: Uuid, table: String },
    Namespace { project: Uuid, namespace: String },
}

impl Named {
    pub fn parse(uri: &str) -> Option<Self> {
        let rest = uri.strip_prefix(SCHEME)?;
        let (project, rest) = rest.split_once('/')?;
        let project = Uuid::try_parse(project).ok()?;
        let (kind, name) = rest.split_once('/')?;
        if name.is_empty() || name.contains('/') {
            return None;
        }
        match kind {
            "tables" => Some(Named::Table { project, table: name.to_owned() }),
            "vectors" => Some(Named::Namespace { project, namespace: name.to_owned() }),
            _ => None,
        }
    }
}

fn items(value: Value) -> Vec<Value> {
    match value {
        Value::Array(items) => items,
        mut other => match other["items"].take() {
            Value::Array(items) => items,
            _ => Vec::new(),
        },
    }
}

async fn get(client: &Client, path: &str) -> Result<Value, ToolError> {
    Ok(client.call_json(HttpMethod::GET, path, &[("limit", "1000".into())], None).await?)
}

/// The tables and namespaces of `projects`; a project whose database is not enabled (or
/// that the credential may not read) contributes nothing.
pub async fn list(client: &Client, projects: &[Uuid]) -> Vec<Resource> {
    let mut resources = Vec::new();
    for project in projects {
        let base = format!("/api/v1/projects/{project}/database");
        if let Ok(tables) = get(client, &format!("{base}/tables")).await {
            for table in items(tables) {
                let Some(name) = table["table_name"].as_str() else { continue };
                resources.push(
                    Resource::new(
                        format!("{SCHEME}{project}/tables/{name}"),
                        format!("table {name}"),
                    )
                    .with_title(format!("Table {name}"))
                    .with_description(format!(
                        "Schema of table `{name}` ({} rows) in project {project}",
                        table["row_count"]
                    ))
                    .with_mime_type("application/json"),
                );
            }
        }
        if let Ok(namespaces) = get(client, &format!("{base}/vector-namespaces")).await {
            for namespace in items(namespaces) {
                let Some(name) = namespace["namespace"].as_str() else { continue };
                resources.push(
                    Resource::new(format!("{SCHEME}{project}/vectors/{name}"), format!("vectors {name}"))
                        .with_title(format!("Vector namespace {name}"))
                        .with_description(format!(
                            "Vector namespace `{name}`: dimension {}, metric {}, {} vectors, in project {project}",
                            namespace["dimension"], namespace["metric"], namespace["vector_count"]
                        ))
                        .with_mime_type("application/json"),
                );
            }
        }
    }
    resources
}

/// A resource's content: the table's description or the namespace's settings, as JSON.
pub async fn read(client: &Client, uri: &str) -> Result<Option<ResourceContents>, ToolError> {
    let Some(named) = Named::parse(uri) else { return Ok(None) };
    let value = match named {
        Named::Table { project, table } => {
            let path = format!("/api/v1/projects/{project}/database/tables/{}", segment(&table));
            client.call_json(HttpMethod::GET, &path, &[], None).await?
        }
        Named::Namespace { project, namespace } => {
            let path = format!("/api/v1/projects/{project}/database/vector-namespaces");
            let all = get(client, &path).await?;
            match items(all).into_iter().find(|n| n["namespace"] == namespace.as_str()) {
                Some(found) => found,
                None => return Ok(None),
            }
        }
    };
    let text = serde_json::to_string_pretty(&value).map_err(|_| ToolError::Unexpected)?;
    Ok(Some(ResourceContents::text(text, uri).with_mime_type("application/json")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_name_a_table_or_a_namespace_and_nothing_else() {
        let p = Uuid::nil();
        assert_eq!(
            Named::parse(&format!("zerodb://projects/{p}/tables/orders")),
            Some(Named::Table { project: p, table: "orders".into() })
        );
        assert_eq!(
            Named::parse(&format!("zerodb://projects/{p}/vectors/docs")),
            Some(Named::Namespace { project: p, namespace: "docs".into() })
        );
        assert_eq!(Named::parse(&format!("zerodb://projects/{p}/tables/a/../b")), None);
        assert_eq!(Named::parse("zerodb://projects/not-a-uuid/tables/t"), None);
        assert_eq!(Named::parse(&format!("zerodb://projects/{p}/files/x")), None);
    }
}
