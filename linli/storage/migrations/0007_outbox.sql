-- The outbox: messages a committed action promised, written in the action's transaction.

-- One Bot API call (a message, a photo, an edit of a card) that an update's handling
-- committed to making. It is written in the same transaction as what it reports, so the
-- two exist together or not at all, and delivered after the commit (or after a restart).
-- pending -> sending (its request is leaving) -> sent | failed | unknown.
-- A row still `sending` after a restart was on the wire when the process died: an edit is
-- made again (editing twice shows the same text), a new message is not (`unknown`), so
-- nobody gets a message twice.
CREATE TABLE outbox (
    id          INTEGER PRIMARY KEY,
    chat_id     INTEGER,                 -- where it goes (wiped with the payload once done)
    method      TEXT NOT NULL,           -- the Bot API method: sendMessage, editMessageText, ...
    payload     TEXT NOT NULL,           -- its parameters as JSON ('' once done)
    state       TEXT NOT NULL DEFAULT 'pending',
    attempts    INTEGER NOT NULL DEFAULT 0,
    not_before  TEXT,                    -- after a flood wait or a network error: try again then
    created_at  TEXT NOT NULL,
    sent_at     TEXT,
    message_id  INTEGER,                 -- what Telegram numbered the message it sent
    error       TEXT
);
CREATE INDEX outbox_due ON outbox(state, id) WHERE state IN ('pending', 'sending');
