-- Schema 1: one account per database file.
-- Conventions: Nostr ids and public keys are lowercase hex TEXT (64 chars; hex order is the
-- MIP-03 tie-break order); MLS ids and secrets are BLOBs; times are unix seconds; JSON columns
-- hold compact arrays. Tables are STRICT so a wrong type is an error, not a silent coercion.

-- The account's identity: exactly one row.
CREATE TABLE account (
    id                 INTEGER PRIMARY KEY CHECK (id = 1),
    pubkey             TEXT NOT NULL CHECK (length(pubkey) = 64),
    secret_key         BLOB NOT NULL CHECK (length(secret_key) = 32),
    profile            TEXT,              -- our kind 0 content as last published
    profile_created_at INTEGER,
    created_at         INTEGER NOT NULL
) STRICT;

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL CHECK (json_valid(value))
) STRICT, WITHOUT ROWID;

-- People the user has a relationship with: added (petname) or blocked.
CREATE TABLE contacts (
    pubkey     TEXT PRIMARY KEY CHECK (length(pubkey) = 64),
    petname    TEXT,
    blocked    INTEGER NOT NULL DEFAULT 0 CHECK (blocked IN (0, 1)),
    added_at   INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

-- kind 0 cache for anyone we meet (contacts, group members, inviters); newest wins.
CREATE TABLE profiles (
    pubkey     TEXT PRIMARY KEY CHECK (length(pubkey) = 64),
    content    TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    event_id   TEXT NOT NULL,
    fetched_at INTEGER NOT NULL
) STRICT;

-- Our newest kind 3, kept raw so republishing never drops entries the UI did not show.
CREATE TABLE follow_list (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    event_id   TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    tags       TEXT NOT NULL CHECK (json_valid(tags)),
    content    TEXT NOT NULL
) STRICT;

-- Relay lists (NIP-65 10002, inbox 10050, key packages 10051) of anyone, ours included.
-- entries = [[url, marker], ...] in the event's order; replaceable, newest created_at wins.
CREATE TABLE relay_lists (
    owner      TEXT NOT NULL CHECK (length(owner) = 64),
    kind       INTEGER NOT NULL CHECK (kind IN (10002, 10050, 10051)),
    entries    TEXT NOT NULL CHECK (json_valid(entries)),
    created_at INTEGER NOT NULL,
    event_id   TEXT,
    fetched_at INTEGER NOT NULL,
    PRIMARY KEY (owner, kind)
) STRICT, WITHOUT ROWID;

CREATE TABLE relay_status (
    url               TEXT PRIMARY KEY,
    status            TEXT NOT NULL,
    last_error        TEXT,
    last_connected_at INTEGER,
    updated_at        INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

-- Catch-up position per subscription purpose and relay (the `since` of the next REQ).
CREATE TABLE sync_cursors (
    subscription TEXT NOT NULL,
    relay_url    TEXT NOT NULL,
    since        INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    PRIMARY KEY (subscription, relay_url)
) STRICT, WITHOUT ROWID;

-- Our own key packages with their private material (NULL once deleted).
CREATE TABLE key_packages (
    id                  INTEGER PRIMARY KEY,
    ref                 BLOB NOT NULL UNIQUE,   -- KeyPackageRef (RFC 9420 5.2)
    d_slot              TEXT NOT NULL,          -- the 30443 `d` tag: one slot per device
    key_package         BLOB NOT NULL,
    private_material    BLOB,
    event_id            TEXT UNIQUE,
    relays              TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(relays)),
    created_at          INTEGER NOT NULL,
    published_at        INTEGER,
    consumed_at         INTEGER,
    relay_deleted_at    INTEGER,                -- NIP-09 deletion accepted by a relay
    material_deleted_at INTEGER
) STRICT;

CREATE TABLE groups (
    mls_group_id   BLOB PRIMARY KEY,
    nostr_group_id TEXT NOT NULL UNIQUE CHECK (length(nostr_group_id) = 64),
    name           TEXT NOT NULL DEFAULT '',
    description    TEXT NOT NULL DEFAULT '',
    admins         TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(admins)),
    relays         TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(relays)),
    marmot_data    BLOB NOT NULL,  -- raw 0xF2EE extension; the columns above are its decoded view
    state          TEXT NOT NULL CHECK (state IN ('pending', 'active', 'inactive')),
    epoch          INTEGER NOT NULL,
    our_leaf       INTEGER,
    mls_state      BLOB NOT NULL,  -- opaque to storage
    state_format   INTEGER NOT NULL,
    revision       INTEGER NOT NULL DEFAULT 0,  -- +1 on every state write (optimistic locking)
    pending_commit BLOB,           -- our own commit awaiting a relay OK
    pending_commit_event_id   TEXT,
    pending_commit_created_at INTEGER,
    pin_order      INTEGER,
    archived_at    INTEGER,
    muted_until    INTEGER,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
) STRICT;

-- Leaf -> identity, maintained with every state write (device lists, member lists, tokens).
CREATE TABLE group_members (
    mls_group_id BLOB NOT NULL REFERENCES groups (mls_group_id) ON DELETE CASCADE,
    leaf_index   INTEGER NOT NULL,
    pubkey       TEXT NOT NULL CHECK (length(pubkey) = 64),
    PRIMARY KEY (mls_group_id, leaf_index)
) STRICT, WITHOUT ROWID;
CREATE INDEX group_members_pubkey ON group_members (pubkey);

-- Exporter secrets of recent epochs, to open kind 445 events of the retention window.
CREATE TABLE group_epoch_secrets (
    mls_group_id BLOB NOT NULL REFERENCES groups (mls_group_id) ON DELETE CASCADE,
    epoch        INTEGER NOT NULL,
    label        TEXT NOT NULL,
    secret       BLOB NOT NULL,
    PRIMARY KEY (mls_group_id, epoch, label)
) STRICT, WITHOUT ROWID;

