-- RLHF records, agent logs, and per-day usage counters.

CREATE TABLE zerodb_rlhf_datasets (
    seq             BIGINT GENERATED ALWAYS AS IDENTITY,
    dataset_id      UUID PRIMARY KEY,
    project_id      UUID NOT NULL REFERENCES zerodb_projects (project_id) ON DELETE CASCADE,
    session_id      UUID NOT NULL,
    input_prompt    TEXT NOT NULL,
    -- NULL only for preference pairs, which carry chosen_output and rejected_output instead.
    model_output    TEXT,
    chosen_output   TEXT,
    rejected_output TEXT,
    reward_score    DOUBLE PRECISION,
    rating          SMALLINT,
    notes           TEXT,
    tags            TEXT[] NOT NULL DEFAULT '{}',
    metadata        JSONB NOT NULL DEFAULT '{}',
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT zerodb_rlhf_output_present CHECK (
        model_output IS NOT NULL OR (chosen_output IS NOT NULL AND rejected_output IS NOT NULL))
);
CREATE INDEX idx_rlhf_project_seq ON zerodb_rlhf_datasets (project_id, seq DESC);
CREATE INDEX idx_rlhf_project_session ON zerodb_rlhf_datasets (project_id, session_id, seq DESC);
CREATE INDEX idx_rlhf_tags ON zerodb_rlhf_datasets USING GIN (tags);

CREATE TABLE zerodb_agent_logs (
    seq         BIGINT GENERATED ALWAYS AS IDENTITY,
    log_id      UUID PRIMARY KEY,
    project_id  UUID NOT NULL REFERENCES zerodb_projects (project_id) ON DELETE CASCADE,
    agent_id    UUID NOT NULL,
    session_id  UUID,
    log_level   TEXT NOT NULL CHECK (log_level IN ('DEBUG', 'INFO', 'WARN', 'ERROR')),
    log_message TEXT NOT NULL,
    raw_payload JSONB,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX idx_agent_logs_project_seq ON zerodb_agent_logs (project_id, seq DESC);
CREATE INDEX idx_agent_logs_project_agent ON zerodb_agent_logs (project_id, agent_id, seq DESC);

-- Metering: requests per project, area and UTC day. Kept after a project is deleted: it is
-- the operator's record of use, not the project's data.
CREATE TABLE zerodb_usage_daily (
    project_id UUID NOT NULL,
    day        DATE NOT NULL,
    area       TEXT NOT NULL,
    requests   BIGINT NOT NULL,
    PRIMARY KEY (project_id, day, area)
);
CREATE INDEX idx_usage_day ON zerodb_usage_daily (day);
