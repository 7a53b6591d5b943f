-- Automation rules: how often each rule fired (by its stable id in the rules document), and the
-- time rules' clock — since when a conversation is pending, and the longest wait (in hours) whose
-- rules were already looked at in this spell, so each time rule fires once per spell.
CREATE TABLE rule_fires (
    rule_id INTEGER NOT NULL PRIMARY KEY,
    count   INTEGER NOT NULL,
    last_at INTEGER NOT NULL
) STRICT;

ALTER TABLE conversations ADD COLUMN pending_since INTEGER;
ALTER TABLE conversations ADD COLUMN pending_hours_done INTEGER NOT NULL DEFAULT 0;
