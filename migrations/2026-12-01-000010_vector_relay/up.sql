-- The outbox towards an external vector engine (vectors.backend = "qdrant"). Its entries
-- are the vector rows and tombstones themselves, which carry the project's change
-- sequence; this cursor records how far each project's changes have been applied. The
-- relay moves it only after the engine has acknowledged.
-- `generation` counts the times the cursor was set back (a rebuild): the relay moves the
-- cursor only if neither it nor the generation changed since it read its batch.
CREATE TABLE zerodb_vector_relay (
    project_id   UUID PRIMARY KEY REFERENCES zerodb_projects (project_id) ON DELETE CASCADE,
    applied_seq  BIGINT NOT NULL,
    generation   BIGINT NOT NULL DEFAULT 0,
    updated_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);
-- Tombstones are read by namespace when a search asks whether its namespace is behind.
CREATE INDEX zerodb_vector_tombstones_namespace_seq
    ON zerodb_vector_tombstones (project_id, namespace, seq);
