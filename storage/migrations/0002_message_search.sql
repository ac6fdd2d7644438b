-- Schema 2: full-text search over chat messages (kind 9), inside the encrypted file.
-- An external-content FTS5 index over messages.content, kept in step by triggers so every
-- code path (insert, edit, deletion, group deletion) updates it in the same transaction.

CREATE VIRTUAL TABLE messages_fts USING fts5 (
    content,
    content = 'messages',
    content_rowid = 'seq',
    columnsize = 0,  -- results are ordered by arrival, not bm25: no per-row sizes needed
    tokenize = 'unicode61 remove_diacritics 2'
);

CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages
WHEN new.kind = 9 AND new.deleted_at IS NULL
BEGIN
    INSERT INTO messages_fts (rowid, content) VALUES (new.seq, new.content);
END;

CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages
WHEN old.kind = 9 AND old.deleted_at IS NULL
BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, content) VALUES ('delete', old.seq, old.content);
END;

-- One trigger, old entry out before new entry in: two triggers would run in an unspecified
-- order, and removing after adding would drop terms the old and new text share.
CREATE TRIGGER messages_fts_update AFTER UPDATE OF kind, content, deleted_at ON messages
BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, content)
        SELECT 'delete', old.seq, old.content WHERE old.kind = 9 AND old.deleted_at IS NULL;
    INSERT INTO messages_fts (rowid, content)
        SELECT new.seq, new.content WHERE new.kind = 9 AND new.deleted_at IS NULL;
END;

-- Messages stored under schema 1.
INSERT INTO messages_fts (rowid, content)
    SELECT seq, content FROM messages WHERE kind = 9 AND deleted_at IS NULL;
