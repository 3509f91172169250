DROP FUNCTION zerodb_quarantine_unreadable_values();
DROP TABLE zerodb_quarantined_values;
