-- Time online and available per person and quarter hour (docs/reports.md, "Time online and
-- available"). Each server adds the time it measured in each quarter hour; a quarter hour holds
-- at most a quarter hour, however many servers measured time in it.
CREATE TABLE report_presence (
    bucket       BIGINT NOT NULL,
    agent_id     BIGINT NOT NULL,
    online_ms    BIGINT NOT NULL,
    available_ms BIGINT NOT NULL,
    PRIMARY KEY (bucket, agent_id)
);

-- The same per UTC day, kept beside it in the same transaction: a report reads its whole days
-- here and its edges above (docs/reports.md, "How figures are kept").
CREATE TABLE report_presence_days (
    day          BIGINT NOT NULL,
    agent_id     BIGINT NOT NULL,
    online_ms    BIGINT NOT NULL,
    available_ms BIGINT NOT NULL,
    PRIMARY KEY (day, agent_id)
);
