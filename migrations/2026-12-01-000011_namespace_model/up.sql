-- Which embedding model made a namespace's vectors: set by the first writer that knows
-- (memory, or a client naming the model when it creates the namespace) and never changed
-- while the namespace exists, so vectors of two models never mix in one index.
ALTER TABLE zerodb_vector_namespaces
    ADD COLUMN embedding_model TEXT CHECK (char_length(embedding_model) BETWEEN 1 AND 200);
