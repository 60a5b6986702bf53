-- Hazard reports (随手拍) with supports, history, triage cards and photos; the anonymous tree hole.

-- A report. An anonymous one has reporter_id NULL and nothing else that points to its
-- sender: only the hash of the follow-up code the sender keeps.
CREATE TABLE hazards (
    id               INTEGER PRIMARY KEY,      -- the code is H-<id, 4 digits>
    category         TEXT NOT NULL,
    description      TEXT NOT NULL DEFAULT '',
    status           TEXT NOT NULL DEFAULT 'new'
                     CHECK (status IN ('new', 'acknowledged', 'in_progress', 'resolved', 'rejected')),
    status_note      TEXT NOT NULL DEFAULT '',
    anonymous        INTEGER NOT NULL DEFAULT 0,
    reporter_id      INTEGER REFERENCES members(id),
    followup_hash    TEXT UNIQUE,              -- anonymous reports only
    urgent           INTEGER NOT NULL DEFAULT 0,
    lat              REAL,
    lon              REAL,
    address          TEXT NOT NULL DEFAULT '',
    building_id      TEXT,
    duplicate_of     INTEGER REFERENCES hazards(id),
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    acknowledged_at  TEXT,
    resolved_at      TEXT,
    escalations      INTEGER NOT NULL DEFAULT 0,   -- escalations sent (claimed before sending)
    last_escalated_at TEXT,
    followup_sent_at TEXT,                     -- "is it fixed?" asked (claimed before sending)
    followup_answer  TEXT,                     -- fixed | not_fixed
    CHECK (anonymous = 0 OR (reporter_id IS NULL AND followup_hash IS NOT NULL))
);
CREATE INDEX hazards_status ON hazards(status, created_at);
CREATE INDEX hazards_reporter ON hazards(reporter_id, created_at);

CREATE TABLE hazard_photos (
    hazard_id INTEGER NOT NULL REFERENCES hazards(id) ON DELETE CASCADE,
    position  INTEGER NOT NULL,
    file_id   TEXT NOT NULL,
    PRIMARY KEY (hazard_id, position)
);

-- "Me too": members who confirm an open report instead of filing a duplicate.
CREATE TABLE hazard_supports (
    hazard_id  INTEGER NOT NULL REFERENCES hazards(id) ON DELETE CASCADE,
    member_id  INTEGER NOT NULL REFERENCES members(id),
    created_at TEXT NOT NULL,
    PRIMARY KEY (hazard_id, member_id)
);

-- Every change of a report: who (NULL for the reporter, anonymous ones, or the scheduler), when, a note.
CREATE TABLE hazard_events (
    id         INTEGER PRIMARY KEY,
    hazard_id  INTEGER NOT NULL REFERENCES hazards(id) ON DELETE CASCADE,
    status     TEXT NOT NULL,                  -- a status, or reopened / fixed / supported
    actor_id   INTEGER REFERENCES members(id),
    note       TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL
);
CREATE INDEX hazard_events_hazard ON hazard_events(hazard_id, id);

-- The triage cards posted for a report (organizers' group, building leaders), edited on each change.
CREATE TABLE hazard_cards (
    hazard_id  INTEGER NOT NULL REFERENCES hazards(id) ON DELETE CASCADE,
    chat_id    INTEGER NOT NULL,
    message_id INTEGER NOT NULL,
    PRIMARY KEY (chat_id, message_id)
);
CREATE INDEX hazard_cards_hazard ON hazard_cards(hazard_id);

-- The tree hole: anonymous messages to the organizers. No sender, only the follow-up hash.
CREATE TABLE treehole_messages (
    id            INTEGER PRIMARY KEY,         -- the code is T-<id, 4 digits>
    text          TEXT NOT NULL DEFAULT '',
    photo         TEXT,
    followup_hash TEXT NOT NULL UNIQUE,
    created_at    TEXT NOT NULL
);

CREATE TABLE treehole_replies (
    id         INTEGER PRIMARY KEY,
    message_id INTEGER NOT NULL REFERENCES treehole_messages(id) ON DELETE CASCADE,
    author_id  INTEGER REFERENCES members(id),  -- the organizer who answered
    text       TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX treehole_replies_message ON treehole_replies(message_id, id);

CREATE TABLE treehole_cards (
    message_id INTEGER NOT NULL REFERENCES treehole_messages(id) ON DELETE CASCADE,
    chat_id    INTEGER NOT NULL,
    card_id    INTEGER NOT NULL,
    PRIMARY KEY (chat_id, card_id)
);
