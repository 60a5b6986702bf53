-- The neighbourhood directory: neighbours' offers and requests, introductions, places and rider stations, joining organizations.

CREATE TABLE directory_offers (
    id INTEGER PRIMARY KEY,
    member_id INTEGER NOT NULL REFERENCES members(id),
    building_id TEXT,                           -- the provider's building when posted (never the unit)
    category TEXT NOT NULL,
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    payment TEXT NOT NULL CHECK (payment IN ('paid', 'low', 'free')),
    price TEXT NOT NULL DEFAULT '' CHECK (payment != 'free' OR price = ''),
    available TEXT NOT NULL DEFAULT '',
    visibility TEXT NOT NULL CHECK (visibility IN ('building', 'compound', 'community')),
    status TEXT NOT NULL CHECK (status IN ('pending', 'active', 'paused', 'withdrawn', 'taken_down')),
    thanks INTEGER NOT NULL DEFAULT 0,
    reason TEXT NOT NULL DEFAULT '',            -- why an organizer took it down
    created_at TEXT NOT NULL
);
-- /services: a category's active offers of one building, most thanked first.
CREATE INDEX directory_offers_browse ON directory_offers (category, status, building_id, thanks DESC, id);
CREATE INDEX directory_offers_member ON directory_offers (member_id);

CREATE TABLE directory_requests (
    id INTEGER PRIMARY KEY,
    member_id INTEGER NOT NULL REFERENCES members(id),
    building_id TEXT,
    category TEXT NOT NULL,
    text TEXT NOT NULL,
    when_text TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL CHECK (status IN ('open', 'matched', 'closed')),
    created_at TEXT NOT NULL
);
CREATE INDEX directory_requests_member ON directory_requests (member_id);

-- A provider and a requester paired: asked from an offer, or offered on a request.
CREATE TABLE directory_matches (
    id INTEGER PRIMARY KEY,
    offer_id INTEGER REFERENCES directory_offers(id) ON DELETE CASCADE,
    request_id INTEGER REFERENCES directory_requests(id) ON DELETE CASCADE,
    provider_id INTEGER NOT NULL REFERENCES members(id),
    requester_id INTEGER NOT NULL REFERENCES members(id),
    status TEXT NOT NULL CHECK (status IN
        ('asked', 'offered', 'accepted', 'declined', 'not_chosen', 'done', 'not_done')),
    payment TEXT NOT NULL,
    what TEXT NOT NULL,
    created_at TEXT NOT NULL,
    decided_at TEXT,
    log_id INTEGER UNIQUE REFERENCES timebank_logs(id),  -- the time bank's log of a free service, once
    thanked INTEGER NOT NULL DEFAULT 0,
    comment TEXT NOT NULL DEFAULT '',
    CHECK ((offer_id IS NULL) != (request_id IS NULL))
);
-- One open ask per offer and requester; one "I can help" per request and neighbour.
CREATE UNIQUE INDEX directory_matches_one_ask ON directory_matches (offer_id, requester_id)
    WHERE status = 'asked';
CREATE UNIQUE INDEX directory_matches_one_help ON directory_matches (request_id, provider_id)
    WHERE request_id IS NOT NULL;
CREATE INDEX directory_matches_provider ON directory_matches (provider_id);
CREATE INDEX directory_matches_requester ON directory_matches (requester_id);

-- Providers told about new requests: once a day each (the claim), and those who said no more.
CREATE TABLE directory_notices (
    member_id INTEGER NOT NULL REFERENCES members(id),
    day TEXT NOT NULL,
    PRIMARY KEY (member_id, day)
);
CREATE TABLE directory_optouts (
    member_id INTEGER PRIMARY KEY REFERENCES members(id)
);

-- The 15-minute life circle and rider stations (category 'station'), kept by organizers.
CREATE TABLE directory_places (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    category TEXT NOT NULL,
    address TEXT NOT NULL DEFAULT '',
    lat REAL NOT NULL,
    lon REAL NOT NULL,
    cell INTEGER NOT NULL,                      -- core.directory.cell_of: about 1 km across
    hours TEXT NOT NULL DEFAULT '',             -- core.directory.WeeklyHours.encode()
    phone TEXT NOT NULL DEFAULT '',
    note TEXT NOT NULL DEFAULT '',
    facilities TEXT NOT NULL DEFAULT '',        -- comma-separated, stations only
    keeper_account INTEGER,                 -- a station keeper: may edit this place only
    updated_at TEXT NOT NULL
);
CREATE INDEX directory_places_cell ON directory_places (cell, category);

-- Residents asking to join a volunteer team (organizations come from the config).
CREATE TABLE directory_org_joins (
    id INTEGER PRIMARY KEY,
    org_key TEXT NOT NULL,
    member_id INTEGER NOT NULL REFERENCES members(id),
    status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'declined')),
    created_at TEXT NOT NULL,
    decided_by INTEGER,
    decided_at TEXT
);
CREATE UNIQUE INDEX directory_org_joins_one ON directory_org_joins (org_key, member_id)
    WHERE status = 'pending';

-- "Did the service happen?" asked once per introduction (claimed before sending).
CREATE TABLE directory_followups (
    match_id INTEGER PRIMARY KEY REFERENCES directory_matches(id) ON DELETE CASCADE,
    sent_at TEXT NOT NULL
);
