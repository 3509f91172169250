-- Only possible while every id is a UUID.
DROP INDEX zerodb_vectors_document_text;
ALTER TABLE zerodb_vectors DROP COLUMN document_tsv;
ALTER TABLE zerodb_vector_tombstones ALTER COLUMN vector_id TYPE UUID USING vector_id::uuid;
ALTER TABLE zerodb_vectors DROP CONSTRAINT zerodb_vectors_id_length;
ALTER TABLE zerodb_vectors DROP CONSTRAINT zerodb_vectors_pkey;
ALTER TABLE zerodb_vectors ALTER COLUMN vector_id TYPE UUID USING vector_id::uuid;
ALTER TABLE zerodb_vectors ADD PRIMARY KEY (vector_id);
CREATE INDEX zerodb_vectors_project_id ON zerodb_vectors (project_id, vector_id);
