-- Schema 4: bounds on kind 445 events no key of ours opens. Anyone who knows a group's h tag
-- can post them, so each group keeps only a bounded number (and size) of them for a retry;
-- what was dropped to stay within the bound is counted here, per group.

CREATE TABLE unopened_drops (
    mls_group_id BLOB PRIMARY KEY REFERENCES groups (mls_group_id) ON DELETE CASCADE,
    events       INTEGER NOT NULL DEFAULT 0,
    bytes        INTEGER NOT NULL DEFAULT 0
) STRICT;

-- The retention check runs on every such event: find a group's retryable rows fast.
CREATE INDEX processed_group_retryable ON processed_events (mls_group_id, epoch, created_at)
    WHERE outcome = 'retryable';
