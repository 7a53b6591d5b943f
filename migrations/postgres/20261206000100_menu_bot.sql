-- The menu bot's turns: while a conversation has a row here, the bot holds its claim (as the
-- Automation account) and reads the customer's answers to its menu. Whoever takes the claim ends
-- the turn (the row goes in the same transaction); a handoff deletes it with the claim. Each
-- message is read once (last_message_id): a job run again after a crash reads nothing twice.
CREATE TABLE bot_sessions (
    conversation_id BIGINT NOT NULL PRIMARY KEY REFERENCES conversations (id),
    asked           BIGINT NOT NULL,                   -- how many times the menu was sent
    last_message_id BIGINT NOT NULL,                   -- the newest customer message it has read
    transcript      TEXT NOT NULL,                   -- JSON array: the customer's words, in order
    started_at      BIGINT NOT NULL
);
