-- Projections: where each processor is in the log, and the read models.

-- One row per projection: its position in the notification log (written in the
-- same transaction as its read-model rows) and its health.
CREATE TABLE IF NOT EXISTS synaps_projections (
    name        text        PRIMARY KEY,
    position    bigint      NOT NULL DEFAULT 0,
    events      bigint      NOT NULL DEFAULT 0,   -- events applied since (re)build
    state       text        NOT NULL DEFAULT 'running',
    error       text,
    error_position bigint,
    rate        double precision NOT NULL DEFAULT 0,  -- events/s, recent
    heartbeat_at timestamptz,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Runs, with their tasks' counts by status.
CREATE TABLE IF NOT EXISTS synaps_runs (
    run_id           uuid PRIMARY KEY,
    tenant           text        NOT NULL,
    kind             text        NOT NULL,
    status           text        NOT NULL,
    command_id       uuid        NOT NULL,
    thread_id        uuid        NOT NULL,
    input            jsonb,
    output           jsonb,
    error            text,
    created_at       timestamptz NOT NULL,
    started_at       timestamptz,
    finished_at      timestamptz,
    updated_at       timestamptz NOT NULL,
    created_position bigint      NOT NULL,
    position         bigint      NOT NULL,  -- of the last event applied
    version          bigint      NOT NULL,  -- of the Run aggregate
    task_ids         uuid[]      NOT NULL,
    open_task_ids    uuid[]      NOT NULL,
    failed_task      uuid,
    tasks_total      integer     NOT NULL,
    tasks_queued     integer     NOT NULL,
    tasks_running    integer     NOT NULL,
    tasks_succeeded  integer     NOT NULL,
    tasks_dead       integer     NOT NULL,
    tasks_cancelled  integer     NOT NULL
);
CREATE INDEX IF NOT EXISTS synaps_runs_list ON synaps_runs (tenant, created_position DESC);
CREATE INDEX IF NOT EXISTS synaps_runs_by_status
    ON synaps_runs (tenant, status, created_position DESC);
CREATE INDEX IF NOT EXISTS synaps_runs_by_kind ON synaps_runs (tenant, kind, created_position DESC);

-- Tasks, with a summary of every attempt.
CREATE TABLE IF NOT EXISTS synaps_tasks (
    task_id          uuid PRIMARY KEY,
    run_id           uuid        NOT NULL,
    command_id       uuid        NOT NULL,
    tenant           text        NOT NULL,
    kind             text        NOT NULL,
    queue            text        NOT NULL,
    priority         integer     NOT NULL,
    status           text        NOT NULL,
    attempt          integer     NOT NULL,
    max_attempts     integer     NOT NULL,
    output           jsonb,
    error            text,
    worker_id        text,
    available_at     timestamptz NOT NULL,
    lease_expires_at timestamptz,
    claimed_at       timestamptz,
    finished_at      timestamptz,
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    position         bigint      NOT NULL,
    version          bigint      NOT NULL,
    attempts         jsonb       NOT NULL   -- [{attempt, worker_id, claimed_at, ended_at, outcome, error}]
);
CREATE INDEX IF NOT EXISTS synaps_tasks_run ON synaps_tasks (run_id);

-- One row per ledger event, for audits and run timelines.
CREATE TABLE IF NOT EXISTS synaps_audit_log (
    position          bigint PRIMARY KEY,
    time              timestamptz NOT NULL,
    type              text        NOT NULL,
    aggregate_id      uuid        NOT NULL,
    aggregate_version bigint      NOT NULL,
    aggregate_type    text        NOT NULL,
    actor             text        NOT NULL,
    tenant            text        NOT NULL,
    correlation_id    text        NOT NULL,
    causation_id      text        NOT NULL,
    summary           text        NOT NULL
    -- the event's data stays in synaps_events (same position), not copied here
);

-- The audit seal: a SHA-256 chain over every event's stored bytes, in log order.
CREATE TABLE IF NOT EXISTS synaps_audit_seal (
    position bigint PRIMARY KEY,
    seal     bytea  NOT NULL
);
