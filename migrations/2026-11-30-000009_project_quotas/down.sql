ALTER TABLE zerodb_projects DROP COLUMN quotas;
