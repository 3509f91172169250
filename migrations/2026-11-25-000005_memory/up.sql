-- Agent memory records. Embeddings live in the project's vector store (namespace
-- __memory); full-text search uses the generated tsvector.
CREATE TABLE zerodb_memory_records (
    memory_id        UUID PRIMARY KEY,
    project_id       UUID NOT NULL REFERENCES zerodb_projects (project_id) ON DELETE CASCADE,
    agent_id         UUID NOT NULL,
    session_id       UUID NOT NULL,
    role             TEXT NOT NULL CHECK (role IN ('system', 'user', 'assistant')),
    content          TEXT NOT NULL,
    memory_metadata  JSONB NOT NULL DEFAULT '{}',
    importance       REAL NOT NULL DEFAULT 0.5 CHECK (importance BETWEEN 0 AND 1),
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at       TIMESTAMPTZ,
    content_tsv      TSVECTOR GENERATED ALWAYS AS (to_tsvector('english', content)) STORED
);
CREATE INDEX zerodb_memory_project_time ON zerodb_memory_records (project_id, created_at DESC, memory_id DESC);
CREATE INDEX zerodb_memory_agent_time ON zerodb_memory_records (project_id, agent_id, created_at DESC, memory_id DESC);
CREATE INDEX zerodb_memory_text ON zerodb_memory_records USING GIN (content_tsv);
CREATE INDEX zerodb_memory_expiry ON zerodb_memory_records (expires_at) WHERE expires_at IS NOT NULL;
