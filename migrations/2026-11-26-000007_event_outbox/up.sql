-- The transactional outbox towards an external event log (events.backend = "kafka").
-- Its entries are the event rows themselves: an event enters the outbox in the statement
-- that commits it. This cursor records how far each project's log has been delivered; the
-- relay moves it only after the external log has acknowledged.
CREATE TABLE zerodb_event_outbox (
    project_id       UUID PRIMARY KEY REFERENCES zerodb_projects (project_id) ON DELETE CASCADE,
    delivered_offset BIGINT NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL DEFAULT now()
);
