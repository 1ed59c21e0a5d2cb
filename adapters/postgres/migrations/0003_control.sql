-- The effective control registry: one row per item, with its active version.
CREATE TABLE IF NOT EXISTS synaps_control_items (
    item_id        uuid PRIMARY KEY,
    tenant         text        NOT NULL,
    kind           text        NOT NULL,
    name           text        NOT NULL,
    active_version integer,
    active_spec    jsonb,
    versions       jsonb       NOT NULL,  -- {"1": spec, "2": spec, ...}
    activations    integer[]   NOT NULL,
    version        bigint      NOT NULL,  -- of the ControlItem aggregate
    position       bigint      NOT NULL,
    updated_at     timestamptz NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS synaps_control_items_name
    ON synaps_control_items (tenant, kind, name);

-- What each task ran with: the hash of the control snapshot in effect.
ALTER TABLE synaps_tasks ADD COLUMN IF NOT EXISTS control_hash text;
