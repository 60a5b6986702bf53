-- Members keep only their own id: each one's Telegram account moves to an accounts table (a Matrix one could sit beside it).

-- A member's account on a platform: ('telegram', '<user id>'). One account per platform per
-- member; an account belongs to one member. /forgetme deletes the member's accounts.
CREATE TABLE accounts (
    platform    TEXT NOT NULL,                 -- 'telegram'
    external_id TEXT NOT NULL,                 -- the platform's id for the person, as text
    member_id   INTEGER NOT NULL REFERENCES members(id),
    created_at  TEXT NOT NULL,
    PRIMARY KEY (platform, external_id),
    UNIQUE (platform, member_id)
);

INSERT INTO accounts (platform, external_id, member_id, created_at)
SELECT 'telegram', CAST(telegram_id AS TEXT), id, created_at
FROM members WHERE telegram_id IS NOT NULL ORDER BY id;

-- telegram_id is UNIQUE, so SQLite cannot drop the column: the table is rebuilt (SQLite's
-- own recipe; the migration runs with foreign keys off and checked before it commits, so
-- dropping the old table deletes nothing that refers to it). Every other column, in its
-- order, with its constraints, references and indexes.
CREATE TABLE members_rebuilt (
    id             INTEGER PRIMARY KEY,
    name           TEXT NOT NULL,
    username       TEXT,
    locale         TEXT,                 -- the member's own choice; NULL = their platform's language
    language_code  TEXT,                 -- their platform's language for them, for notices when locale is NULL
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
    forgotten_at   TEXT,                         -- /forgetme: the row stays, anonymous, for the ledgers
    blocked_at     TEXT                          -- blocked the bot in their private chat (0009)
);

INSERT INTO members_rebuilt (id, name, username, locale, language_code, building_id,
    household_id, verified, verified_by, verified_at, joined, joined_at, referral_code,
    referred_by, rank_optout, private_chat, created_at, forgotten_at, blocked_at)
SELECT id, name, username, locale, language_code, building_id,
    household_id, verified, verified_by, verified_at, joined, joined_at, referral_code,
    referred_by, rank_optout, private_chat, created_at, forgotten_at, blocked_at
FROM members ORDER BY id;

DROP TABLE members;
ALTER TABLE members_rebuilt RENAME TO members;
CREATE INDEX members_building ON members(building_id);
CREATE INDEX members_household ON members(household_id);
