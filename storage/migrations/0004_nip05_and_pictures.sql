-- Schema 4: NIP-05 checks of people's kind-0 addresses, and fetched https profile pictures
-- (kept here, inside the encrypted database, never in a plain cache folder).

CREATE TABLE nip05_checks (
    pubkey     TEXT PRIMARY KEY CHECK (length(pubkey) = 64),
    nip05      TEXT NOT NULL,
    verified   INTEGER NOT NULL CHECK (verified IN (0, 1)),
    checked_at INTEGER NOT NULL
) STRICT;

-- A failed fetch is kept too (mime '' and no data) so it is not retried at every paint.
CREATE TABLE pictures (
    url        TEXT PRIMARY KEY,
    mime       TEXT NOT NULL,
    data       BLOB NOT NULL,
    fetched_at INTEGER NOT NULL
) STRICT;
