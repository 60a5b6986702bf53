-- Members, households, roles, bound groups, flow drafts and processed updates.

CREATE TABLE households (
    id          INTEGER PRIMARY KEY,
    building_id TEXT NOT NULL,          -- "<compound id>/<building name>" from the config
    unit        TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    UNIQUE (building_id, unit)
);

CREATE TABLE members (
    id             INTEGER PRIMARY KEY,
    telegram_id    INTEGER UNIQUE,       -- NULL after /forgetme; ledgers keep the anonymous row
    name           TEXT NOT NULL,
    username       TEXT,
    locale         TEXT,                 -- the member's own choice; NULL = Telegram's language
    language_code  TEXT,                 -- Telegram's language for them, for notices when locale is NULL
    building_id    TEXT,
    household_id   INTEGER REFERENCES households(id),
    verified       INTEGER NOT NULL DEFAULT 0,
    verified_by    INTEGER REFERENCES members(id),
    verified_at    TEXT,
    joined         INTEGER NOT NULL DEFAULT 0,   -- accepted the privacy notice
    joined_at      TEXT,                         -- when they (last) accepted it
    referral_code  TEXT NOT NULL UNIQUE,
    referred_by    INTEGER REFERENCES members(id),
    rank_optout    INTEGER NOT NULL DEFAULT 0,
    private_chat   INTEGER NOT NULL DEFAULT 0,   -- has opened a private chat with the bot
    created_at     TEXT NOT NULL,
    forgotten_at   TEXT
);
CREATE INDEX members_building ON members(building_id);
CREATE INDEX members_household ON members(household_id);

CREATE TABLE member_roles (
    member_id  INTEGER NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    role       TEXT NOT NULL,
    granted_by INTEGER REFERENCES members(id),
    granted_at TEXT NOT NULL,
    from_config INTEGER NOT NULL DEFAULT 0,   -- an organizer listed in the config file
    PRIMARY KEY (member_id, role)
);

-- Group chats the bot is in, and what an organizer bound each to.
CREATE TABLE groups (
    chat_id     INTEGER PRIMARY KEY,
    title       TEXT NOT NULL,
    active      INTEGER NOT NULL DEFAULT 1,     -- 0 once the bot was removed
    bind_kind   TEXT,                           -- community | compound | building | role
    bind_target TEXT,
    bound_by    INTEGER REFERENCES members(id),
    added_at    TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

-- A multi-step flow in progress in a private chat (onboarding, a report, a new event...).
-- Kept in the database so a restart resumes it; deleted when the flow ends.
CREATE TABLE drafts (
    user_id    INTEGER PRIMARY KEY,            -- Telegram user id of the private chat
    flow       TEXT NOT NULL,
    step       TEXT NOT NULL,
    data       TEXT NOT NULL,                  -- JSON
    updated_at TEXT NOT NULL
);

-- Updates fully handled, so a redelivered update (same update_id) changes nothing.
CREATE TABLE processed_updates (
    update_id  INTEGER PRIMARY KEY,
    handled_at TEXT NOT NULL
);

-- Audit trail of organizer actions (grants, binds, verifications, ...).
CREATE TABLE audit_log (
    id         INTEGER PRIMARY KEY,
    actor_id   INTEGER REFERENCES members(id),
    action     TEXT NOT NULL,
    subject    TEXT NOT NULL,
    detail     TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL
);
