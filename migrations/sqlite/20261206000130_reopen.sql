-- Reopening: a customer who writes into a conversation resolved not long ago reopens it, and it
-- goes back to whoever last held it if they may take it (sticky owner first). When it was last
-- resolved, and who held it then.
ALTER TABLE conversations ADD COLUMN resolved_at INTEGER;
ALTER TABLE conversations ADD COLUMN last_assignee_id INTEGER REFERENCES users (id);
