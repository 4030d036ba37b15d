-- Full-text search (FTS5) over thread names and step input/output, kept in sync by
-- triggers. External-content tables: the text is stored once, in threads/steps.

CREATE VIRTUAL TABLE threads_fts USING fts5(
  name, content='threads', content_rowid='pk', tokenize='unicode61 remove_diacritics 2'
);
CREATE VIRTUAL TABLE steps_fts USING fts5(
  input, output, content='steps', content_rowid='pk', tokenize='unicode61 remove_diacritics 2'
);

CREATE TRIGGER threads_fts_insert AFTER INSERT ON threads BEGIN
  INSERT INTO threads_fts(rowid, name) VALUES (new.pk, new.name);
END;
CREATE TRIGGER threads_fts_delete AFTER DELETE ON threads BEGIN
  INSERT INTO threads_fts(threads_fts, rowid, name) VALUES ('delete', old.pk, old.name);
END;
CREATE TRIGGER threads_fts_update AFTER UPDATE OF name ON threads
WHEN old.name IS NOT new.name BEGIN
  INSERT INTO threads_fts(threads_fts, rowid, name) VALUES ('delete', old.pk, old.name);
  INSERT INTO threads_fts(rowid, name) VALUES (new.pk, new.name);
END;

CREATE TRIGGER steps_fts_insert AFTER INSERT ON steps BEGIN
  INSERT INTO steps_fts(rowid, input, output) VALUES (new.pk, new.input, new.output);
END;
CREATE TRIGGER steps_fts_delete AFTER DELETE ON steps BEGIN
  INSERT INTO steps_fts(steps_fts, rowid, input, output)
  VALUES ('delete', old.pk, old.input, old.output);
END;
-- Streaming updates rewrite a step many times; re-index only when its text changed.
CREATE TRIGGER steps_fts_update AFTER UPDATE OF input, output ON steps
WHEN old.input IS NOT new.input OR old.output IS NOT new.output BEGIN
  INSERT INTO steps_fts(steps_fts, rowid, input, output)
  VALUES ('delete', old.pk, old.input, old.output);
  INSERT INTO steps_fts(rowid, input, output) VALUES (new.pk, new.input, new.output);
END;

-- Index what a version-1 database already holds.
INSERT INTO threads_fts(rowid, name) SELECT pk, name FROM threads;
INSERT INTO steps_fts(rowid, input, output) SELECT pk, input, output FROM steps;
