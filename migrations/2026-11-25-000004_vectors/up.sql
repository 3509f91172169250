-- Vectors: namespaces, the vectors themselves, and a per-project change sequence that
-- in-process indexes follow (live rows and tombstones both carry it).

CREATE TABLE zerodb_vector_namespaces (
    project_id    UUID NOT NULL REFERENCES zerodb_projects (project_id) ON DELETE CASCADE,
    namespace     TEXT NOT NULL,
    dimension     INTEGER CHECK (dimension BETWEEN 1 AND 4096),
    metric        TEXT NOT NULL CHECK (metric IN ('cosine', 'dot', 'euclidean')),
    quantization  TEXT NOT NULL CHECK (quantization IN ('none', 'int8')),
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (project_id, namespace)
);

-- The row lock on a project's counter orders its writers, so sequences grow in commit order.
CREATE TABLE zerodb_vector_sequences (
    project_id  UUID PRIMARY KEY REFERENCES zerodb_projects (project_id) ON DELETE CASCADE,
    last_seq    BIGINT NOT NULL
);

-- Embeddings are packed little-endian float32 (4 bytes per dimension): half the size of a
-- binary float4[] and decoded without per-element headers.
CREATE TABLE zerodb_vectors (
    vector_id        UUID PRIMARY KEY,
    project_id       UUID NOT NULL,
    namespace        TEXT NOT NULL,
    embedding        BYTEA NOT NULL,
    vector_metadata  JSONB NOT NULL DEFAULT '{}',
    document         TEXT,
    source           TEXT,
    seq              BIGINT NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    FOREIGN KEY (project_id, namespace)
        REFERENCES zerodb_vector_namespaces (project_id, namespace) ON DELETE CASCADE
);
-- Float noise does not compress, so never try (EXTERNAL); and keep rows up to a page inline
-- (toast_tuple_target) so that reading a 1536-d vector (6 KiB) is one heap fetch, not four
-- TOAST chunk lookups. Larger vectors still move out of line.
ALTER TABLE zerodb_vectors ALTER COLUMN embedding SET STORAGE EXTERNAL;
ALTER TABLE zerodb_vectors SET (toast_tuple_target = 8160);
CREATE INDEX zerodb_vectors_project_seq ON zerodb_vectors (project_id, seq);
CREATE INDEX zerodb_vectors_namespace_seq ON zerodb_vectors (project_id, namespace, seq);
CREATE INDEX zerodb_vectors_project_id ON zerodb_vectors (project_id, vector_id);

CREATE TABLE zerodb_vector_tombstones (
    project_id  UUID NOT NULL REFERENCES zerodb_projects (project_id) ON DELETE CASCADE,
    seq         BIGINT NOT NULL,
    namespace   TEXT NOT NULL,
    vector_id   UUID NOT NULL,
    PRIMARY KEY (project_id, seq)
);
