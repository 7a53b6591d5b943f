-- Reports read rollups, not every fact of their period (docs/reports.md, "How figures are kept"):
-- a month holds hundreds of thousands of counts per quarter hour and person, and as many spans.
-- Each fact is still written where it was (report_counts, report_spans: the detail, read for a
-- person's overview and for the part of a period that is not whole UTC days) and, in the same
-- transaction, into these.

-- Counts per quarter hour and team, for everyone: what an overview reads (its local days and
-- hours) unless it is one person's. `shard` as in report_counts.
CREATE TABLE report_team_counts (
    label   TEXT    NOT NULL,
    bucket  BIGINT NOT NULL,
    team_id BIGINT NOT NULL,
    metric  TEXT    NOT NULL,
    shard   BIGINT NOT NULL,
    count   BIGINT NOT NULL,
    PRIMARY KEY (label, bucket, team_id, metric, shard)
);

-- Counts per UTC day, team and person: what the tables read for a period's whole days.
CREATE TABLE report_day_counts (
    day      BIGINT NOT NULL,
    label    TEXT    NOT NULL,
    team_id  BIGINT NOT NULL,
    agent_id BIGINT NOT NULL,
    metric   TEXT    NOT NULL,
    shard    BIGINT NOT NULL,
    count    BIGINT NOT NULL,
    PRIMARY KEY (day, label, team_id, agent_id, metric, shard)
);

-- Every span's lengths per UTC day, kind, team and person (0: none) and label ('': all), as text:
-- "wall" or "wall/business" in milliseconds, each followed by a space. Percentiles are exact, so
-- a report needs every length; read this way a month of them is a few thousand rows. A person's
-- row grows with their own spans; those of nobody (resolved unassigned) are spread over 16 rows
-- (`shard`), so no row takes every such span of a busy day — each one rewrites its row's text.
CREATE TABLE report_day_spans (
    day       BIGINT NOT NULL,
    label     TEXT    NOT NULL,
    kind      TEXT    NOT NULL,
    team_id   BIGINT NOT NULL,
    agent_id  BIGINT NOT NULL,
    shard     BIGINT NOT NULL,
    count     BIGINT NOT NULL,
    durations TEXT    NOT NULL,
    PRIMARY KEY (day, label, kind, team_id, agent_id, shard)
);

-- Agent load: how many open (unresolved) conversations each person is assigned, per team, sampled
-- as each quarter hour begins by a background task (a level, not an event: docs/reports.md), and
-- per team for everyone (agent_id 0). A quarter hour sampled twice keeps its first sample: each
-- sample begins with a row of its own (agent 0, team -1, nothing counted) that marks it taken.
CREATE TABLE report_load (
    agent_id      BIGINT NOT NULL,
    bucket        BIGINT NOT NULL,
    team_id       BIGINT NOT NULL,
    conversations BIGINT NOT NULL,
    PRIMARY KEY (agent_id, bucket, team_id)
);

-- One person's overview reads their detail.
CREATE INDEX report_counts_by_agent ON report_counts (agent_id, bucket);

-- What was recorded before, rolled up.
INSERT INTO report_team_counts (label, bucket, team_id, metric, shard, count)
SELECT label, bucket, team_id, metric, 0, SUM(count) FROM report_counts GROUP BY label, bucket, team_id, metric;
INSERT INTO report_day_counts (day, label, team_id, agent_id, metric, shard, count)
SELECT bucket - bucket % 86400000, label, team_id, agent_id, metric, 0, SUM(count) FROM report_counts
GROUP BY bucket - bucket % 86400000, label, team_id, agent_id, metric;
INSERT INTO report_day_spans (day, label, kind, team_id, agent_id, shard, count, durations)
SELECT ended_at - ended_at % 86400000, '', kind, COALESCE(team_id, 0), COALESCE(agent_id, 0), 0, COUNT(*), string_agg(CAST(wall_ms AS TEXT) || COALESCE('/' || CAST(business_ms AS TEXT), '') || ' ', '')
FROM report_spans GROUP BY ended_at - ended_at % 86400000, kind, COALESCE(team_id, 0), COALESCE(agent_id, 0);
INSERT INTO report_day_spans (day, label, kind, team_id, agent_id, shard, count, durations)
SELECT ended_at - ended_at % 86400000, l.value, kind, COALESCE(team_id, 0), COALESCE(agent_id, 0), 0, COUNT(*), string_agg(CAST(wall_ms AS TEXT) || COALESCE('/' || CAST(business_ms AS TEXT), '') || ' ', '')
FROM report_spans AS s, jsonb_array_elements_text(CAST(s.labels AS JSONB)) AS l(value)
GROUP BY ended_at - ended_at % 86400000, l.value, kind, COALESCE(team_id, 0), COALESCE(agent_id, 0);
