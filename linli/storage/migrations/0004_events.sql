-- Events: lectures, drills, care services, activities; sign-ups, cards, reminders, notices.

CREATE TABLE events (
    id             INTEGER PRIMARY KEY,
    kind           TEXT NOT NULL,                  -- lecture | drill | care | activity
    title          TEXT NOT NULL,
    description    TEXT NOT NULL DEFAULT '',
    place          TEXT NOT NULL,
    starts_at      TEXT NOT NULL,                  -- UTC ISO
    ends_at        TEXT NOT NULL,
    deadline       TEXT NOT NULL,                  -- sign-ups close at this instant
    capacity       INTEGER NOT NULL CHECK (capacity >= 0),   -- 0 = unlimited
    points         INTEGER NOT NULL CHECK (points >= 0),     -- for attendance
    audience       TEXT NOT NULL,                  -- core.members.Audience.encode()
    status         TEXT NOT NULL DEFAULT 'open',   -- open | cancelled
    checkin_code   TEXT NOT NULL UNIQUE,
    series         TEXT NOT NULL,                  -- the /newevent draft's token
    occurrence     INTEGER NOT NULL DEFAULT 0,     -- index in a weekly series
    publish_at     TEXT NOT NULL,                  -- cards go to the groups from then on
    published_at   TEXT,
    version        INTEGER NOT NULL DEFAULT 0,     -- bumped by each edit / the cancellation
    rescheduled_at TEXT,
    created_by     INTEGER REFERENCES members(id),
    created_at     TEXT NOT NULL,
    cancelled_at   TEXT,
    -- A double tap on "Publish" (or a redelivered one) creates each occurrence once.
    UNIQUE (series, occurrence)
);
CREATE INDEX events_starts ON events(status, starts_at);
CREATE INDEX events_publish ON events(published_at, publish_at);

-- One row per member and event; cancelling keeps the row (status), signing up again reuses it.
CREATE TABLE event_signups (
    event_id      INTEGER NOT NULL REFERENCES events(id),
    member_id     INTEGER NOT NULL REFERENCES members(id),
    status        TEXT NOT NULL,                   -- confirmed | waitlisted | cancelled
    seq           INTEGER NOT NULL,                -- first-come order within the event
    signed_up_at  TEXT NOT NULL,
    confirmed_at  TEXT,
    cancelled_at  TEXT,
    checked_in_at TEXT,
    PRIMARY KEY (event_id, member_id)
);
CREATE INDEX event_signups_queue ON event_signups(event_id, status, seq);
CREATE INDEX event_signups_member ON event_signups(member_id, status);

-- The card posted in each bound group; `text_hash` is what it shows now, so an edit that
-- would change nothing is never sent, and `last_edit_at` spaces the edits out.
CREATE TABLE event_cards (
    event_id     INTEGER NOT NULL REFERENCES events(id),
    chat_id      INTEGER NOT NULL,
    message_id   INTEGER,                          -- NULL while being posted (or if it failed)
    text_hash    TEXT NOT NULL DEFAULT '',
    dirty        INTEGER NOT NULL DEFAULT 0,       -- seats or details changed since the last edit
    last_edit_at TEXT,
    posted_at    TEXT NOT NULL,
    PRIMARY KEY (event_id, chat_id)
);
CREATE INDEX event_cards_dirty ON event_cards(dirty);

-- Reminders claimed (sent, or skipped because a nearer one went out): each exactly once.
CREATE TABLE event_reminders (
    event_id       INTEGER NOT NULL REFERENCES events(id),
    member_id      INTEGER NOT NULL REFERENCES members(id),
    offset_minutes INTEGER NOT NULL,
    claimed_at     TEXT NOT NULL,
    PRIMARY KEY (event_id, member_id, offset_minutes)
);

-- Private notices owed to members (moved up from the waitlist, event moved or cancelled),
-- written in the same transaction as the change and sent by the handler or the next tick.
CREATE TABLE event_notices (
    id         INTEGER PRIMARY KEY,
    event_id   INTEGER NOT NULL REFERENCES events(id),
    member_id  INTEGER NOT NULL REFERENCES members(id),
    kind       TEXT NOT NULL,                      -- promoted | rescheduled | moved | cancelled
    detail     TEXT NOT NULL DEFAULT '{}',         -- JSON: what it was before
    created_at TEXT NOT NULL,
    sent_at    TEXT
);
CREATE INDEX event_notices_pending ON event_notices(sent_at);
