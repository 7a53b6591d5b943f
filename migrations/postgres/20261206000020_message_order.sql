-- Where a message stands in the timeline. WhatsApp redelivers after an outage, out of order, so
-- arrival order (seq) is not the order the customer wrote in. Messages are placed by
-- (sent_at, seq): sent_at is WhatsApp's timestamp of a customer message, and for the team's
-- replies the moment Baton stored them (never before a message already in the conversation).

ALTER TABLE messages ADD COLUMN sent_at BIGINT;
-- created_at was WhatsApp's timestamp for customer messages and the creation time for replies.
UPDATE messages SET sent_at = created_at;
ALTER TABLE messages ALTER COLUMN sent_at SET NOT NULL;

-- The timeline, its pages and the list's preview read messages in this order.
CREATE INDEX messages_by_placement ON messages (conversation_id, sent_at, seq);

-- Messages logged in `message_added` events carry it too, so a replayed event places its message.
UPDATE events
SET change = jsonb_set(change::jsonb, '{message,sent_at}', change::jsonb -> 'message' -> 'created_at')::text
WHERE change::jsonb ->> 'kind' = 'message_added';

-- A late message may have moved last_message_at backwards: it is the newest placed message's time.
UPDATE conversations SET last_message_at = (SELECT MAX(m.sent_at) FROM messages m WHERE m.conversation_id = conversations.id)
WHERE EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = conversations.id);
