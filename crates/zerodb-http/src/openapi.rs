//! The OpenAPI 3.1 document, generated from the handlers' annotations.

use crate::error::{ErrorBody, ErrorCode, ErrorDetail};
use crate::openapi_contract::ContractCompletion;
use crate::routes::{
    admin, agent_logs, api_keys, auth, database, events, files, health, memory, projects, rlhf,
    tables, vectors,
};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("JWT").build(),
            ),
        );
        components.add_security_scheme(
            "api_key",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("X-API-Key"))),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "ZeroDB API", description = "AI-native database platform: one multi-tenant HTTP API per project."),
    paths(
        health::health, health::ready, health::metrics,
        auth::register, auth::login, auth::me,
        projects::create_project, projects::list_projects, projects::get_project, projects::delete_project,
        api_keys::create_api_key, api_keys::list_api_keys, api_keys::revoke_api_key,
        database::get_database, database::enable_database, database::update_database_config,
        tables::list_tables, tables::create_table, tables::get_table, tables::delete_table,
        tables::insert_rows, tables::query_rows, tables::query_rows_post, tables::update_rows, tables::delete_rows, tables::update_row, tables::delete_row,
        rlhf::log_rlhf, rlhf::log_rlhf_batch, rlhf::list_rlhf, rlhf::export_rlhf,
        agent_logs::log_agent, agent_logs::log_agent_batch, agent_logs::list_agent_logs,
        events::publish_event, events::publish_events, events::list_events, events::stream_events,
        events::commit_consumer, events::get_consumer,
        vectors::upsert_vector, vectors::upsert_vectors, vectors::list_vectors, vectors::get_vector,
        vectors::delete_vector, vectors::delete_vectors, vectors::search_vectors,
        vectors::get_vectors, vectors::list_namespaces, vectors::get_namespace,
        vectors::create_namespace, vectors::create_namespace_v2,
        files::list_files, files::upload_file, files::get_file, files::delete_file,
        files::download_file, files::file_url, files::download_signed,
        memory::store_memory, memory::store_memories, memory::list_memory, memory::search_memory, memory::memory_context,
        memory::get_memory, memory::delete_memory, memory::generate_embeddings,
        admin::admin_list_projects, admin::admin_get_project, admin::admin_get_quotas, admin::admin_set_quotas, admin::admin_stats, admin::admin_usage,
    ),
    components(schemas(ErrorBody, ErrorDetail, ErrorCode)),
    modifiers(&SecuritySchemes, &ContractCompletion),
)]
pub struct ApiDoc;
