-- nbchat schema v1 (SQLite). Every table has an INTEGER PRIMARY KEY `pk`: the full-text
-- index (0002) refers to rows by rowid, and only an explicit integer key keeps rowids
-- stable across VACUUM. Public ids are the UNIQUE `id` columns.
-- Times are ISO 8601 UTC text with milliseconds ("…T10:30:00.123Z"): text order = time order.

CREATE TABLE users (
  pk           INTEGER PRIMARY KEY,
  id           TEXT NOT NULL UNIQUE,
  identifier   TEXT NOT NULL UNIQUE,
  display_name TEXT,
  metadata     TEXT NOT NULL DEFAULT '{}',
  created_at   TEXT NOT NULL
);

CREATE TABLE threads (
  pk         INTEGER PRIMARY KEY,
  id         TEXT NOT NULL UNIQUE,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  name       TEXT,
  user_id    TEXT REFERENCES users(id) ON DELETE SET NULL,
  tags       TEXT,
  metadata   TEXT NOT NULL DEFAULT '{}'
);
-- list_threads: newest activity first, keyset (updated_at, id), with or without a user.
CREATE INDEX threads_by_activity ON threads(updated_at DESC, id DESC);
CREATE INDEX threads_by_user ON threads(user_id, updated_at DESC, id DESC);

CREATE TABLE steps (
  pk              INTEGER PRIMARY KEY,
  id              TEXT NOT NULL UNIQUE,
  thread_id       TEXT NOT NULL REFERENCES threads(id) ON DELETE CASCADE,
  parent_id       TEXT,
  name            TEXT NOT NULL,
  type            TEXT NOT NULL,
  input           TEXT NOT NULL DEFAULT '',
  output          TEXT NOT NULL DEFAULT '',
  is_error        INTEGER NOT NULL DEFAULT 0,
  created_at      TEXT NOT NULL,
  start_time      TEXT,
  end_time        TEXT,
  metadata        TEXT NOT NULL DEFAULT '{}',
  tags            TEXT,
  language        TEXT,
  generation      TEXT,
  show_input      TEXT NOT NULL DEFAULT 'true',
  default_open    INTEGER NOT NULL DEFAULT 0,
  streaming       INTEGER NOT NULL DEFAULT 0,
  wait_for_answer INTEGER NOT NULL DEFAULT 0,
  cancelled       INTEGER NOT NULL DEFAULT 0,
  command         TEXT
);
-- get_thread (steps in order) and the ON DELETE CASCADE from threads.
CREATE INDEX steps_by_thread ON steps(thread_id, created_at, id);

CREATE TABLE elements (
  pk         INTEGER PRIMARY KEY,
  id         TEXT NOT NULL UNIQUE,
  thread_id  TEXT NOT NULL REFERENCES threads(id) ON DELETE CASCADE,
  for_id     TEXT,
  type       TEXT NOT NULL,
  name       TEXT NOT NULL,
  display    TEXT NOT NULL,
  mime       TEXT,
  size       TEXT,
  language   TEXT,
  url        TEXT,
  object_key TEXT,
  extra      TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX elements_by_thread ON elements(thread_id);

CREATE TABLE feedbacks (
  pk         INTEGER PRIMARY KEY,
  id         TEXT NOT NULL UNIQUE,
  for_id     TEXT NOT NULL UNIQUE REFERENCES steps(id) ON DELETE CASCADE,
  thread_id  TEXT NOT NULL REFERENCES threads(id) ON DELETE CASCADE,
  value      INTEGER NOT NULL CHECK (value IN (0, 1)),
  comment    TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
-- ThreadFilter.feedback and the cascade from threads.
CREATE INDEX feedbacks_by_thread ON feedbacks(thread_id, value);
