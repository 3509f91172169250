-- Values that earlier versions accepted but PostgreSQL cannot read back as the column's type
-- (timestamps such as year 0000, or UTC offsets beyond ±15:59) made every sorted list and
-- comparison of their table fail. They are moved here, out of the rows, so that the tables
-- read again; nothing is thrown away. A quarantined column reads as null.
CREATE TABLE zerodb_quarantined_values (
    quarantine_id  BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project_id     UUID NOT NULL REFERENCES zerodb_projects (project_id) ON DELETE CASCADE,
    table_id       UUID NOT NULL REFERENCES zerodb_tables (table_id) ON DELETE CASCADE,
    row_id         UUID NOT NULL,
    column_name    TEXT NOT NULL,
    original_value JSONB NOT NULL,
    reason         TEXT NOT NULL,
    quarantined_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX idx_zerodb_quarantined_values_table ON zerodb_quarantined_values (table_id);

-- Returns how many values it moved. Run once here; safe to run again at any time.
CREATE FUNCTION zerodb_quarantine_unreadable_values() RETURNS BIGINT
LANGUAGE plpgsql AS $$
DECLARE
    col    RECORD;
    r      RECORD;
    reason TEXT;
    moved  BIGINT := 0;
BEGIN
    FOR col IN
        SELECT t.table_id, t.project_id, c.key AS column_name
        FROM zerodb_tables t, jsonb_each(t.schema_definition -> 'columns') c
        WHERE CASE jsonb_typeof(c.value)
                  WHEN 'string' THEN c.value #>> '{}'
                  WHEN 'object' THEN c.value ->> 'type'
              END = 'timestamp'
    LOOP
        FOR r IN
            SELECT row_id, data -> col.column_name AS v
            FROM zerodb_table_rows
            WHERE table_id = col.table_id AND jsonb_typeof(data -> col.column_name) = 'string'
        LOOP
            reason := NULL;
            BEGIN
                PERFORM (r.v #>> '{}')::timestamptz;
            EXCEPTION WHEN others THEN
                reason := SQLERRM;
            END;
            IF reason IS NOT NULL THEN
                INSERT INTO zerodb_quarantined_values
                    (project_id, table_id, row_id, column_name, original_value, reason)
                VALUES (col.project_id, col.table_id, r.row_id, col.column_name, r.v, reason);
                UPDATE zerodb_table_rows SET data = data - col.column_name, updated_at = now()
                WHERE row_id = r.row_id;
                moved := moved + 1;
            END IF;
        END LOOP;
    END LOOP;
    RETURN moved;
END
$$;

SELECT zerodb_quarantine_unreadable_values();
