-- When a claim was taken. Its last use is the later of this and its holder's draft saved (every
-- keystroke, and the send that empties it): unused for BATON_CLAIM_IDLE_SECS with no draft waiting, it lapses.
ALTER TABLE claims ADD COLUMN active_at INTEGER NOT NULL DEFAULT 0;
UPDATE claims SET active_at = acquired_at;
