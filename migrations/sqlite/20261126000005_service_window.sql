-- The 24-hour service window can close before its time: WhatsApp refuses a free-form message
-- with 131047. Until the customer writes again (last_inbound_at > window_closed_at), only templates.
ALTER TABLE contacts ADD COLUMN window_closed_at INTEGER;
