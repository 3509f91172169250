-- The outbox towards an external vector engine (vectors.backend = "qdrant"). Its entries
-- are the vector rows and tombstones themselves, which carry the project's change
-- sequence; this cursor records how far each project's changes have been applied. The
-- relay moves it only after the engine has acknowledged.
CREATE TABLE zerodb_vector_relay (
    project_id   UUID PRIMARY KEY REFERENCES zerodb_projects (project_id) ON DELETE CASCADE,
    applied_seq  BIGINT NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);
-- Tombstones are read by namespace when a search asks whether its namespace is behind.
CREATE INDEX zerodb_vector_tombstones_namespace_seq
    ON zerodb_vector_tombstones (project_id, namespace, seq);
