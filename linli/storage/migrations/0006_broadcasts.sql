-- Broadcasts with one delivery row per recipient, weekly digests posted, daily backups taken.

-- A bulk message an organizer confirmed. `confirm_key` is the preview's token, so two taps
-- on "Send" (or a redelivered tap) create one broadcast.
CREATE TABLE broadcasts (
    id               INTEGER PRIMARY KEY,
    confirm_key      TEXT NOT NULL UNIQUE,
    created_by       INTEGER NOT NULL REFERENCES members(id),
    locale           TEXT NOT NULL,              -- the organizer's language, for progress and report
    mode             TEXT NOT NULL,              -- groups | members
    audience         TEXT NOT NULL,              -- core.members.Audience.encode()
    role             TEXT,                       -- members mode: only members with this role
    text             TEXT NOT NULL,              -- HTML (Telegram's tags), validated
    photo            TEXT,                       -- Telegram file_id, or NULL
    status           TEXT NOT NULL DEFAULT 'sending',   -- sending | done
    progress_chat_id INTEGER,                    -- the organizer's progress message
    progress_msg_id  INTEGER,
    progress_text    TEXT,                       -- what it shows now (an unchanged edit is skipped)
    progress_at      TEXT,                       -- when it was last edited
    created_at       TEXT NOT NULL,
    finished_at      TEXT
);
CREATE INDEX broadcasts_status ON broadcasts(status);

-- One recipient of a broadcast: a group chat or a member's private chat.
-- pending -> sending (claimed by the sender, in flight) -> sent | blocked | failed.
-- A row still `sending` after a restart may or may not have arrived; it becomes
-- failed ('interrupted') and is never sent again, so nobody gets a message twice.
CREATE TABLE broadcast_deliveries (
    id           INTEGER PRIMARY KEY,
    broadcast_id INTEGER NOT NULL REFERENCES broadcasts(id),
    chat_id      INTEGER NOT NULL,
    member_id    INTEGER REFERENCES members(id),   -- NULL for a group
    status       TEXT NOT NULL DEFAULT 'pending',
    reason       TEXT,
    message_id   INTEGER,
    attempts     INTEGER NOT NULL DEFAULT 0,
    updated_at   TEXT NOT NULL,
    UNIQUE (broadcast_id, chat_id)
);
CREATE INDEX broadcast_deliveries_status ON broadcast_deliveries(broadcast_id, status);

-- The weekly digest to the organizers' group: one row per ISO week, claimed before
-- sending, so a restart or a second tick never posts the same week twice.
CREATE TABLE digests (
    week       TEXT PRIMARY KEY,                 -- "2026-W48"
    status     TEXT NOT NULL,                    -- sending | sent | failed
    chat_id    INTEGER,
    message_id INTEGER,
    created_at TEXT NOT NULL,
    sent_at    TEXT
);

-- Daily backups taken by the scheduler: one per local day.
CREATE TABLE backups (
    day        TEXT PRIMARY KEY,                 -- "2026-11-26", community time
    path       TEXT NOT NULL,
    status     TEXT NOT NULL,                    -- running | done | failed
    bytes      INTEGER,
    detail     TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL
);
