DROP TABLE zerodb_usage_daily;
DROP TABLE zerodb_agent_logs;
DROP TABLE zerodb_rlhf_datasets;
