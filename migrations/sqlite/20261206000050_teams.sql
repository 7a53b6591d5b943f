-- Teams: who is in each, how much each member may hold at once, and how the team's conversations
-- are assigned (the routing engine reads these; `rotation` is where round-robin continues).

CREATE TABLE teams (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    name          TEXT    NOT NULL,
    name_key      TEXT    NOT NULL UNIQUE,          -- the name in lower case: unique, case aside
    model         TEXT    NOT NULL DEFAULT 'manual'
                          CHECK (model IN ('manual', 'round_robin', 'balanced', 'queue')),
    sticky        INTEGER NOT NULL DEFAULT 1 CHECK (sticky IN (0, 1)),
    sticky_days   INTEGER NOT NULL DEFAULT 30 CHECK (sticky_days >= 0),
    grace_minutes INTEGER NOT NULL DEFAULT 5 CHECK (grace_minutes >= 0),
    rotation      INTEGER NOT NULL DEFAULT 0,       -- the user id round-robin gave work to last
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
) STRICT;

CREATE TABLE team_members (
    team_id          INTEGER NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    user_id          INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    capacity         INTEGER NOT NULL DEFAULT 10 CHECK (capacity >= 0),
    last_assigned_at INTEGER,                       -- balanced's tie-break: longest waiting first
    PRIMARY KEY (team_id, user_id)
) STRICT;

CREATE INDEX team_members_by_user ON team_members (user_id);
