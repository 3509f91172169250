ALTER TABLE zerodb_vector_namespaces DROP COLUMN embedding_model;
