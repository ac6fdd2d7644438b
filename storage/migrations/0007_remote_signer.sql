-- Schema 7: an account whose identity key is held by a NIP-46 remote signer ("bunker")
-- stores no secret key, only how to reach the signer. SQLite cannot relax NOT NULL in
-- place, so the one-row table is rebuilt.
--
-- remote_signer: JSON {"signer": hex, "relays": [url, ...], "client_key": hex}; the client
-- key is our disposable NIP-46 session key (it can only ask the signer, never sign as the
-- user). Exactly one of secret_key and remote_signer is set.
CREATE TABLE account_v7 (
    id                 INTEGER PRIMARY KEY CHECK (id = 1),
    pubkey             TEXT NOT NULL CHECK (length(pubkey) = 64),
    secret_key         BLOB CHECK (secret_key IS NULL OR length(secret_key) = 32),
    profile            TEXT,
    profile_created_at INTEGER,
    created_at         INTEGER NOT NULL,
    remote_signer      TEXT,
    CHECK ((secret_key IS NULL) <> (remote_signer IS NULL))
) STRICT;

INSERT INTO account_v7 (id, pubkey, secret_key, profile, profile_created_at, created_at)
    SELECT id, pubkey, secret_key, profile, profile_created_at, created_at FROM account;

DROP TABLE account;

ALTER TABLE account_v7 RENAME TO account;
