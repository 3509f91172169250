DROP TABLE zerodb_files;
