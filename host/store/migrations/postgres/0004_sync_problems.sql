-- Nothing a sync or a webhook brings is dropped without a trace.
--
-- An order a sync could not import because the rules refused it (invalid data) is kept
-- here until it imports or the user dismisses it; every sync run tries the open ones
-- again. `version` is the platform's modified_at of the refused copy: a dismissed
-- problem is tried again only when the order changes on the platform.
CREATE TABLE sync_problems (
    company_id BIGINT NOT NULL,
    shop_id BIGINT NOT NULL,
    external_id TEXT NOT NULL,
    -- 'sync' or 'history': a retry imports with the rules of the run that met it.
    source TEXT NOT NULL,
    reason TEXT NOT NULL,
    version TEXT NOT NULL,
    first_seen_at TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 1,
    dismissed_at TEXT,
    PRIMARY KEY (shop_id, external_id),
    FOREIGN KEY (company_id, shop_id) REFERENCES shops (company_id, id)
);
CREATE INDEX sync_problems_open ON sync_problems (shop_id) WHERE dismissed_at IS NULL;

-- Why a processed delivery imported nothing ('before_import_from', 'deleted').
ALTER TABLE webhook_inbox ADD COLUMN skip_reason TEXT;

-- A history import whose page met a transient error waits before trying the page again.
ALTER TABLE shop_sync ADD COLUMN history_retry_at TEXT;
ALTER TABLE shop_sync ADD COLUMN history_failures BIGINT NOT NULL DEFAULT 0;
