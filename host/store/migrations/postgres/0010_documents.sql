-- The company's profile: what its documents say about it, and the calendar and
-- language they are written in. One row per company; a company without one issues
-- documents under its name, dated in Europe/Ljubljana, in Slovenian.
CREATE TABLE company_profiles (
    company_id BIGINT PRIMARY KEY REFERENCES companies (id),
    legal_name TEXT,
    street TEXT,
    postal_code TEXT,
    city TEXT,
    country TEXT,
    vat_id TEXT,
    registration_number TEXT,
    iban TEXT,
    bic TEXT,
    email TEXT,
    phone TEXT,
    footer TEXT,
    logo_type TEXT,
    logo BYTEA,
    time_zone TEXT NOT NULL,
    language TEXT NOT NULL,
    -- Days from issue to the due date of an unpaid invoice.
    payment_days BIGINT NOT NULL,
    updated_at TEXT NOT NULL
);

-- Credit notes refer to the invoice they credit, and to the shop's refund they came
-- from (one credit note per refund).
ALTER TABLE documents ADD COLUMN credits_id BIGINT REFERENCES documents (id);
ALTER TABLE documents ADD COLUMN refund_id TEXT;
CREATE INDEX documents_by_credited ON documents (company_id, credits_id) WHERE credits_id IS NOT NULL;
CREATE UNIQUE INDEX documents_one_per_refund ON documents (company_id, order_id, refund_id)
    WHERE refund_id IS NOT NULL;

-- Whether the shop's refunds become credit notes by themselves (auto) or are offered
-- to a person (offer).
ALTER TABLE shops ADD COLUMN credit_notes TEXT NOT NULL DEFAULT 'offer';
