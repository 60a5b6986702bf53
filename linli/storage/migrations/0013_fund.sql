-- The community fund: an append-only ledger split by rule, expenses approved by a second organizer, budget rounds and their ballots.

-- One booking: an income (split into entries), an expense, or the correction reversing one.
-- Never edited: a correction is a new booking with a reason, and `reversed_by` on the
-- original is its only change.
CREATE TABLE fund_txns (
    id          INTEGER PRIMARY KEY,
    kind        TEXT NOT NULL,                  -- income | expense | correction
    income_kind TEXT NOT NULL DEFAULT '',       -- the split rule's name (income, and its correction)
    amount      INTEGER NOT NULL CHECK (amount > 0),   -- fen
    purpose     TEXT NOT NULL DEFAULT '',       -- what it was for, or a correction's reason
    receipt     TEXT,                           -- Telegram file_id of the receipt photo
    reverses    INTEGER UNIQUE REFERENCES fund_txns(id),
    reversed_by INTEGER REFERENCES fund_txns(id),
    key         TEXT NOT NULL UNIQUE,           -- idempotency key: a repeat books nothing
    actor_id    INTEGER REFERENCES members(id),
    approved_by INTEGER REFERENCES members(id), -- an expense's second organizer
    month       TEXT NOT NULL,                  -- community-local month YYYY-MM
    created_at  TEXT NOT NULL
);
CREATE INDEX fund_txns_month ON fund_txns(month, kind, id);
CREATE INDEX fund_txns_created ON fund_txns(created_at);

-- What each booking moved, per account (signed fen). An income's entries sum to its amount.
CREATE TABLE fund_entries (
    id      INTEGER PRIMARY KEY,
    txn_id  INTEGER NOT NULL REFERENCES fund_txns(id),
    account TEXT NOT NULL,
    amount  INTEGER NOT NULL
);
CREATE INDEX fund_entries_txn ON fund_entries(txn_id);

-- Kept in step with the entries in the same transaction: /fund never sums the ledger.
CREATE TABLE fund_balances (
    account TEXT PRIMARY KEY,
    balance INTEGER NOT NULL DEFAULT 0 CHECK (balance >= 0)
);

-- Per month, account and kind (income of a kind, or expense): the monthly report and its
-- chart read these few rows, flat however long the ledger grows. Corrections are netted
-- into the kind they reverse.
CREATE TABLE fund_monthly (
    month       TEXT NOT NULL,
    kind        TEXT NOT NULL,                  -- income | expense
    income_kind TEXT NOT NULL DEFAULT '',
    account     TEXT NOT NULL,
    amount      INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (month, kind, income_kind, account)
) WITHOUT ROWID;

-- Expenses waiting for (or past) a second organizer. A pending one reserves its amount.
CREATE TABLE fund_expenses (
    id          INTEGER PRIMARY KEY,
    amount      INTEGER NOT NULL CHECK (amount > 0),
    purpose     TEXT NOT NULL,
    receipt     TEXT,
    status      TEXT NOT NULL DEFAULT 'pending', -- pending | approved | rejected
    recorded_by INTEGER REFERENCES members(id),  -- NULL: a funded budget project
    decided_by  INTEGER REFERENCES members(id),
    reason      TEXT NOT NULL DEFAULT '',
    txn_id      INTEGER REFERENCES fund_txns(id),
    project_id  INTEGER,
    key         TEXT NOT NULL UNIQUE,
    created_at  TEXT NOT NULL,
    decided_at  TEXT
);
CREATE INDEX fund_expenses_status ON fund_expenses(status, id);

-- Participatory budgeting rounds. An open round reserves its budget.
CREATE TABLE fund_rounds (
    id           INTEGER PRIMARY KEY,
    title        TEXT NOT NULL,
    budget       INTEGER NOT NULL CHECK (budget > 0),
    audience     TEXT NOT NULL,
    secret       INTEGER NOT NULL DEFAULT 0,
    min_pct      INTEGER NOT NULL DEFAULT 0,
    min_projects INTEGER NOT NULL DEFAULT 1,
    max_projects INTEGER NOT NULL DEFAULT 0,
    submit_until TEXT NOT NULL,
    vote_until   TEXT NOT NULL,
    status       TEXT NOT NULL DEFAULT 'open',   -- open | closed
    created_by   INTEGER NOT NULL REFERENCES members(id),
    created_at   TEXT NOT NULL,
    closed_at    TEXT,
    key          TEXT NOT NULL UNIQUE
);
CREATE INDEX fund_rounds_status ON fund_rounds(status, vote_until);

CREATE TABLE fund_projects (
    id           INTEGER PRIMARY KEY,
    round_id     INTEGER NOT NULL REFERENCES fund_rounds(id),
    title        TEXT NOT NULL,
    cost         INTEGER NOT NULL CHECK (cost > 0),
    submitted_by INTEGER REFERENCES members(id),
    proposal_id  INTEGER,
    status       TEXT NOT NULL DEFAULT 'submitted', -- submitted | accepted | rejected | funded | skipped | done
    reason       TEXT NOT NULL DEFAULT '',
    votes        INTEGER NOT NULL DEFAULT 0,        -- written at closing
    expense_id   INTEGER REFERENCES fund_expenses(id),
    photos       TEXT NOT NULL DEFAULT '[]',        -- file_ids shown when it is done
    key          TEXT NOT NULL UNIQUE,
    created_at   TEXT NOT NULL
);
CREATE INDEX fund_projects_round ON fund_projects(round_id, id);

-- That a household voted in a round (one ballot each). In a secret round nothing else:
-- no member (for a household's ballot), no choice, no time.
CREATE TABLE fund_round_voters (
    round_id     INTEGER NOT NULL REFERENCES fund_rounds(id),
    voter_key    TEXT NOT NULL,
    member_id    INTEGER REFERENCES members(id),   -- NULL in a secret round
    household_id INTEGER,
    picks        TEXT,                             -- project ids, NULL in a secret round
    PRIMARY KEY (round_id, voter_key)
);

-- Each round's ballot box: {"<project id>": ballots} with sorted keys, rewritten whole on
-- each vote (as poll_ballot_boxes): no order, position or time for a single ballot.
CREATE TABLE fund_ballot_boxes (
    round_id INTEGER PRIMARY KEY REFERENCES fund_rounds(id),
    counts   TEXT NOT NULL
);

-- Claims of what the scheduler posts (claimed before sending, so never twice): the monthly
-- report per month and chat, a round's opening of the vote and its result per chat.
CREATE TABLE fund_posts (
    kind       TEXT NOT NULL,    -- monthly | voting | result | done
    ref        TEXT NOT NULL,    -- "2026-11", or a round / project id
    chat_id    INTEGER NOT NULL,
    status     TEXT NOT NULL DEFAULT 'sending',  -- sending | sent | failed
    message_id INTEGER,
    created_at TEXT NOT NULL,
    PRIMARY KEY (kind, ref, chat_id)
);
