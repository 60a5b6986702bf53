-- Recognition: selections (nominations, consent, shortlist, a household vote with secret ballot boxes), the honours roll, and stories with their likes.

CREATE TABLE honours_selections (
    id             INTEGER PRIMARY KEY,
    title          TEXT NOT NULL,
    subject        TEXT NOT NULL,              -- household | member
    audience       TEXT NOT NULL,              -- Audience.encode()
    nominate_until TEXT NOT NULL,
    vote_from      TEXT NOT NULL,              -- the shortlist step ends here
    vote_until     TEXT NOT NULL,
    winners        INTEGER NOT NULL,
    points         INTEGER NOT NULL DEFAULT 0, -- each winner's, through the points ledger
    secret         INTEGER NOT NULL DEFAULT 0,
    key            TEXT NOT NULL UNIQUE,       -- the organizer's message: opened once
    created_by     INTEGER NOT NULL REFERENCES members(id),
    created_at     TEXT NOT NULL,
    closed_at      TEXT                        -- set once, by the scheduler, with the winners
);

-- What is honoured: a household ("h:<id>") or a member ("m:<id>"), nominated by one or more
-- neighbours. Shown only once its nominee accepted (consent).
CREATE TABLE honours_candidates (
    id               INTEGER PRIMARY KEY,
    selection_id     INTEGER NOT NULL REFERENCES honours_selections(id),
    candidate_key    TEXT NOT NULL,
    nominee_id       INTEGER NOT NULL REFERENCES members(id),
    household_id     INTEGER,
    consent          TEXT NOT NULL DEFAULT 'asked',  -- asked | accepted | declined | withdrawn
    shortlisted      INTEGER NOT NULL DEFAULT 0,
    shortlist_reason TEXT NOT NULL DEFAULT '',
    shortlisted_by   INTEGER REFERENCES members(id),
    votes            INTEGER NOT NULL DEFAULT 0,     -- written at closing
    won              INTEGER NOT NULL DEFAULT 0,
    created_at       TEXT NOT NULL,
    UNIQUE (selection_id, candidate_key)
);

-- One nomination per nominator per selection.
CREATE TABLE honours_nominations (
    selection_id INTEGER NOT NULL REFERENCES honours_selections(id),
    nominator_id INTEGER NOT NULL REFERENCES members(id),
    candidate_id INTEGER NOT NULL REFERENCES honours_candidates(id),
    reason       TEXT NOT NULL,
    photo        TEXT,                         -- Telegram file_id
    created_at   TEXT NOT NULL,
    PRIMARY KEY (selection_id, nominator_id)
);
CREATE INDEX honours_nominations_candidate ON honours_nominations(candidate_id);

-- That a household voted (one ballot each). In a secret selection nothing else: no member,
-- no picks, no time. WITHOUT ROWID: stored in voter_key order, not in the order of voting.
CREATE TABLE honours_voters (
    selection_id INTEGER NOT NULL REFERENCES honours_selections(id),
    voter_key    TEXT NOT NULL,
    member_id    INTEGER,                      -- NULL in a secret selection
    picks        TEXT,                         -- candidate ids, NULL in a secret selection
    PRIMARY KEY (selection_id, voter_key)
) WITHOUT ROWID;

-- Each selection's ballot box: {"<candidate id>": ballots} with sorted keys, rewritten whole
-- on each vote (as poll_ballot_boxes), the WAL checkpointed after a secret one.
CREATE TABLE honours_ballot_boxes (
    selection_id INTEGER PRIMARY KEY REFERENCES honours_selections(id),
    counts       TEXT NOT NULL
);

-- Stories of the community's people (讲好自己的故事), posted now or at post_at.
CREATE TABLE honours_stories (
    id         INTEGER PRIMARY KEY,
    title      TEXT NOT NULL,
    body       TEXT NOT NULL,
    photos     TEXT NOT NULL DEFAULT '[]',     -- Telegram file_ids
    consent    TEXT NOT NULL,                  -- how the subject agreed, as recorded
    audience   TEXT NOT NULL,
    post_at    TEXT NOT NULL,
    posted_at  TEXT,                           -- claimed for posting (once)
    key        TEXT NOT NULL UNIQUE,
    created_by INTEGER NOT NULL REFERENCES members(id),
    created_at TEXT NOT NULL
);
CREATE INDEX honours_stories_due ON honours_stories(posted_at, post_at);

-- 👍 on a story: one per member.
CREATE TABLE honours_story_likes (
    story_id  INTEGER NOT NULL REFERENCES honours_stories(id),
    member_id INTEGER NOT NULL REFERENCES members(id),
    PRIMARY KEY (story_id, member_id)
) WITHOUT ROWID;

-- Claims of what is posted to groups (claimed before sending, so never twice): a
-- selection's opening, its vote, its result; a story.
CREATE TABLE honours_posts (
    kind       TEXT NOT NULL,                  -- opened | voting | result | story
    ref        TEXT NOT NULL,
    chat_id    INTEGER NOT NULL,
    status     TEXT NOT NULL DEFAULT 'sending', -- sending | sent | failed
    message_id INTEGER,
    created_at TEXT NOT NULL,
    PRIMARY KEY (kind, ref, chat_id)
);
