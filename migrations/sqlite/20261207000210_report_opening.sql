-- How a conversation's current opening was counted (created or reopened, for which team and
-- person, under which labels), as JSON: a label given during the opening counts it too
-- (docs/reports.md, "Attribution"). NULL while resolved, and for openings from before it was kept.
ALTER TABLE conversations ADD COLUMN report_opening TEXT;
