-- Quotas an administrator set for a project, over the server's defaults: a JSON object of
-- optional limits (max_vectors, max_memories, max_events, max_file_bytes, max_tables,
-- max_rows_per_table).
ALTER TABLE zerodb_projects ADD COLUMN quotas JSONB NOT NULL DEFAULT '{}';
