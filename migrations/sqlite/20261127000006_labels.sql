-- The team's labels on a conversation, as a JSON array of strings (lowercase, at most 10): read
-- and written whole with the conversation, changed only by a `labeled` event.
ALTER TABLE conversations ADD COLUMN labels TEXT NOT NULL DEFAULT '[]';
