//! Diesel table definitions, matching `migrations/`.

diesel::table! {
    users (id) {
        id -> Uuid,
        email -> Text,
        password_hash -> Text,
        role -> Text,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    zerodb_projects (project_id) {
        project_id -> Uuid,
        user_id -> Uuid,
        project_name -> Text,
        description -> Nullable<Text>,
        is_active -> Bool,
        database_enabled -> Bool,
        database_config -> Jsonb,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        quotas -> Jsonb,
    }
}

diesel::table! {
    zerodb_api_keys (api_key_id) {
        api_key_id -> Uuid,
        project_id -> Uuid,
        name -> Text,
        key_prefix -> Text,
        key_hash -> Bytea,
        scopes -> Array<Text>,
        is_active -> Bool,
        created_at -> Timestamptz,
        last_used_at -> Nullable<Timestamptz>,
        revoked_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    zerodb_tables (table_id) {
        table_id -> Uuid,
        project_id -> Uuid,
        table_name -> Text,
        schema_definition -> Jsonb,
        row_count -> Int8,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    zerodb_table_rows (row_id) {
        row_seq -> Int8,
        row_id -> Uuid,
        table_id -> Uuid,
        project_id -> Uuid,
        data -> Jsonb,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    zerodb_rlhf_datasets (dataset_id) {
        seq -> Int8,
        dataset_id -> Uuid,
        project_id -> Uuid,
        session_id -> Uuid,
        input_prompt -> Text,
        model_output -> Nullable<Text>,
        chosen_output -> Nullable<Text>,
        rejected_output -> Nullable<Text>,
        reward_score -> Nullable<Float8>,
        rating -> Nullable<Int2>,
        notes -> Nullable<Text>,
        tags -> Array<Text>,
        metadata -> Jsonb,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    zerodb_agent_logs (log_id) {
        seq -> Int8,
        log_id -> Uuid,
        project_id -> Uuid,
        agent_id -> Uuid,
        session_id -> Nullable<Uuid>,
        log_level -> Text,
        log_message -> Text,
        raw_payload -> Nullable<Jsonb>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    zerodb_usage_daily (project_id, day, area) {
        project_id -> Uuid,
        day -> Date,
        area -> Text,
        requests -> Int8,
    }
}

diesel::table! {
    zerodb_events (project_id, event_offset) {
        project_id -> Uuid,
        event_offset -> Int8,
        event_id -> Uuid,
        topic -> Text,
        event_key -> Nullable<Text>,
        headers -> Jsonb,
        event_payload -> Jsonb,
        published_at -> Timestamptz,
    }
}

diesel::table! {
    zerodb_event_offsets (project_id) {
        project_id -> Uuid,
        last_offset -> Int8,
    }
}

diesel::table! {
    zerodb_event_outbox (project_id) {
        project_id -> Uuid,
        delivered_offset -> Int8,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    zerodb_event_consumers (project_id, group_name, topic) {
        project_id -> Uuid,
        group_name -> Text,
        topic -> Text,
        committed_offset -> Int8,
        updated_at -> Timestamptz,
    }
}

diesel::joinable!(zerodb_projects -> users (user_id));
diesel::joinable!(zerodb_rlhf_datasets -> zerodb_projects (project_id));
diesel::joinable!(zerodb_agent_logs -> zerodb_projects (project_id));
diesel::joinable!(zerodb_api_keys -> zerodb_projects (project_id));
diesel::joinable!(zerodb_tables -> zerodb_projects (project_id));
diesel::joinable!(zerodb_table_rows -> zerodb_tables (table_id));

diesel::allow_tables_to_appear_in_same_query!(
    users,
    zerodb_projects,
    zerodb_api_keys,
    zerodb_tables,
    zerodb_table_rows,
    zerodb_rlhf_datasets,
    zerodb_agent_logs,
    zerodb_usage_daily,
    zerodb_events,
    zerodb_event_offsets,
    zerodb_event_outbox,
    zerodb_event_consumers,
);
