-- Where a message stands in the timeline. WhatsApp redelivers after an outage, out of order, so
-- arrival order (seq) is not the order the customer wrote in. Messages are placed by
-- (sent_at, seq): sent_at is WhatsApp's timestamp of a customer message, and for the team's
-- replies the moment Baton stored them (never before a message already in the conversation).

-- SQLite cannot add a NOT NULL column without a default; every insert sets it.
ALTER TABLE messages ADD COLUMN sent_at INTEGER NOT NULL DEFAULT 0;
-- created_at was WhatsApp's timestamp for customer messages and the creation time for replies.
UPDATE messages SET sent_at = created_at;

-- The timeline, its pages and the list's preview read messages in this order.
CREATE INDEX messages_by_placement ON messages (conversation_id, sent_at, seq);

-- Messages logged in `message_added` events carry it too, so a replayed event places its message.
UPDATE events SET change = json_set(change, '$.message.sent_at', json_extract(change, '$.message.created_at'))
WHERE json_extract(change, '$.kind') = 'message_added';

-- A late message may have moved last_message_at backwards: it is the newest placed message's time.
UPDATE conversations SET last_message_at = (SELECT MAX(m.sent_at) FROM messages m WHERE m.conversation_id = conversations.id)
WHERE EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = conversations.id);
