-- A send to WhatsApp whose answer Baton has not recorded yet. Just before each POST the outbox row
-- durably gets the send's tag (also sent as `biz_opaque_callback_data`, which Meta echoes in every
-- status webhook of the message); recording the answer clears it. A row still tagged after a crash
-- may have reached WhatsApp: Baton waits for a status carrying the tag, and adopts its wamid,
-- before sending again.
ALTER TABLE outbox ADD COLUMN in_flight TEXT;

CREATE UNIQUE INDEX outbox_in_flight ON outbox (in_flight) WHERE in_flight IS NOT NULL;
