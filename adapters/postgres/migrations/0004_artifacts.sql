-- Artifacts: one row per version, content in the artifact store (by digest).
CREATE TABLE IF NOT EXISTS synaps_artifacts (
    artifact_id  uuid        NOT NULL,
    version      integer     NOT NULL,
    tenant       text        NOT NULL,
    run_id       uuid        NOT NULL,
    task_id      uuid,
    name         text        NOT NULL,
    digest       text        NOT NULL,
    size         bigint      NOT NULL,
    content_type text        NOT NULL,
    created_at   timestamptz NOT NULL,
    position     bigint      NOT NULL,
    PRIMARY KEY (artifact_id, version)
);
CREATE INDEX IF NOT EXISTS synaps_artifacts_run ON synaps_artifacts (run_id);
