-- Secret ballots: each poll's ballots become one record of counts per choice (no row per ballot, so no order of voting).

-- A row per ballot was placed on its page next to the previous one, like the voter rows,
-- so sorting both by position in the file (or reading the WAL commit by commit) paired
-- every voter with their choice. A box holds only how many ballots chose what: JSON
-- {"<choice>": count} with its keys sorted, rewritten whole on each vote, so nothing in it
-- says which ballot came first.
CREATE TABLE poll_ballot_boxes (
    poll_id INTEGER PRIMARY KEY REFERENCES polls(id),
    ballots TEXT NOT NULL                      -- {"<option indexes, comma separated>": count}
);

INSERT INTO poll_ballot_boxes (poll_id, ballots)
SELECT poll_id, json_group_object(choice, n)
FROM (
    SELECT poll_id, choice, COUNT(*) AS n FROM poll_ballots
    GROUP BY poll_id, choice ORDER BY poll_id, choice
)
GROUP BY poll_id;

-- With secure_delete on, the freed pages of the old rows are overwritten with zeros (and
-- the database is checkpointed after migrating, so the WAL keeps no copy of them either).
DROP INDEX poll_ballots_poll;
DROP TABLE poll_ballots;
