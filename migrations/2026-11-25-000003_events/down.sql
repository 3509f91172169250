DROP TABLE zerodb_event_consumers;
DROP TABLE zerodb_events;
DROP TABLE zerodb_event_offsets;
