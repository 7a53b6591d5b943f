-- The WhatsApp channel: raw webhook deliveries kept before they are answered, what messages carry
-- beyond text, and statuses that arrive before Baton knows their message's WhatsApp id.

ALTER TABLE messages ADD COLUMN content TEXT;    -- JSON of baton_shared::model::MessageContent
ALTER TABLE messages ADD COLUMN reply_to TEXT;   -- the wamid it quotes or answers
ALTER TABLE messages ADD COLUMN error TEXT;      -- JSON of baton_shared::model::DeliveryError

-- Every signed POST to /webhooks/whatsapp, stored before the 200 and processed afterwards.
CREATE TABLE webhook_deliveries (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    received_at  INTEGER NOT NULL,
    body         BLOB    NOT NULL,                  -- the exact bytes Meta signed
    processed_at INTEGER,
    attempts     INTEGER NOT NULL DEFAULT 0,
    last_error   TEXT
) STRICT;

CREATE INDEX webhook_deliveries_pending ON webhook_deliveries (id) WHERE processed_at IS NULL;

-- A status for a wamid no message has yet (the send's answer is still on its way): applied when
-- the message learns its wamid.
CREATE TABLE early_statuses (
    wa_message_id TEXT    NOT NULL,
    status        TEXT    NOT NULL,
    error         TEXT,
    received_at   INTEGER NOT NULL,
    PRIMARY KEY (wa_message_id, status)
) STRICT;
