DROP TABLE zerodb_table_rows;
DROP TABLE zerodb_tables;
DROP TABLE zerodb_api_keys;
DROP TABLE zerodb_projects;
DROP TABLE users;
