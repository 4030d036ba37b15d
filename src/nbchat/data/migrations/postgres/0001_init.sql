-- nbchat schema v1 (PostgreSQL). Same tables and meaning as migrations/sqlite/0001_init.sql.
-- Times are ISO 8601 UTC text with milliseconds ("…T10:30:00.123Z"): text order = time
-- order, and the values round-trip exactly as the runtime wrote them.

CREATE TABLE users (
  id           text PRIMARY KEY,
  identifier   text NOT NULL UNIQUE,
  display_name text,
  metadata     jsonb NOT NULL DEFAULT '{}',
  created_at   text NOT NULL
);

CREATE TABLE threads (
  id         text PRIMARY KEY,
  created_at text NOT NULL,
  updated_at text NOT NULL,
  name       text,
  user_id    text REFERENCES users(id) ON DELETE SET NULL,
  tags       jsonb,
  metadata   jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX threads_by_activity ON threads (updated_at DESC, id DESC);
CREATE INDEX threads_by_user ON threads (user_id, updated_at DESC, id DESC);

CREATE TABLE steps (
  id              text PRIMARY KEY,
  thread_id       text NOT NULL REFERENCES threads(id) ON DELETE CASCADE,
  parent_id       text,
  name            text NOT NULL,
  type            text NOT NULL,
  input           text NOT NULL DEFAULT '',
  output          text NOT NULL DEFAULT '',
  is_error        boolean NOT NULL DEFAULT false,
  created_at      text NOT NULL,
  start_time      text,
  end_time        text,
  metadata        jsonb NOT NULL DEFAULT '{}',
  tags            jsonb,
  language        text,
  generation      jsonb,
  show_input      jsonb NOT NULL DEFAULT 'true',
  default_open    boolean NOT NULL DEFAULT false,
  streaming       boolean NOT NULL DEFAULT false,
  wait_for_answer boolean NOT NULL DEFAULT false,
  cancelled       boolean NOT NULL DEFAULT false,
  command         text
);
CREATE INDEX steps_by_thread ON steps (thread_id, created_at, id);

CREATE TABLE elements (
  id         text PRIMARY KEY,
  thread_id  text NOT NULL REFERENCES threads(id) ON DELETE CASCADE,
  for_id     text,
  type       text NOT NULL,
  name       text NOT NULL,
  display    text NOT NULL,
  mime       text,
  size       text,
  language   text,
  url        text,
  object_key text,
  extra      jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX elements_by_thread ON elements (thread_id);

CREATE TABLE feedbacks (
  id         text PRIMARY KEY,
  for_id     text NOT NULL UNIQUE REFERENCES steps(id) ON DELETE CASCADE,
  thread_id  text NOT NULL REFERENCES threads(id) ON DELETE CASCADE,
  value      smallint NOT NULL CHECK (value IN (0, 1)),
  comment    text,
  created_at text NOT NULL,
  updated_at text NOT NULL
);
CREATE INDEX feedbacks_by_thread ON feedbacks (thread_id, value);
