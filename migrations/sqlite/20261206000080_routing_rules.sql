-- The routing rules: one ordered set (with the default team) as a JSON document of
-- baton_shared::routing_rules::RuleSet, and its version, which every saved change moves on (an
-- edit based on an older version is refused). Read by the inbound transaction itself, so a
-- conversation is triaged in the same commit as the message that opened it.

CREATE TABLE routing_rules (
    id         INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    version    INTEGER NOT NULL,
    definition TEXT    NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;
