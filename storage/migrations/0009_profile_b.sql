-- Schema 9: Marmot v2 ("Dark Matter", Profile B) groups beside Profile A ones.
-- A group keeps the profile it was created with. A Profile B group keeps every state it
-- could still switch to (its retained branch tree: `marmot.profile_b.branches`): one row
-- per node with its parent, its MLS state (`mls.snapshot`), the commit that made it
-- (committer, priority, digest) and the accounts whose app messages opened there; one
-- node is the canonical tip, whose state is also the group row's `mls_state`.

ALTER TABLE groups ADD COLUMN profile TEXT NOT NULL DEFAULT 'mip'
    CHECK (profile IN ('mip', 'darkmatter'));

CREATE TABLE dm_branch_nodes (
    mls_group_id BLOB NOT NULL REFERENCES groups (mls_group_id) ON DELETE CASCADE,
    node_key     TEXT NOT NULL,      -- hex digest of the commit that made it; 'root' for a join
    parent_key   TEXT,               -- NULL for the retained root
    epoch        INTEGER NOT NULL,
    mls_state    BLOB NOT NULL,
    state_format INTEGER NOT NULL,
    committer    TEXT CHECK (committer IS NULL OR length(committer) = 64),
    priority     INTEGER,
    witnesses    TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(witnesses)),
    canonical    INTEGER NOT NULL DEFAULT 0 CHECK (canonical IN (0, 1)),
    PRIMARY KEY (mls_group_id, node_key)
) STRICT, WITHOUT ROWID;

-- 445 events no retained state opens yet (a later epoch) or whose commit names a
-- proposal not seen yet: tried again after every change of the tree.
CREATE TABLE dm_deferred (
    mls_group_id BLOB NOT NULL REFERENCES groups (mls_group_id) ON DELETE CASCADE,
    event_id     TEXT NOT NULL,
    event_json   TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    received_at  INTEGER NOT NULL,
    PRIMARY KEY (mls_group_id, event_id)
) STRICT, WITHOUT ROWID;

-- Which branch node an app payload (or a system row) of a Profile B group arrived at, so a
-- reorg hides what only the losing side carried and shows what the winning side did.
ALTER TABLE messages ADD COLUMN branch TEXT;
CREATE INDEX messages_branch ON messages (mls_group_id, branch) WHERE branch IS NOT NULL;

-- Edits (kind 1009), kept so an edit that arrives before its message still applies.
CREATE TABLE message_edits (
    mls_group_id    BLOB NOT NULL REFERENCES groups (mls_group_id) ON DELETE CASCADE,
    rumor_id        TEXT NOT NULL,
    target_rumor_id TEXT NOT NULL,
    author          TEXT NOT NULL CHECK (length(author) = 64),
    content         TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    PRIMARY KEY (mls_group_id, rumor_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX message_edits_target ON message_edits (mls_group_id, target_rumor_id);

-- `storage.repos.processed.newest_processed` runs before every send.
CREATE INDEX processed_group_time ON processed_events (mls_group_id, created_at)
    WHERE outcome = 'processed';
