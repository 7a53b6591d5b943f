-- When a claim's holder last did something with it (took it, typed, replied): a claim idle for
-- BATON_CLAIM_IDLE_SECS with no draft waiting lapses, so nobody holds a conversation they left.
ALTER TABLE claims ADD COLUMN active_at BIGINT NOT NULL DEFAULT 0;
UPDATE claims SET active_at = acquired_at;
