-- Reports (docs/reports.md): facts recorded as the events are written, in their transaction, so
-- a report reads what happened in its period and never replays the history.

-- What a conversation's figures need to know between events (crate::reports::track::Track, all
-- of it as the event log has it): when its current opening began (NULL while resolved), since
-- when a customer waits for a person's reply (NULL: nobody waits), whether a person has answered
-- in this opening (the next answer is then a next response), and its team, assignee and labels as
-- its events have set them (whom a fact belongs to).
ALTER TABLE conversations ADD COLUMN spell_started_at BIGINT;
ALTER TABLE conversations ADD COLUMN waiting_since BIGINT;
ALTER TABLE conversations ADD COLUMN answered_in_spell BOOLEAN NOT NULL DEFAULT FALSE;
-- Conversations from before reports: their events up to this seq recorded no facts. A background
-- task replays each one's event log through the same fold (`store/queries/reports.rs`), records
-- those facts and sets the track, then clears this. Until then the track is approximated.
ALTER TABLE conversations ADD COLUMN reports_replay_to BIGINT;
UPDATE conversations SET reports_replay_to = last_seq WHERE last_seq > 0;
UPDATE conversations SET spell_started_at = created_at WHERE status <> 'resolved';
ALTER TABLE conversations ADD COLUMN report_team_id BIGINT;
ALTER TABLE conversations ADD COLUMN report_assignee_id BIGINT;
ALTER TABLE conversations ADD COLUMN report_labels TEXT NOT NULL DEFAULT '[]';
UPDATE conversations SET report_team_id = team_id, report_assignee_id = assignee_id, report_labels = labels;
CREATE INDEX conversations_reports_replay ON conversations (id) WHERE reports_replay_to IS NOT NULL;

-- Each measured span, recorded when it ends: a first or next response (attributed to the person
-- who replied) or a resolution (to the assignee then), with the team and labels at its end, its
-- wall-clock length and its length in business hours (NULL: no business hours were set).
CREATE TABLE report_spans (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind            TEXT    NOT NULL CHECK (kind IN ('first_response', 'next_response', 'resolution')),
    conversation_id BIGINT NOT NULL REFERENCES conversations (id),
    started_at      BIGINT NOT NULL,
    ended_at        BIGINT NOT NULL,
    wall_ms         BIGINT NOT NULL,
    business_ms     BIGINT,
    agent_id        BIGINT REFERENCES users (id),
    team_id         BIGINT,                -- no reference: a fact outlives a deleted team
    labels          TEXT    NOT NULL DEFAULT '[]'
);

-- A period's spans read from the index alone, unless they are filtered by label.
CREATE INDEX report_spans_by_end ON report_spans (ended_at, kind, wall_ms, business_ms, team_id, agent_id);

-- Counts per quarter hour (UTC, so every time zone's days are whole) — conversations created,
-- reopened, resolved, messages in and out, service-level clocks met and missed, rating answers —
-- by the team and person of the moment (0: none) and by label ('': every event once; a label:
-- the events of conversations that had it). Several rows per key (`shard`) so concurrent writers do not queue on one row.
CREATE TABLE report_counts (
    metric   TEXT    NOT NULL,  -- crate::reports::track::Metric
    bucket   BIGINT NOT NULL,
    team_id  BIGINT NOT NULL,
    agent_id BIGINT NOT NULL,
    label    TEXT    NOT NULL,
    shard    BIGINT NOT NULL,
    count    BIGINT NOT NULL,
    PRIMARY KEY (bucket, metric, team_id, agent_id, label, shard)
);
