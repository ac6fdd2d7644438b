-- Schema 6: encrypted media (MIP-04). Both tables live inside the encrypted database, so
-- neither a queued file nor a downloaded one is ever on disk in the clear.

-- Files waiting to be encrypted, uploaded to Blossom and sent as a message. The prepared
-- (metadata-stripped) bytes stay here until the message is stored, so a crash or a long
-- outage loses nothing. They are encrypted at each attempt for the epoch the message goes
-- out in, with the upload's one nonce: a retry in the same epoch makes the same blob, which
-- a server that already took it does not need again.
CREATE TABLE media_uploads (
    id              INTEGER PRIMARY KEY,
    mls_group_id    BLOB NOT NULL REFERENCES groups (mls_group_id) ON DELETE CASCADE,
    filename        TEXT NOT NULL,
    mime_type       TEXT NOT NULL,
    data            BLOB NOT NULL,
    nonce           BLOB NOT NULL CHECK (length(nonce) = 12),
    caption         TEXT NOT NULL DEFAULT '',
    dim             TEXT,
    blurhash        TEXT,
    state           TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'failed', 'cancelled')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error      TEXT NOT NULL DEFAULT '',
    rumor_id        TEXT,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
) STRICT;
CREATE INDEX media_uploads_due ON media_uploads (state, next_attempt_at);

-- Decrypted files by the SHA-256 of their content (the imeta ``x``), with a small preview
-- for images.
CREATE TABLE media_cache (
    file_hash  BLOB PRIMARY KEY CHECK (length(file_hash) = 32),
    mime_type  TEXT NOT NULL,
    filename   TEXT NOT NULL,
    data       BLOB NOT NULL,
    thumbnail  BLOB,
    stored_at  INTEGER NOT NULL
) STRICT;

-- The MIP-04 exporter secret of each epoch a message with attachments arrived in, kept so
-- its files can still be fetched once MLS no longer retains that epoch.
CREATE TABLE media_epoch_keys (
    mls_group_id BLOB NOT NULL REFERENCES groups (mls_group_id) ON DELETE CASCADE,
    epoch        INTEGER NOT NULL,
    secret       BLOB NOT NULL CHECK (length(secret) = 32),
    PRIMARY KEY (mls_group_id, epoch)
) STRICT, WITHOUT ROWID;
