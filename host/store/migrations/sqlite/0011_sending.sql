-- How a company sends its documents: its SMTP server and sender. The password is
-- sealed by the service like a connector's secrets; the store never reads it.
CREATE TABLE company_smtp (
    company_id BIGINT PRIMARY KEY REFERENCES companies (id),
    host TEXT NOT NULL,
    port BIGINT NOT NULL,
    -- none, starttls, tls
    security TEXT NOT NULL,
    username TEXT,
    sealed_password TEXT,
    from_address TEXT NOT NULL,
    from_name TEXT,
    reply_to TEXT,
    updated_at TEXT NOT NULL
);

-- Documents to e-mail: a queue with retries. The outcome stays on the row, so a
-- document shows when and to whom it went, or why it did not.
CREATE TABLE document_sends (
    id INTEGER PRIMARY KEY,
    company_id BIGINT NOT NULL,
    document_id BIGINT NOT NULL,
    -- JSON array of addresses.
    recipients TEXT NOT NULL,
    -- eslog, ubl, or NULL for the PDF only.
    einvoice TEXT,
    -- queued, sent, failed
    state TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    next_attempt_at TEXT,
    lease_owner TEXT,
    lease_until TEXT,
    last_error TEXT,
    message_id TEXT,
    created_at TEXT NOT NULL,
    sent_at TEXT,
    UNIQUE (company_id, id),
    FOREIGN KEY (company_id, document_id) REFERENCES documents (company_id, id)
);
CREATE INDEX document_sends_due ON document_sends (next_attempt_at) WHERE state = 'queued';
CREATE INDEX document_sends_by_document ON document_sends (company_id, document_id);
