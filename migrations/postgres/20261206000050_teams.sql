-- Teams: who is in each, how much each member may hold at once, and how the team's conversations
-- are assigned (the routing engine reads these; `rotation` is where round-robin continues).

CREATE TABLE teams (
    id            BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name          TEXT    NOT NULL,
    name_key      TEXT    NOT NULL UNIQUE,          -- the name in lower case: unique, case aside
    model         TEXT    NOT NULL DEFAULT 'manual'
                          CHECK (model IN ('manual', 'round_robin', 'balanced', 'queue')),
    sticky        BOOLEAN NOT NULL DEFAULT TRUE,
    sticky_days   BIGINT  NOT NULL DEFAULT 30 CHECK (sticky_days >= 0),
    grace_minutes BIGINT  NOT NULL DEFAULT 5 CHECK (grace_minutes >= 0),
    rotation      BIGINT  NOT NULL DEFAULT 0,       -- the user id round-robin gave work to last
    created_at    BIGINT  NOT NULL,
    updated_at    BIGINT  NOT NULL
);

CREATE TABLE team_members (
    team_id          BIGINT NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    user_id          BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    capacity         BIGINT NOT NULL DEFAULT 10 CHECK (capacity >= 0),
    last_assigned_at BIGINT,                        -- balanced's tie-break: longest waiting first
    PRIMARY KEY (team_id, user_id)
);

CREATE INDEX team_members_by_user ON team_members (user_id);
