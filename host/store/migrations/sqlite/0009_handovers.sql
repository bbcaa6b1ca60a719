-- The day's hand-overs of shipments to a carrier: an electronic submission (Pošta
-- Slovenije's eOddaja) or the manifest the courier signs (DPD). Each shipment is handed
-- over once: it points at the hand-over that took it.
CREATE TABLE handovers (
    id INTEGER PRIMARY KEY,
    company_id BIGINT NOT NULL,
    carrier_id BIGINT NOT NULL,
    -- The sender's local date, YYYY-MM-DD.
    handover_date TEXT NOT NULL,
    -- running, done, failed, interrupted
    state TEXT NOT NULL,
    shipment_count BIGINT NOT NULL,
    -- The carrier's id for it (a submission id), and its document (a manifest PDF).
    reference TEXT,
    document_type TEXT,
    document BLOB,
    error TEXT,
    created_at TEXT NOT NULL,
    finished_at TEXT,
    UNIQUE (company_id, id),
    FOREIGN KEY (company_id, carrier_id) REFERENCES carriers (company_id, id)
);
CREATE INDEX handovers_by_carrier ON handovers (company_id, carrier_id, id);

ALTER TABLE shipments ADD COLUMN handover_id BIGINT;
CREATE INDEX shipments_by_handover ON shipments (handover_id) WHERE handover_id IS NOT NULL;
