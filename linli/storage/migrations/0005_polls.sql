-- Deliberation: proposals with co-signatures, polls, votes, secret ballots, posts and reminders.

CREATE TABLE polls (
    id             INTEGER PRIMARY KEY,
    kind           TEXT NOT NULL,              -- proposal | single | multiple | ranked
    title          TEXT NOT NULL,
    body           TEXT NOT NULL DEFAULT '',
    options        TEXT NOT NULL,              -- JSON list of labels ([] for proposals)
    max_picks      INTEGER NOT NULL DEFAULT 1,
    audience       TEXT NOT NULL,              -- Audience.encode()
    verified_only  INTEGER NOT NULL,
    per_household  INTEGER NOT NULL,
    secret         INTEGER NOT NULL,
    hide_results   INTEGER NOT NULL,
    quorum_pct     INTEGER NOT NULL,
    quorum_basis   TEXT NOT NULL,              -- voters | households
    pass_pct       INTEGER NOT NULL,
    closes_at      TEXT NOT NULL,
    status         TEXT NOT NULL DEFAULT 'open',   -- open | closed
    eligible       INTEGER NOT NULL DEFAULT 0,     -- voters or households (see Poll.counts_households): at publishing, recounted at closing
    proposal_id    INTEGER,
    created_by     INTEGER NOT NULL REFERENCES members(id),
    created_at     TEXT NOT NULL,
    create_key     TEXT NOT NULL UNIQUE,       -- the preview's key: publishing twice makes one poll
    closed_at      TEXT,
    reminded_at    TEXT,                       -- the 24 h reminder round finished
    card_dirty     INTEGER NOT NULL DEFAULT 0, -- votes since the cards were last refreshed
    outcome        TEXT,                       -- the organizer's outcome statement
    outcome_by     INTEGER REFERENCES members(id),
    outcome_at     TEXT,
    card_done      INTEGER NOT NULL DEFAULT 0, -- the card was posted to every group
    result_done    INTEGER NOT NULL DEFAULT 0, -- the result was posted to every group
    outcome_done   INTEGER NOT NULL DEFAULT 0  -- the outcome statement was posted to every group
);
CREATE INDEX polls_open ON polls(status, closes_at);

-- Open ballots: who voted what (one row per member, or per household). Changing a vote
-- updates the row.
CREATE TABLE poll_votes (
    poll_id      INTEGER NOT NULL REFERENCES polls(id),
    voter_key    TEXT NOT NULL,                -- "m:<member id>" or "h:<household id>"
    member_id    INTEGER NOT NULL REFERENCES members(id),
    household_id INTEGER,
    choice       TEXT NOT NULL,                -- option indexes, comma separated, in order
    cast_at      TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    PRIMARY KEY (poll_id, voter_key)
);

-- Secret ballots, part 1: THAT a member or household voted. No choice, no time.
-- WITHOUT ROWID: rows are stored in voter_key order, not in the order votes came in.
CREATE TABLE poll_voters (
    poll_id      INTEGER NOT NULL REFERENCES polls(id),
    voter_key    TEXT NOT NULL,
    member_id    INTEGER,                      -- NULL when the household voted (secret)
    household_id INTEGER,
    PRIMARY KEY (poll_id, voter_key)
) WITHOUT ROWID;

-- Secret ballots, part 2: WHAT was voted. No voter, no time, no sequence: the key is a
-- random id, so the stored order is random too and nothing joins this table to poll_voters.
CREATE TABLE poll_ballots (
    ballot_id TEXT PRIMARY KEY,                -- 128 random bits, hex
    poll_id   INTEGER NOT NULL REFERENCES polls(id),
    choice    TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX poll_ballots_poll ON poll_ballots(poll_id);

-- Messages the bot posted for a poll: its cards, the result, the outcome statement.
-- One row per (poll, kind, chat): a post recorded here is never sent again.
CREATE TABLE poll_posts (
    poll_id    INTEGER NOT NULL REFERENCES polls(id),
    kind       TEXT NOT NULL,                  -- card | result | outcome
    chat_id    INTEGER NOT NULL,
    message_id INTEGER,
    posted_at  TEXT NOT NULL,
    PRIMARY KEY (poll_id, kind, chat_id)
);

-- Members already reminded of a poll (at most one reminder each).
CREATE TABLE poll_reminders (
    poll_id   INTEGER NOT NULL REFERENCES polls(id),
    member_id INTEGER NOT NULL REFERENCES members(id),
    sent_at   TEXT NOT NULL,
    PRIMARY KEY (poll_id, member_id)
);

CREATE TABLE proposals (
    id             INTEGER PRIMARY KEY,
    author_id      INTEGER NOT NULL REFERENCES members(id),
    audience       TEXT NOT NULL,              -- a building or compound (Audience.encode())
    title          TEXT NOT NULL,
    body           TEXT NOT NULL,
    threshold      INTEGER NOT NULL,           -- co-signatures needed (from the config then)
    status         TEXT NOT NULL DEFAULT 'collecting',  -- collecting | ready | opened | declined
    poll_id        INTEGER REFERENCES polls(id),
    decline_reason TEXT,
    decided_by     INTEGER REFERENCES members(id),
    decided_at     TEXT,
    create_key     TEXT NOT NULL UNIQUE,       -- the confirm button's key: one proposal per tap
    created_at     TEXT NOT NULL
);

CREATE TABLE proposal_cosigns (
    proposal_id INTEGER NOT NULL REFERENCES proposals(id),
    member_id   INTEGER NOT NULL REFERENCES members(id),
    created_at  TEXT NOT NULL,
    PRIMARY KEY (proposal_id, member_id)
);

-- Messages posted for a proposal (its cards in groups, the organizers' notice).
CREATE TABLE proposal_posts (
    proposal_id INTEGER NOT NULL REFERENCES proposals(id),
    kind        TEXT NOT NULL,                 -- card | ready
    chat_id     INTEGER NOT NULL,
    message_id  INTEGER,
    posted_at   TEXT NOT NULL,
    PRIMARY KEY (proposal_id, kind, chat_id)
);
