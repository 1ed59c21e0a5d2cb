-- Approvals: what is waiting for a person's decision, and what was decided.
CREATE TABLE IF NOT EXISTS synaps_approvals (
    approval_id  uuid PRIMARY KEY,
    tenant       text        NOT NULL,
    run_id       uuid        NOT NULL,
    task_id      uuid        NOT NULL,
    status       text        NOT NULL,
    tool_calls   jsonb       NOT NULL,
    summary      text        NOT NULL,
    evidence     jsonb       NOT NULL,
    requested_by text        NOT NULL,
    requested_at timestamptz NOT NULL,
    decided_by   text,
    decided_at   timestamptz,
    reason       text,
    position     bigint      NOT NULL
);
CREATE INDEX IF NOT EXISTS synaps_approvals_pending ON synaps_approvals (tenant, status, requested_at);
CREATE INDEX IF NOT EXISTS synaps_approvals_run ON synaps_approvals (run_id);
