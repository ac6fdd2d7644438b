-- Schema 7: disappearing messages (Marmot's 0xF2EE v3 timer, NIP-40 expiration). Each
-- message may have a local end of life: the earlier of the NIP-40 expiration of the 445 that
-- carried it and its time plus the group's disappearing timer. Upkeep deletes the rows whose
-- time has come, in one transaction (`storage.repos.messages.delete_expired`).

ALTER TABLE messages ADD COLUMN expires_at INTEGER;

CREATE INDEX messages_expiry ON messages (expires_at) WHERE expires_at IS NOT NULL;

-- The app's own timeline lines (kind -1, never sent: `app/timeline.py`) are read on every
-- group view to tell who is only invited; a group has few of them among many messages.
CREATE INDEX messages_local_lines ON messages (mls_group_id, seq) WHERE kind < 0;
