-- Automation rules: how often each rule fired (by its stable id in the rules document), and the
-- time rules' clock — since when a conversation is pending, and the longest wait (in hours) whose
-- rules were already looked at in this spell, so each time rule fires once per spell.

-- Counted in the transaction where the rule fired, which for a customer message is the one that
-- stores it: the count is spread over shards so that a rule firing for every message
-- does not make every customer's message wait on one row (by conversation). Read as the sum.
CREATE TABLE rule_fires (
    rule_id BIGINT NOT NULL,
    shard   BIGINT NOT NULL,
    count   BIGINT NOT NULL,
    last_at BIGINT NOT NULL,
    PRIMARY KEY (rule_id, shard)
);

ALTER TABLE conversations ADD COLUMN pending_since BIGINT;
ALTER TABLE conversations ADD COLUMN pending_hours_done BIGINT NOT NULL DEFAULT 0;

-- Conversations pending already: their spell counts from their last change (the best known).
UPDATE conversations SET pending_since = updated_at WHERE status = 'pending' AND snoozed_until IS NULL;
