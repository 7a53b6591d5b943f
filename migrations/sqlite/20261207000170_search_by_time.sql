-- Search walks a common word's documents newest first (`store/queries/search.rs`, `walk_newest`),
-- a page at a time from where the last page ended.
CREATE INDEX search_docs_by_time ON search_docs (at, id);
