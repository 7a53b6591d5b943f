-- Conversations belong to a team's queue (or to the general inbox: NULL) and have a priority.
-- `queued_at` is when the conversation last began waiting for an agent: Take next and the queues
-- hand out the most urgent first, then the one that has waited longest.

ALTER TABLE conversations ADD COLUMN team_id INTEGER REFERENCES teams (id);
ALTER TABLE conversations ADD COLUMN priority INTEGER NOT NULL DEFAULT 1 CHECK (priority BETWEEN 0 AND 3);
ALTER TABLE conversations ADD COLUMN queued_at INTEGER;

UPDATE conversations SET queued_at = created_at;

-- A team's waiting work, in the order it is handed out.
CREATE INDEX conversations_queue ON conversations (team_id, priority DESC, queued_at, id)
    WHERE assignee_id IS NULL AND status <> 'resolved';
-- An agent's load: their open and pending conversations.
CREATE INDEX conversations_by_assignee ON conversations (assignee_id, status)
    WHERE assignee_id IS NOT NULL;
