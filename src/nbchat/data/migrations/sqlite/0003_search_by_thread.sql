-- Search finds threads, not steps: the step index now says which thread each hit belongs
-- to, so search never reads step rows.
--
-- 0002 indexed steps under their own rowid (steps.pk). A common word matches thousands of
-- steps, and each hit cost a random read of its (wide) step row just to learn thread_id:
-- at 1,000,000 steps that was most of a one-word search. Now steps_fts is a contentless
-- FTS5 table (it stores no text; steps keeps it) whose rowid is
--
--     (threads.pk << 32) | (steps.pk & 0xFFFFFFFF)
--
-- so `rowid >> 32` is the thread's pk, straight from the full-text index. Two steps of one
-- thread would only share a key if their pks differed by a multiple of 2^32; threads.pk
-- must stay below 2^31 (rowids are signed 64-bit). Thread names keep their index
-- (threads_fts, rowid = threads.pk).
--
-- Contentless rows are removed with the 'delete' command and the exact indexed text, which
-- the triggers pass from OLD. The key needs the thread's pk, and a step deleted by the
-- ON DELETE CASCADE from threads can no longer look its thread up (the thread row is
-- already gone when the step's trigger runs), so deleting a thread first deletes its steps
-- itself (threads_delete_steps, BEFORE DELETE).

DROP TRIGGER steps_fts_insert;
DROP TRIGGER steps_fts_delete;
DROP TRIGGER steps_fts_update;
DROP TABLE steps_fts;

CREATE VIRTUAL TABLE steps_fts USING fts5(
  input, output, content='', tokenize='unicode61 remove_diacritics 2'
);

CREATE TRIGGER steps_fts_insert AFTER INSERT ON steps BEGIN
  INSERT INTO steps_fts(rowid, input, output) VALUES (
    ((SELECT pk FROM threads WHERE id = new.thread_id) << 32) | (new.pk & 4294967295),
    new.input, new.output);
END;
CREATE TRIGGER steps_fts_delete AFTER DELETE ON steps BEGIN
  INSERT INTO steps_fts(steps_fts, rowid, input, output) VALUES ('delete',
    ((SELECT pk FROM threads WHERE id = old.thread_id) << 32) | (old.pk & 4294967295),
    old.input, old.output);
END;
-- Streaming updates rewrite a step many times; re-index only when its text (or, rarely,
-- its thread) changed.
CREATE TRIGGER steps_fts_update AFTER UPDATE OF input, output, thread_id ON steps
WHEN old.input IS NOT new.input OR old.output IS NOT new.output
  OR old.thread_id IS NOT new.thread_id BEGIN
  INSERT INTO steps_fts(steps_fts, rowid, input, output) VALUES ('delete',
    ((SELECT pk FROM threads WHERE id = old.thread_id) << 32) | (old.pk & 4294967295),
    old.input, old.output);
  INSERT INTO steps_fts(rowid, input, output) VALUES (
    ((SELECT pk FROM threads WHERE id = new.thread_id) << 32) | (new.pk & 4294967295),
    new.input, new.output);
END;
CREATE TRIGGER threads_delete_steps BEFORE DELETE ON threads BEGIN
  DELETE FROM steps WHERE thread_id = old.id;
END;

-- Index what a version-2 database already holds (about 30 s per million steps).
INSERT INTO steps_fts(rowid, input, output)
  SELECT (t.pk << 32) | (s.pk & 4294967295), s.input, s.output
  FROM steps s JOIN threads t ON t.id = s.thread_id;
