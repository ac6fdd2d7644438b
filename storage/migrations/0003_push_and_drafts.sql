-- Schema 3: MIP-05 push registration and per-group token cache, composer drafts, and the
-- self-update bookkeeping (MDK SelfUpdateState: NULL = a self-update is due).

CREATE TABLE push_registration (
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    platform      TEXT NOT NULL CHECK (platform IN ('apns', 'fcm')),
    device_token  BLOB NOT NULL,
    server_pubkey TEXT NOT NULL CHECK (length(server_pubkey) = 64),
    relay_hint    TEXT,
    updated_at    INTEGER NOT NULL
) STRICT;

-- Encrypted tokens other members shared (447/448), by the leaf that owns them. pubkey is the
-- leaf's identity when cached: a leaf that left or changed identity drops its token.
CREATE TABLE group_push_tokens (
    mls_group_id  BLOB NOT NULL REFERENCES groups (mls_group_id) ON DELETE CASCADE,
    leaf_index    INTEGER NOT NULL,
    pubkey        TEXT NOT NULL CHECK (length(pubkey) = 64),
    token         BLOB NOT NULL,
    server_pubkey TEXT NOT NULL CHECK (length(server_pubkey) = 64),
    relay_hint    TEXT NOT NULL,
    updated_at    INTEGER NOT NULL,
    PRIMARY KEY (mls_group_id, leaf_index)
) STRICT;

CREATE TABLE drafts (
    mls_group_id BLOB PRIMARY KEY REFERENCES groups (mls_group_id) ON DELETE CASCADE,
    content      TEXT NOT NULL,
    reply_to     TEXT,
    updated_at   INTEGER NOT NULL
) STRICT;

ALTER TABLE groups ADD COLUMN last_self_update_at INTEGER;
