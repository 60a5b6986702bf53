-- Points ledger and its aggregates, the rewards shop, weekly ranking posts, the time bank.

-- The append-only points ledger. A member's balance is the sum of their entries.
-- An earn the daily cap swallowed is kept with amount 0, so its key still answers "already done".
CREATE TABLE points_ledger (
    id          INTEGER PRIMARY KEY,
    member_id   INTEGER NOT NULL REFERENCES members(id),
    amount      INTEGER NOT NULL,
    rule        TEXT NOT NULL,          -- verified_report | urgent_bonus | attendance | volunteer_hour
                                        -- | referral | award | deduct | redeem | refund
    reason      TEXT NOT NULL DEFAULT '',   -- an organizer's words (award, deduct)
    reference   TEXT NOT NULL DEFAULT '',   -- what it is about: "H-0042", "event:7", "order:S-3F9K"
    key         TEXT NOT NULL UNIQUE,       -- idempotency key: a repeat changes nothing
    actor_id    INTEGER REFERENCES members(id),  -- who did it (organizer), NULL for automatic earns
    day         TEXT NOT NULL,              -- community-local day YYYY-MM-DD (daily caps, rankings)
    created_at  TEXT NOT NULL
);
CREATE INDEX points_ledger_member ON points_ledger(member_id, id);
CREATE INDEX points_ledger_cap ON points_ledger(member_id, rule, day);
CREATE INDEX points_ledger_created ON points_ledger(created_at);

-- Kept in step with the ledger in the same transaction: the balance (never negative) and
-- the all-time ranking score, so /points and /rank never sum the whole ledger.
CREATE TABLE points_balances (
    member_id INTEGER PRIMARY KEY REFERENCES members(id),
    balance   INTEGER NOT NULL DEFAULT 0 CHECK (balance >= 0),
    score     INTEGER NOT NULL DEFAULT 0,
    entries   INTEGER NOT NULL DEFAULT 0   -- entries with a non-zero amount (/points pages)
);
CREATE INDEX points_balances_score ON points_balances(score DESC);

-- Ranking score per member per local day: a week or a month sums at most 31 rows a member.
CREATE TABLE points_daily (
    member_id INTEGER NOT NULL REFERENCES members(id),
    day       TEXT NOT NULL,
    score     INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (member_id, day)
);
CREATE INDEX points_daily_day ON points_daily(day, member_id);

-- Ranking score per member per week ("2026-W48") and per month ("2026-11"), kept beside the
-- daily rows: a weekly or monthly board reads its top lines straight from the index instead
-- of summing every member's days (bench/: flat from 10k to 1M ledger entries).
CREATE TABLE points_period (
    period    TEXT NOT NULL,
    member_id INTEGER NOT NULL REFERENCES members(id),
    score     INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (period, member_id)
) WITHOUT ROWID;
CREATE INDEX points_period_score ON points_period(period, score DESC, member_id);

-- Ranking score per household per week, per month and all time (period "all"): the sum of
-- its current members' points_period (or points_balances.score) rows, kept in step with the
-- ledger and moved with a member who changes household or is forgotten, in the same
-- transaction. Household boards read their top lines from the index (bench/: flat with the
-- ledger, where summing members per request grew 3-40x from 10k to 1M entries).
CREATE TABLE household_period (
    period       TEXT NOT NULL,     -- "2026-W48", "2026-11" or "all"
    household_id INTEGER NOT NULL REFERENCES households(id),
    score        INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (period, household_id)
) WITHOUT ROWID;
CREATE INDEX household_period_score ON household_period(period, score DESC, household_id);

-- The rewards catalogue, seeded from the config's [shop] items and edited by organizers.
CREATE TABLE shop_items (
    id          INTEGER PRIMARY KEY,
    key         TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    name_en     TEXT NOT NULL DEFAULT '',
    description TEXT NOT NULL DEFAULT '',
    description_en TEXT NOT NULL DEFAULT '',
    price       INTEGER NOT NULL CHECK (price > 0),
    stock       INTEGER NOT NULL CHECK (stock >= 0),
    active      INTEGER NOT NULL DEFAULT 1,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

-- A redemption: points and one unit of stock held until handed over, or returned on cancel.
CREATE TABLE shop_orders (
    id          INTEGER PRIMARY KEY,
    code        TEXT NOT NULL UNIQUE,        -- the pickup code, "S-7K3F"
    item_id     INTEGER NOT NULL REFERENCES shop_items(id),
    member_id   INTEGER NOT NULL REFERENCES members(id),
    price       INTEGER NOT NULL,
    status      TEXT NOT NULL DEFAULT 'held',  -- held | handed_over | cancelled
    key         TEXT NOT NULL UNIQUE,        -- idempotency key of the confirming tap
    created_at  TEXT NOT NULL,
    closed_at   TEXT,
    closed_by   INTEGER REFERENCES members(id)
);
CREATE INDEX shop_orders_member ON shop_orders(member_id, id);
CREATE INDEX shop_orders_status ON shop_orders(status, id);

-- Weekly leaderboards posted, one row per (period, chat): a restart never posts twice.
CREATE TABLE ranking_posts (
    period     TEXT NOT NULL,     -- "2026-W48"
    chat_id    INTEGER NOT NULL,
    message_id INTEGER,
    posted_at  TEXT NOT NULL,
    PRIMARY KEY (period, chat_id)
);

-- Time bank: a service logged by the giver, confirmed by the receiver or an organizer.
CREATE TABLE timebank_logs (
    id           INTEGER PRIMARY KEY,
    giver_id     INTEGER NOT NULL REFERENCES members(id),
    receiver_id  INTEGER NOT NULL REFERENCES members(id),
    minutes      INTEGER NOT NULL CHECK (minutes > 0),
    what         TEXT NOT NULL,
    from_pool    INTEGER NOT NULL DEFAULT 0,   -- the hours come from the community pool
    status       TEXT NOT NULL DEFAULT 'pending',  -- pending | confirmed | declined | cancelled
    created_at   TEXT NOT NULL,
    decided_at   TEXT,
    decided_by   INTEGER REFERENCES members(id)
);
CREATE INDEX timebank_logs_giver ON timebank_logs(giver_id, id);
CREATE INDEX timebank_logs_receiver ON timebank_logs(receiver_id, id);

-- The hours ledger: a confirmed log moves minutes from the receiver (or the pool, member_id
-- NULL) to the giver. Balances are sums of entries; the floor is checked when writing.
CREATE TABLE timebank_entries (
    id         INTEGER PRIMARY KEY,
    member_id  INTEGER REFERENCES members(id),  -- NULL = the community pool
    minutes    INTEGER NOT NULL,
    log_id     INTEGER NOT NULL REFERENCES timebank_logs(id),
    created_at TEXT NOT NULL,
    UNIQUE (log_id, member_id)
);
CREATE INDEX timebank_entries_member ON timebank_entries(member_id, id);

CREATE TABLE timebank_balances (
    member_id INTEGER PRIMARY KEY REFERENCES members(id),
    minutes   INTEGER NOT NULL DEFAULT 0
);
