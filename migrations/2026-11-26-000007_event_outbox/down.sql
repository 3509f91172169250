DROP TABLE zerodb_event_outbox;
