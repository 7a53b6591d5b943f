-- Offline handover: when an agent goes offline or away, each of their teams' conversations they
-- hold return to that team's queue at `due_at` (now + the team's grace), unless they come back
-- first (the row is then deleted). Kept here, not in memory, so that it happens after a restart
-- and on whichever node looks first.

CREATE TABLE handovers (
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    team_id BIGINT NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    due_at  BIGINT NOT NULL,
    reason  TEXT    NOT NULL CHECK (reason IN ('offline', 'away')),
    PRIMARY KEY (user_id, team_id)
);

CREATE INDEX handovers_due ON handovers (due_at);
