-- Shipping: carrier connections, shipments with their labels and tracking events.
--
-- A shipment row is written before the carrier is called, with a reference built from
-- the order number (unique per company), so a create call whose answer is lost can be
-- looked up at the carrier instead of repeated. Shipment work (creating, reconciling,
-- tracking, telling the shop) is claimed with a lease like every other work row.

CREATE TABLE carriers (
    id INTEGER PRIMARY KEY,
    company_id BIGINT NOT NULL REFERENCES companies (id),
    name TEXT NOT NULL,
    plugin_id TEXT NOT NULL,
    -- Plain config fields as JSON; secret fields sealed by the service.
    config TEXT NOT NULL DEFAULT '{}',
    sealed_secrets TEXT,
    -- The sender address printed on labels (JSON).
    sender TEXT NOT NULL,
    label_format TEXT,
    -- Carrier service codes added to every shipment (JSON list).
    services TEXT NOT NULL DEFAULT '[]',
    default_weight_grams BIGINT NOT NULL DEFAULT 1000,
    -- When the shop is told the tracking number: off, created or delivered.
    tell_shop TEXT NOT NULL DEFAULT 'created',
    created_at TEXT NOT NULL,
    UNIQUE (company_id, id)
);

CREATE TABLE shipments (
    id INTEGER PRIMARY KEY,
    company_id BIGINT NOT NULL,
    order_id BIGINT NOT NULL,
    carrier_id BIGINT NOT NULL,
    reference TEXT NOT NULL,
    -- requested, created, unknown_outcome, failed, cancelled
    state TEXT NOT NULL,
    -- The shipment plan as sent to the carrier (JSON).
    plan TEXT NOT NULL,
    carrier_shipment_id TEXT,
    tracking_numbers TEXT NOT NULL DEFAULT '[]',
    -- The normalized tracking status and when it was reached.
    status TEXT NOT NULL DEFAULT 'pending',
    status_at TEXT,
    error TEXT,
    create_attempts BIGINT NOT NULL DEFAULT 0,
    lookups BIGINT NOT NULL DEFAULT 0,
    -- When the next create or reconciliation step is due.
    next_step_at TEXT,
    lease_owner TEXT,
    lease_until TEXT,
    next_track_at TEXT,
    last_tracked_at TEXT,
    track_failures BIGINT NOT NULL DEFAULT 0,
    track_error TEXT,
    -- Telling the shop the tracking number: none, due, sent or failed.
    shop_notice TEXT NOT NULL DEFAULT 'none',
    shop_notice_at TEXT,
    shop_notice_attempts BIGINT NOT NULL DEFAULT 0,
    shop_notice_error TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (company_id, id),
    UNIQUE (company_id, reference),
    FOREIGN KEY (company_id, order_id) REFERENCES orders (company_id, id),
    FOREIGN KEY (company_id, carrier_id) REFERENCES carriers (company_id, id)
);
CREATE INDEX shipments_by_order ON shipments (company_id, order_id);
CREATE INDEX shipments_step_due ON shipments (next_step_at) WHERE next_step_at IS NOT NULL;
CREATE INDEX shipments_track_due ON shipments (next_track_at) WHERE next_track_at IS NOT NULL;
CREATE INDEX shipments_notice_due ON shipments (shop_notice_at) WHERE shop_notice = 'due';

-- Labels exactly as the carrier returned them: some carriers issue a label only once.
CREATE TABLE shipment_labels (
    company_id BIGINT NOT NULL,
    shipment_id BIGINT NOT NULL PRIMARY KEY,
    content_type TEXT NOT NULL,
    data BLOB NOT NULL,
    received_at TEXT NOT NULL,
    FOREIGN KEY (company_id, shipment_id) REFERENCES shipments (company_id, id)
);

-- Tracking events with the carrier's own code and text beside the normalized status.
CREATE TABLE shipment_events (
    id INTEGER PRIMARY KEY,
    company_id BIGINT NOT NULL,
    shipment_id BIGINT NOT NULL,
    tracking_number TEXT NOT NULL,
    at TEXT NOT NULL,
    status TEXT NOT NULL,
    raw_code TEXT NOT NULL,
    raw_text TEXT NOT NULL,
    location TEXT,
    recorded_at TEXT NOT NULL,
    FOREIGN KEY (company_id, shipment_id) REFERENCES shipments (company_id, id)
);
CREATE UNIQUE INDEX shipment_events_once ON shipment_events (shipment_id, tracking_number, at, raw_code);
