DROP TABLE zerodb_vector_tombstones;
DROP TABLE zerodb_vectors;
DROP TABLE zerodb_vector_sequences;
DROP TABLE zerodb_vector_namespaces;
