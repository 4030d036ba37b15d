-- Chainlit 2.x's SQLAlchemy data layer schema, as Chainlit's docs give it
-- (https://docs.chainlit.io/data-layers/sqlalchemy), for PostgreSQL and SQLite; nbchat's
-- nbchat.data.sql_alchemy.SQLAlchemyDataLayer reads and writes these tables.
-- SQLite runs it as is: it takes UUID, JSONB and TEXT[] as type names (text affinity);
-- nbchat stores ids as text, JSON and tag lists as JSON text there. SQLite enforces the
-- foreign keys only with PRAGMA foreign_keys=ON; nbchat deletes dependent rows itself.
-- MySQL/MariaDB: chainlit_schema_mysql.sql.
-- Optional columns newer than 2.0 (steps."modes", steps."autoCollapse", elements."props",
-- "autoPlay", "playerConfig") may be added; nbchat uses a column only if it exists.
-- nbchat adds one table of its own on first connect: nbchat_activity (see docs/persistence.md).

CREATE TABLE users (
    "id" UUID PRIMARY KEY,
    "identifier" TEXT NOT NULL UNIQUE,
    "metadata" JSONB NOT NULL,
    "createdAt" TEXT
);

CREATE TABLE IF NOT EXISTS threads (
    "id" UUID PRIMARY KEY,
    "createdAt" TEXT,
    "name" TEXT,
    "userId" UUID,
    "userIdentifier" TEXT,
    "tags" TEXT[],
    "metadata" JSONB,
    FOREIGN KEY ("userId") REFERENCES users("id") ON DELETE CASCADE
);

CREATE TABLE IF NOT EXISTS steps (
    "id" UUID PRIMARY KEY,
    "name" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "threadId" UUID NOT NULL,
    "parentId" UUID,
    "streaming" BOOLEAN NOT NULL,
    "waitForAnswer" BOOLEAN,
    "isError" BOOLEAN,
    "metadata" JSONB,
    "tags" TEXT[],
    "input" TEXT,
    "output" TEXT,
    "createdAt" TEXT,
    "command" TEXT,
    "start" TEXT,
    "end" TEXT,
    "generation" JSONB,
    "showInput" TEXT,
    "language" TEXT,
    "indent" INT,
    "defaultOpen" BOOLEAN,
    FOREIGN KEY ("threadId") REFERENCES threads("id") ON DELETE CASCADE
);

CREATE TABLE IF NOT EXISTS elements (
    "id" UUID PRIMARY KEY,
    "threadId" UUID,
    "type" TEXT,
    "url" TEXT,
    "chainlitKey" TEXT,
    "name" TEXT NOT NULL,
    "display" TEXT,
    "objectKey" TEXT,
    "size" TEXT,
    "page" INT,
    "language" TEXT,
    "forId" UUID,
    "mime" TEXT,
    FOREIGN KEY ("threadId") REFERENCES threads("id") ON DELETE CASCADE
);

CREATE TABLE IF NOT EXISTS feedbacks (
    "id" UUID PRIMARY KEY,
    "forId" UUID NOT NULL,
    "threadId" UUID NOT NULL,
    "value" INT NOT NULL,
    "comment" TEXT,
    FOREIGN KEY ("threadId") REFERENCES threads("id") ON DELETE CASCADE
);

-- Not in Chainlit's documented SQL, but written and read by Chainlit's own layer (and
-- nbchat's): element props (custom elements) and the newer step columns. Without them
-- nbchat still works; it does not store element props then.
ALTER TABLE elements ADD COLUMN "props" JSONB;
ALTER TABLE steps ADD COLUMN "modes" JSONB;
ALTER TABLE steps ADD COLUMN "autoCollapse" BOOLEAN;
