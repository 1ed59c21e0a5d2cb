-- The ledger: one append-only table of events, one global notification order.
--
-- notification_id is not a sequence. It is derived from the id of the writing
-- transaction: (xid8 << 20) + position of the event within the single INSERT
-- of that transaction. Followers read only ids below the oldest running
-- transaction (pg_snapshot_xmin << 20), so no event can commit later with a
-- smaller id than one a follower has passed: the log is gap-free for
-- followers without a table lock. See adapters/postgres/recorder.py.
CREATE TABLE IF NOT EXISTS synaps_events (
    originator_id      uuid   NOT NULL,
    originator_version bigint NOT NULL,
    topic              text   NOT NULL,
    state              bytea  NOT NULL,
    notification_id    bigint NOT NULL,
    PRIMARY KEY (originator_id, originator_version)
) WITH (
    autovacuum_vacuum_threshold = 100000000,
    autovacuum_vacuum_scale_factor = 0.5
);

CREATE UNIQUE INDEX IF NOT EXISTS synaps_events_notification_id
    ON synaps_events (notification_id);

-- The queue read model: one row per task that is not terminal. Written in the
-- same transaction as the task's events (an inline projection) and claimed
-- with FOR UPDATE SKIP LOCKED. `version` is the task aggregate's version the
-- row reflects; every writer checks it (optimistic concurrency).
CREATE TABLE IF NOT EXISTS synaps_queue (
    task_id          uuid        PRIMARY KEY,
    run_id           uuid        NOT NULL,
    tenant           text        NOT NULL,
    queue            text        NOT NULL,
    kind             text        NOT NULL,
    priority         integer     NOT NULL,
    status           text        NOT NULL,
    -- when a claim may take it: available_at if queued, lease expiry if running
    claimable_at     timestamptz NOT NULL,
    attempt          integer     NOT NULL,
    max_attempts     integer     NOT NULL,
    worker_id        text,
    lease_expires_at timestamptz,
    queued_at        timestamptz NOT NULL,
    version          bigint      NOT NULL
) WITH (fillfactor = 70);

CREATE INDEX IF NOT EXISTS synaps_queue_claim
    ON synaps_queue (queue, priority DESC, claimable_at);
CREATE INDEX IF NOT EXISTS synaps_queue_run ON synaps_queue (run_id);

-- Raises a conflict (SQLSTATE SY409) unless `ok`: lets one statement check its
-- own preconditions, so a whole write (read models + events) is one round trip.
CREATE OR REPLACE FUNCTION synaps_conflict_unless(ok boolean, what text) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
    IF ok IS NOT TRUE THEN
        RAISE EXCEPTION USING ERRCODE = 'SY409', MESSAGE = 'synaps conflict: ' || what;
    END IF;
    RETURN true;
END
$$;
