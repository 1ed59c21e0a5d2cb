-- Identity and limits: the read models of API keys, users and sessions (inline
-- projections, written by the same statement as their events, so a revocation
-- is seen by the very next request), and the rate-limit counters.

-- One row per API key, found by the SHA-256 of the key. `version` is the
-- ApiKey aggregate's version the row reflects.
CREATE TABLE IF NOT EXISTS synaps_api_keys (
    key_id      uuid        PRIMARY KEY,
    key_hash    text        NOT NULL UNIQUE,
    tenant      text        NOT NULL,
    key_type    text        NOT NULL,
    hint        text        NOT NULL,
    name        text        NOT NULL,
    permissions jsonb       NOT NULL,
    created_at  timestamptz NOT NULL,
    created_by  text        NOT NULL,
    expires_at  timestamptz,
    revoked_at  timestamptz,
    version     bigint      NOT NULL
);
CREATE INDEX IF NOT EXISTS synaps_api_keys_tenant ON synaps_api_keys (tenant, created_at);

-- One row per user (never the password hash: that stays in the ledger).
CREATE TABLE IF NOT EXISTS synaps_users (
    user_id     uuid        PRIMARY KEY,
    tenant      text        NOT NULL,
    email       text        NOT NULL UNIQUE,
    name        text        NOT NULL,
    roles       jsonb       NOT NULL,
    permissions jsonb       NOT NULL,
    disabled    boolean     NOT NULL,
    credentials_changed_at timestamptz,
    created_at  timestamptz NOT NULL,
    version     bigint      NOT NULL
);
CREATE INDEX IF NOT EXISTS synaps_users_tenant ON synaps_users (tenant, email);

-- One row per session (refresh token family): access tokens name their
-- session, and a revoked session's access tokens stop working at once.
CREATE TABLE IF NOT EXISTS synaps_sessions (
    session_id  uuid        PRIMARY KEY,
    user_id     uuid        NOT NULL,
    tenant      text        NOT NULL,
    started_at  timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,
    revoked_at  timestamptz,
    revoked_reason text,
    version     bigint      NOT NULL
);
CREATE INDEX IF NOT EXISTS synaps_sessions_open_by_user
    ON synaps_sessions (user_id) WHERE revoked_at IS NULL;

-- Rate-limit counters: one row per subject and window length, the window
-- starting at the subject's first request in it. Shared by every API process;
-- UNLOGGED because counters are worth no WAL (a crash resets them).
CREATE UNLOGGED TABLE IF NOT EXISTS synaps_rate_limits (
    subject    text        NOT NULL,
    seconds    integer     NOT NULL,
    started_at timestamptz NOT NULL,
    hits       integer     NOT NULL,
    PRIMARY KEY (subject, seconds)
) WITH (fillfactor = 70);