-- The state before a commit was applied, keyed by the epoch it was applied from and the
-- commit's MIP-03 order key (created_at, event id), for rolling back a lost commit race.
CREATE TABLE group_snapshots (
    mls_group_id      BLOB NOT NULL REFERENCES groups (mls_group_id) ON DELETE CASCADE,
    epoch             INTEGER NOT NULL,
    commit_created_at INTEGER NOT NULL,
    commit_event_id   TEXT NOT NULL,
    content_hash      BLOB NOT NULL,
    group_row         TEXT NOT NULL CHECK (json_valid(group_row)),
    members           TEXT NOT NULL CHECK (json_valid(members)),
    marmot_data       BLOB NOT NULL,
    mls_state         BLOB NOT NULL,
    state_format      INTEGER NOT NULL,
    taken_at          INTEGER NOT NULL,
    PRIMARY KEY (mls_group_id, epoch)
) STRICT;

CREATE TABLE messages (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,  -- arrival order; never reused
    mls_group_id BLOB NOT NULL REFERENCES groups (mls_group_id) ON DELETE CASCADE,
    rumor_id     TEXT NOT NULL,
    event_id     TEXT UNIQUE,      -- the kind 445 that carried it
    kind         INTEGER NOT NULL,
    author       TEXT NOT NULL CHECK (length(author) = 64),
    content      TEXT NOT NULL,
    tags         TEXT NOT NULL DEFAULT '[]',
    reply_to     TEXT,             -- rumor id named by the `q` tag
    created_at   INTEGER NOT NULL,
    epoch        INTEGER,
    status       TEXT NOT NULL
                 CHECK (status IN ('sending', 'sent', 'failed', 'received', 'invalidated')),
    is_read      INTEGER NOT NULL DEFAULT 0 CHECK (is_read IN (0, 1)),
    received_at  INTEGER NOT NULL,
    edited_at    INTEGER,
    deleted_at   INTEGER,
    UNIQUE (mls_group_id, rumor_id)
) STRICT;
CREATE INDEX messages_timeline ON messages (mls_group_id, created_at, seq);
CREATE INDEX messages_unread ON messages (mls_group_id) WHERE is_read = 0;

CREATE TABLE reactions (
    mls_group_id    BLOB NOT NULL REFERENCES groups (mls_group_id) ON DELETE CASCADE,
    rumor_id        TEXT NOT NULL,
    target_rumor_id TEXT NOT NULL,
    author          TEXT NOT NULL CHECK (length(author) = 64),
    content         TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    PRIMARY KEY (mls_group_id, rumor_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX reactions_target ON reactions (mls_group_id, target_rumor_id);

-- kind 5 requests, kept so a target that arrives after its deletion is stored deleted.
CREATE TABLE deletions (
    mls_group_id    BLOB NOT NULL REFERENCES groups (mls_group_id) ON DELETE CASCADE,
    target_rumor_id TEXT NOT NULL,
    author          TEXT NOT NULL CHECK (length(author) = 64),
    rumor_id        TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    PRIMARY KEY (mls_group_id, target_rumor_id, author)
) STRICT, WITHOUT ROWID;

-- Welcomes waiting for the user's accept or decline.
CREATE TABLE invites (
    wrapper_event_id TEXT PRIMARY KEY,   -- the kind 1059 gift wrap
    rumor_id         TEXT NOT NULL,      -- the kind 444 rumor
    inviter          TEXT NOT NULL CHECK (length(inviter) = 64),
    mls_group_id     BLOB,
    nostr_group_id   TEXT,
    group_name       TEXT NOT NULL DEFAULT '',
    key_package_ref  BLOB,
    welcome          BLOB NOT NULL,
    relays           TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(relays)),
    state            TEXT NOT NULL CHECK (state IN ('pending', 'accepted', 'declined')),
    received_at      INTEGER NOT NULL,
    decided_at       INTEGER
) STRICT;

-- Dedupe of every incoming event with its outcome. No foreign key on the group: the mark
-- must outlive a deleted group so a replayed event stays a duplicate.
CREATE TABLE processed_events (
    event_id     TEXT PRIMARY KEY,
    kind         INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    mls_group_id BLOB,
    epoch        INTEGER,
    outcome      TEXT NOT NULL CHECK (outcome IN ('processed', 'failed', 'retryable')),
    reason       TEXT NOT NULL DEFAULT '',
    attempts     INTEGER NOT NULL DEFAULT 1,
    event_json   TEXT,               -- kept until processed (retry, re-run after rollback)
    processed_at INTEGER NOT NULL
) STRICT;
CREATE INDEX processed_retryable ON processed_events (created_at) WHERE outcome = 'retryable';
CREATE INDEX processed_group ON processed_events (mls_group_id, epoch)
    WHERE mls_group_id IS NOT NULL;

-- Events to publish, stored before the first attempt so they survive restarts.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    event_id        TEXT NOT NULL UNIQUE,
    event_json      TEXT NOT NULL,
    relays          TEXT NOT NULL CHECK (json_valid(relays)),
    purpose         TEXT NOT NULL,
    mls_group_id    BLOB REFERENCES groups (mls_group_id) ON DELETE CASCADE,
    after_id        INTEGER REFERENCES outbox (id) ON DELETE SET NULL,  -- publish after that one
    state           TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error      TEXT,
    accepted_by     TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(accepted_by)),
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,  -- last attempt or state change
    sent_at         INTEGER
) STRICT;
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE state = 'pending';
CREATE INDEX outbox_after ON outbox (after_id) WHERE after_id IS NOT NULL;
