-- What the running service keeps beside the commerce core: each shop's connector
-- settings and webhook key, the webhook inbox, sync jobs, and the stock push queue.
--
-- Work rows (inbox deliveries, sync jobs, queued stock pushes) are claimed with a lease
-- (lease_owner, lease_until): a process takes due rows whose lease is free or expired,
-- so several processes on one PostgreSQL never work on the same row, and a row whose
-- process died is taken over when its lease runs out.

-- The connector's settings: plain fields as JSON, secret fields sealed by the service
-- (the store never sees them in clear), the unguessable key of the webhook URL, and
-- the sync and invoicing policy. plugin_id '' is a custom-platform shop.
ALTER TABLE shops ADD COLUMN config TEXT NOT NULL DEFAULT '{}';
ALTER TABLE shops ADD COLUMN sealed_secrets TEXT;
ALTER TABLE shops ADD COLUMN webhook_key TEXT;
ALTER TABLE shops ADD COLUMN poll_minutes BIGINT NOT NULL DEFAULT 20;
ALTER TABLE shops ADD COLUMN import_from TEXT;
ALTER TABLE shops ADD COLUMN auto_invoice TEXT NOT NULL DEFAULT 'off';
CREATE UNIQUE INDEX shops_webhook_key ON shops (webhook_key);

-- One row per shop: when it is next synced and from where, and the import of history.
CREATE TABLE shop_sync (
    company_id BIGINT NOT NULL,
    shop_id BIGINT NOT NULL PRIMARY KEY,
    next_run_at TEXT NOT NULL,
    -- Orders changed at or after this are asked for by the next regular sync.
    sync_cursor TEXT,
    -- "Sync now" with an explicit start.
    requested_since TEXT,
    lease_owner TEXT,
    lease_until TEXT,
    last_started_at TEXT,
    last_finished_at TEXT,
    last_error TEXT,
    failures BIGINT NOT NULL DEFAULT 0,
    orders_seen BIGINT NOT NULL DEFAULT 0,
    history_state TEXT NOT NULL DEFAULT 'none',
    history_from TEXT,
    history_page TEXT,
    history_pages BIGINT NOT NULL DEFAULT 0,
    history_orders BIGINT NOT NULL DEFAULT 0,
    history_error TEXT,
    FOREIGN KEY (company_id, shop_id) REFERENCES shops (company_id, id)
);
CREATE INDEX shop_sync_due ON shop_sync (next_run_at);

-- Verified webhook deliveries, stored before the 200 goes out. `event` is the parsed
-- delivery (JSON); `body` keeps the raw bytes of a delivery the connector could not
-- parse, for inspection.
CREATE TABLE webhook_inbox (
    id INTEGER PRIMARY KEY,
    company_id BIGINT NOT NULL,
    shop_id BIGINT NOT NULL,
    received_at TEXT NOT NULL,
    delivery_id TEXT,
    topic TEXT,
    event TEXT NOT NULL,
    body BLOB,
    state TEXT NOT NULL DEFAULT 'pending',
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    lease_owner TEXT,
    lease_until TEXT,
    last_error TEXT,
    processed_at TEXT,
    order_id BIGINT,
    FOREIGN KEY (company_id, shop_id) REFERENCES shops (company_id, id)
);
CREATE UNIQUE INDEX webhook_inbox_delivery ON webhook_inbox (shop_id, delivery_id);
CREATE INDEX webhook_inbox_due ON webhook_inbox (next_attempt_at) WHERE state = 'pending';
CREATE INDEX webhook_inbox_shop ON webhook_inbox (company_id, shop_id, id);

-- (shop, item) pairs whose stock the shop must be told. A change while a push is in
-- flight bumps `version`, so the push only removes the row when nothing newer came.
CREATE TABLE stock_push_queue (
    company_id BIGINT NOT NULL,
    shop_id BIGINT NOT NULL,
    item_id BIGINT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    queued_at TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    lease_owner TEXT,
    lease_until TEXT,
    last_error TEXT,
    PRIMARY KEY (shop_id, item_id),
    FOREIGN KEY (company_id, shop_id) REFERENCES shops (company_id, id),
    FOREIGN KEY (company_id, item_id) REFERENCES items (company_id, id)
);
CREATE INDEX stock_push_queue_due ON stock_push_queue (next_attempt_at);

-- What each shop was last told about each item, or why it was not.
CREATE TABLE stock_push_state (
    company_id BIGINT NOT NULL,
    shop_id BIGINT NOT NULL,
    item_id BIGINT NOT NULL,
    outcome TEXT NOT NULL,
    quantity_e4 BIGINT,
    at TEXT NOT NULL,
    error TEXT,
    PRIMARY KEY (shop_id, item_id),
    FOREIGN KEY (company_id, shop_id) REFERENCES shops (company_id, id),
    FOREIGN KEY (company_id, item_id) REFERENCES items (company_id, id)
);
