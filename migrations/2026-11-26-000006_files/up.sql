-- File metadata. The bytes live in the object store at projects/<project_id>/files/<file_id>;
-- a file exists for clients only once its row does.
CREATE TABLE zerodb_files (
    file_id        UUID PRIMARY KEY,
    project_id     UUID NOT NULL REFERENCES zerodb_projects (project_id) ON DELETE CASCADE,
    file_key       TEXT COLLATE "C" NOT NULL,
    file_name      TEXT NOT NULL,
    content_type   TEXT NOT NULL,
    size_bytes     BIGINT CHECK (size_bytes >= 0),
    file_metadata  JSONB NOT NULL DEFAULT '{}',
    sha256         TEXT,
    status         TEXT NOT NULL CHECK (status IN ('stored', 'registered')),
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT zerodb_files_project_key UNIQUE (project_id, file_key)
);
