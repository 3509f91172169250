-- Vector ids are any string a client chooses (1..=512 bytes), unique within a project and
-- ordered byte for byte (COLLATE "C"). Stored UUIDs keep their canonical text form.
ALTER TABLE zerodb_vectors DROP CONSTRAINT zerodb_vectors_pkey;
DROP INDEX zerodb_vectors_project_id;
ALTER TABLE zerodb_vectors ALTER COLUMN vector_id TYPE TEXT COLLATE "C" USING vector_id::text;
ALTER TABLE zerodb_vectors ADD PRIMARY KEY (project_id, vector_id);
ALTER TABLE zerodb_vectors
    ADD CONSTRAINT zerodb_vectors_id_length CHECK (octet_length(vector_id) BETWEEN 1 AND 512);
ALTER TABLE zerodb_vector_tombstones
    ALTER COLUMN vector_id TYPE TEXT COLLATE "C" USING vector_id::text;

-- Full-text search over documents (lexical and hybrid search), kept by PostgreSQL itself
-- so that it is exactly as current as the rows.
ALTER TABLE zerodb_vectors ADD COLUMN document_tsv TSVECTOR
    GENERATED ALWAYS AS (to_tsvector('english', coalesce(document, ''))) STORED;
CREATE INDEX zerodb_vectors_document_text ON zerodb_vectors USING GIN (document_tsv);
