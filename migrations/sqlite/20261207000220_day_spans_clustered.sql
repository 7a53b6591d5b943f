-- report_day_spans kept in its key's order (WITHOUT ROWID): a period's overview reads a month of
-- day rows, and through the key's index each was a lookup of its own in the table — 2.5 times
-- the time of reading them in order (docs/reports.md, "How figures are kept"; README, Reports
-- benchmark). Rows stay small (a person's spans of one day), so the key's order holds them well.
-- PostgreSQL keeps the table as it is.
CREATE TABLE report_day_spans_in_order (
    day       INTEGER NOT NULL,
    label     TEXT    NOT NULL,
    kind      TEXT    NOT NULL,
    team_id   INTEGER NOT NULL,
    agent_id  INTEGER NOT NULL,
    shard     INTEGER NOT NULL,
    count     INTEGER NOT NULL,
    durations TEXT    NOT NULL,
    PRIMARY KEY (day, label, kind, team_id, agent_id, shard)
) STRICT, WITHOUT ROWID;

INSERT INTO report_day_spans_in_order (day, label, kind, team_id, agent_id, shard, count, durations)
SELECT day, label, kind, team_id, agent_id, shard, count, durations FROM report_day_spans;

DROP TABLE report_day_spans;

ALTER TABLE report_day_spans_in_order RENAME TO report_day_spans;
