-- Time online and available per person and quarter hour (docs/reports.md, "Time online and
-- available"). Each server adds the time it measured as a quarter hour ends; a quarter hour holds
-- at most a quarter hour (two servers that both saw someone online do not count them twice).
CREATE TABLE report_presence (
    bucket       BIGINT NOT NULL,
    agent_id     BIGINT NOT NULL,
    online_ms    BIGINT NOT NULL,
    available_ms BIGINT NOT NULL,
    PRIMARY KEY (bucket, agent_id)
);
