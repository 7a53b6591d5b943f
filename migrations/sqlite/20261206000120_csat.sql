-- Customer satisfaction: each rating request Baton sent on a resolve, with the resolution it
-- rates (when, and who held the conversation then) and the answer once it came. An answer is
-- attributed here, to the resolution, whatever happened to the conversation since.
CREATE TABLE csat_requests (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id INTEGER NOT NULL REFERENCES conversations (id),
    message_id      INTEGER NOT NULL UNIQUE REFERENCES messages (id),  -- the request Baton sent
    scale           TEXT NOT NULL CHECK (scale IN ('three', 'five')),
    resolved_at     INTEGER NOT NULL,
    assignee_id     INTEGER REFERENCES users (id),
    score           INTEGER,
    answered_at     INTEGER,
    answer_id       INTEGER REFERENCES messages (id)                    -- the customer's tap
) STRICT;

CREATE INDEX csat_requests_by_conversation ON csat_requests (conversation_id);
