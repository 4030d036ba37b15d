-- Chainlit's documented schema (chainlit_schema.sql) for MySQL 8 / MariaDB 10.5+.
-- Equivalents of the types MySQL lacks: UUID -> CHAR(36), JSONB -> JSON, TEXT[] -> JSON
-- (a JSON array of strings). Identifiers are quoted with backquotes (MySQL reads
-- "double quotes" as strings unless ANSI_QUOTES), and the unique `identifier` is
-- VARCHAR(255) (MySQL cannot index TEXT without a prefix length).

CREATE TABLE users (
    `id` CHAR(36) PRIMARY KEY,
    `identifier` VARCHAR(255) NOT NULL UNIQUE,
    `metadata` JSON NOT NULL,
    `createdAt` TEXT
);

CREATE TABLE IF NOT EXISTS threads (
    `id` CHAR(36) PRIMARY KEY,
    `createdAt` TEXT,
    `name` TEXT,
    `userId` CHAR(36),
    `userIdentifier` TEXT,
    `tags` JSON,
    `metadata` JSON,
    FOREIGN KEY (`userId`) REFERENCES users(`id`) ON DELETE CASCADE
);

CREATE TABLE IF NOT EXISTS steps (
    `id` CHAR(36) PRIMARY KEY,
    `name` TEXT NOT NULL,
    `type` TEXT NOT NULL,
    `threadId` CHAR(36) NOT NULL,
    `parentId` CHAR(36),
    `streaming` BOOLEAN NOT NULL,
    `waitForAnswer` BOOLEAN,
    `isError` BOOLEAN,
    `metadata` JSON,
    `tags` JSON,
    `input` TEXT,
    `output` TEXT,
    `createdAt` TEXT,
    `command` TEXT,
    `start` TEXT,
    `end` TEXT,
    `generation` JSON,
    `showInput` TEXT,
    `language` TEXT,
    `indent` INT,
    `defaultOpen` BOOLEAN,
    FOREIGN KEY (`threadId`) REFERENCES threads(`id`) ON DELETE CASCADE
);

CREATE TABLE IF NOT EXISTS elements (
    `id` CHAR(36) PRIMARY KEY,
    `threadId` CHAR(36),
    `type` TEXT,
    `url` TEXT,
    `chainlitKey` TEXT,
    `name` TEXT NOT NULL,
    `display` TEXT,
    `objectKey` TEXT,
    `size` TEXT,
    `page` INT,
    `language` TEXT,
    `forId` CHAR(36),
    `mime` TEXT,
    FOREIGN KEY (`threadId`) REFERENCES threads(`id`) ON DELETE CASCADE
);

CREATE TABLE IF NOT EXISTS feedbacks (
    `id` CHAR(36) PRIMARY KEY,
    `forId` CHAR(36) NOT NULL,
    `threadId` CHAR(36) NOT NULL,
    `value` INT NOT NULL,
    `comment` TEXT,
    FOREIGN KEY (`threadId`) REFERENCES threads(`id`) ON DELETE CASCADE
);

-- Not in Chainlit's documented SQL, but written and read by Chainlit's own layer (and
-- nbchat's): element props (custom elements) and the newer step columns. Without them
-- nbchat still works; it does not store element props then.
ALTER TABLE elements ADD COLUMN `props` JSON;
ALTER TABLE steps ADD COLUMN `modes` JSON;
ALTER TABLE steps ADD COLUMN `autoCollapse` BOOLEAN;
