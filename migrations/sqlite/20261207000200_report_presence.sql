-- Time online and available per person and quarter hour (docs/reports.md, "Time online and
-- available"). Each server adds the time it measured in each quarter hour; a quarter hour holds
-- at most a quarter hour, however many servers measured time in it.
CREATE TABLE report_presence (
    bucket       INTEGER NOT NULL,
    agent_id     INTEGER NOT NULL,
    online_ms    INTEGER NOT NULL,
    available_ms INTEGER NOT NULL,
    PRIMARY KEY (bucket, agent_id)
) STRICT, WITHOUT ROWID;

-- The same per UTC day, kept beside it in the same transaction: a report reads its whole days
-- here and its edges above (docs/reports.md, "How figures are kept").
CREATE TABLE report_presence_days (
    day          INTEGER NOT NULL,
    agent_id     INTEGER NOT NULL,
    online_ms    INTEGER NOT NULL,
    available_ms INTEGER NOT NULL,
    PRIMARY KEY (day, agent_id)
) STRICT, WITHOUT ROWID;
