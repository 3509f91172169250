-- Users, projects, API keys and dynamic tables: the foundation every data area builds on.

CREATE TABLE users (
    id            UUID PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'admin')),
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE zerodb_projects (
    project_id       UUID PRIMARY KEY,
    user_id          UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    project_name     TEXT NOT NULL,
    description      TEXT,
    is_active        BOOLEAN NOT NULL DEFAULT true,
    database_enabled BOOLEAN NOT NULL DEFAULT false,
    database_config  JSONB NOT NULL DEFAULT '{}',
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT zerodb_projects_user_id_project_name_key UNIQUE (user_id, project_name)
);
CREATE INDEX idx_zerodb_projects_user_created ON zerodb_projects (user_id, created_at, project_id);

-- The seed stored the key itself; ZeroDB stores only its SHA-256 hash.
CREATE TABLE zerodb_api_keys (
    api_key_id   UUID PRIMARY KEY,
    project_id   UUID NOT NULL REFERENCES zerodb_projects (project_id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    key_prefix   TEXT NOT NULL,
    key_hash     BYTEA NOT NULL,
    scopes       TEXT[] NOT NULL DEFAULT '{}',
    is_active    BOOLEAN NOT NULL DEFAULT true,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_used_at TIMESTAMPTZ,
    revoked_at   TIMESTAMPTZ
);
CREATE INDEX idx_zerodb_api_keys_project ON zerodb_api_keys (project_id, created_at, api_key_id);

CREATE TABLE zerodb_tables (
    table_id          UUID PRIMARY KEY,
    project_id        UUID NOT NULL REFERENCES zerodb_projects (project_id) ON DELETE CASCADE,
    table_name        TEXT NOT NULL,
    schema_definition JSONB NOT NULL,
    -- Maintained by every row insert and delete, so limits and statistics cost no scan.
    row_count         BIGINT NOT NULL DEFAULT 0,
    created_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT zerodb_tables_project_id_table_name_key UNIQUE (project_id, table_name)
);
CREATE INDEX idx_zerodb_tables_project_created ON zerodb_tables (project_id, created_at, table_id);

-- Rows of every tenant's tables live here as JSONB: no DDL per tenant.
CREATE TABLE zerodb_table_rows (
    row_seq    BIGINT GENERATED ALWAYS AS IDENTITY,
    row_id     UUID NOT NULL PRIMARY KEY,
    table_id   UUID NOT NULL REFERENCES zerodb_tables (table_id) ON DELETE CASCADE,
    project_id UUID NOT NULL REFERENCES zerodb_projects (project_id) ON DELETE CASCADE,
    data       JSONB NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX idx_zerodb_table_rows_table_seq ON zerodb_table_rows (table_id, row_seq);
CREATE INDEX idx_zerodb_table_rows_project ON zerodb_table_rows (project_id);
CREATE INDEX idx_zerodb_table_rows_data ON zerodb_table_rows USING GIN (data jsonb_path_ops);
