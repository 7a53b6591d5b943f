-- Customer satisfaction: each rating request Baton sent on a resolve, with the resolution it
-- rates (when, and who held the conversation then) and the answer once it came. An answer is
-- attributed here, to the resolution, whatever happened to the conversation since.
CREATE TABLE csat_requests (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    conversation_id BIGINT NOT NULL REFERENCES conversations (id),
    message_id      BIGINT NOT NULL UNIQUE REFERENCES messages (id),  -- the request Baton sent
    scale           TEXT NOT NULL CHECK (scale IN ('three', 'five')),
    resolved_at     BIGINT NOT NULL,
    assignee_id     BIGINT REFERENCES users (id),
    score           BIGINT,
    answered_at     BIGINT,
    answer_id       BIGINT REFERENCES messages (id)                    -- the customer's tap
);

CREATE INDEX csat_requests_by_conversation ON csat_requests (conversation_id);
