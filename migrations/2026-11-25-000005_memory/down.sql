DROP TABLE zerodb_memory_records;
