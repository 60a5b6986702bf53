-- Shared spaces: spaces (seeded from the config), bookings, weekly series, emergency switches and their notices.

CREATE TABLE spaces (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    name_en TEXT NOT NULL DEFAULT '',
    place TEXT NOT NULL DEFAULT '',
    kind TEXT NOT NULL DEFAULT '',
    capacity INTEGER NOT NULL DEFAULT 0,
    rules TEXT NOT NULL,                        -- JSON: hours, slot grid, lengths, notice, window, quota...
    audience TEXT NOT NULL,                     -- core.members.Audience.encode()
    approval TEXT NOT NULL CHECK (approval IN ('none', 'organizer', 'operator')),
    price INTEGER NOT NULL DEFAULT 0 CHECK (price >= 0),
    operator_telegram_id INTEGER,
    door_code TEXT NOT NULL UNIQUE,             -- shown (and as a QR code) at the door
    active INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE space_series (
    id INTEGER PRIMARY KEY,
    space_id INTEGER NOT NULL REFERENCES spaces(id),
    member_id INTEGER REFERENCES members(id),
    purpose TEXT NOT NULL,
    weeks INTEGER NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE space_bookings (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    space_id INTEGER NOT NULL REFERENCES spaces(id),
    member_id INTEGER REFERENCES members(id),
    household TEXT NOT NULL,                    -- 'h:<household id>' or 'm:<member id>': whose quota
    starts_at TEXT NOT NULL,
    ends_at TEXT NOT NULL,
    purpose TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN
        ('pending', 'confirmed', 'checked_in', 'cancelled', 'declined', 'no_show')),
    price INTEGER NOT NULL DEFAULT 0,           -- points held at booking (paid at check-in)
    series_id INTEGER REFERENCES space_series(id),
    key TEXT NOT NULL UNIQUE,                   -- one booking per confirmation, however often tapped
    reason TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    decided_at TEXT,
    decided_by INTEGER,
    checked_in_at TEXT,
    closed_at TEXT,
    reminded_at TEXT                            -- claimed before the reminder is sent
);
-- The overlap check reads the bookings holding a space around one instant: flat with history.
CREATE INDEX space_bookings_holding ON space_bookings (space_id, starts_at)
    WHERE status IN ('pending', 'confirmed', 'checked_in');
CREATE INDEX space_bookings_household ON space_bookings (household, starts_at);
CREATE INDEX space_bookings_member ON space_bookings (member_id, starts_at);
CREATE INDEX space_bookings_due ON space_bookings (starts_at) WHERE status = 'confirmed';

CREATE TABLE space_emergencies (
    id INTEGER PRIMARY KEY,
    space_id INTEGER NOT NULL REFERENCES spaces(id),
    use TEXT NOT NULL,
    reason TEXT NOT NULL,
    starts_at TEXT NOT NULL,
    ends_at TEXT,                               -- NULL: until switched back
    ended_at TEXT,                              -- switched back by hand
    created_by INTEGER,
    created_at TEXT NOT NULL
);
CREATE INDEX space_emergencies_space ON space_emergencies (space_id, starts_at);

-- A notice a job posts (an emergency's planned end): claimed before sending, exactly once.
CREATE TABLE space_notices (
    emergency_id INTEGER NOT NULL REFERENCES space_emergencies(id),
    kind TEXT NOT NULL,
    chat_id INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('sending', 'sent', 'failed')),
    claimed_at TEXT NOT NULL,
    PRIMARY KEY (emergency_id, kind, chat_id)
);
