-- Full-text search: generated tsvector columns with GIN indexes. The 'simple' configuration
-- (lower-case words, no stemming, no stop words) matches SQLite's unicode61 tokenizer, so
-- both backends answer the same searches. Text is cut at 100,000 characters per field to
-- stay under PostgreSQL's 1 MB tsvector limit.

ALTER TABLE threads ADD COLUMN search tsvector
  GENERATED ALWAYS AS (to_tsvector('simple', coalesce(name, ''))) STORED;
CREATE INDEX threads_search ON threads USING GIN (search);

ALTER TABLE steps ADD COLUMN search tsvector
  GENERATED ALWAYS AS (
    to_tsvector('simple', left(input, 100000) || ' ' || left(output, 100000))
  ) STORED;
CREATE INDEX steps_search ON steps USING GIN (search);
