-- The event log: one offset sequence per project, assigned in commit order.

-- The last offset handed out per project. Publishers update this row inside their
-- transaction, so its row lock orders concurrent publishers: offsets grow in commit order.
CREATE TABLE zerodb_event_offsets (
    project_id  UUID PRIMARY KEY REFERENCES zerodb_projects (project_id) ON DELETE CASCADE,
    last_offset BIGINT NOT NULL
);

-- No foreign key here: a per-row check would cost every publish; the project's row in
-- zerodb_event_offsets (which has one) is written by every publish, and deleting a project
-- deletes its events explicitly.
CREATE TABLE zerodb_events (
    project_id    UUID NOT NULL,
    event_offset  BIGINT NOT NULL,
    event_id      UUID NOT NULL UNIQUE,
    topic         TEXT NOT NULL,
    event_key     TEXT,
    headers       JSONB NOT NULL DEFAULT '{}',
    event_payload JSONB NOT NULL,
    published_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (project_id, event_offset)
);
CREATE INDEX idx_zerodb_events_project_topic ON zerodb_events (project_id, topic, event_offset);

CREATE TABLE zerodb_event_consumers (
    project_id       UUID NOT NULL REFERENCES zerodb_projects (project_id) ON DELETE CASCADE,
    group_name       TEXT NOT NULL,
    topic            TEXT NOT NULL,
    committed_offset BIGINT NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (project_id, group_name, topic)
);
