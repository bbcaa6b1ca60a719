-- The commerce core: companies, catalogs, shops, orders, documents, stock.
--
-- Every table carries company_id, and every reference between company-owned rows goes
-- through a composite foreign key (company_id, id), so a row of one company can never
-- point at a row of another even if a query forgot to check.
--
-- Portable types only, identical on SQLite and PostgreSQL (see migrations/postgres):
-- money and rates are exact decimal strings ("19.99"), quantities in the ledger and on
-- order lines are integers in ten-thousandths (so sums are exact in SQL), times are UTC
-- RFC 3339 strings with microseconds ("2026-11-28T23:08:02.123456Z", sortable as text),
-- flags are 0/1 integers.

CREATE TABLE companies (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY,
    company_id BIGINT NOT NULL REFERENCES companies (id),
    name TEXT NOT NULL,
    token_prefix TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    revoked_at TEXT,
    UNIQUE (company_id, id)
);

CREATE TABLE warehouses (
    id INTEGER PRIMARY KEY,
    company_id BIGINT NOT NULL REFERENCES companies (id),
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    UNIQUE (company_id, id),
    UNIQUE (company_id, code)
);

CREATE TABLE items (
    id INTEGER PRIMARY KEY,
    company_id BIGINT NOT NULL REFERENCES companies (id),
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    unit TEXT NOT NULL,
    vat_rate TEXT NOT NULL,
    price TEXT NOT NULL,
    barcode TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (company_id, id),
    UNIQUE (company_id, code)
);

CREATE TABLE customers (
    id INTEGER PRIMARY KEY,
    company_id BIGINT NOT NULL REFERENCES companies (id),
    name TEXT NOT NULL,
    company_name TEXT,
    email TEXT,
    email_key TEXT,
    phone TEXT,
    vat_id TEXT,
    vat_id_key TEXT,
    billing_address TEXT,
    delivery_address TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (company_id, id)
);
CREATE INDEX customers_by_email ON customers (company_id, email_key);
CREATE INDEX customers_by_vat_id ON customers (company_id, vat_id_key);

CREATE TABLE payment_methods (
    id INTEGER PRIMARY KEY,
    company_id BIGINT NOT NULL REFERENCES companies (id),
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    cash_on_delivery BIGINT NOT NULL DEFAULT 0,
    UNIQUE (company_id, id),
    UNIQUE (company_id, code)
);

CREATE TABLE shops (
    id INTEGER PRIMARY KEY,
    company_id BIGINT NOT NULL REFERENCES companies (id),
    name TEXT NOT NULL,
    plugin_id TEXT NOT NULL,
    warehouse_id BIGINT NOT NULL,
    update_existing BIGINT NOT NULL DEFAULT 0,
    stock_document TEXT NOT NULL DEFAULT 'delivery_note',
    stock_mode TEXT NOT NULL DEFAULT 'available',
    created_at TEXT NOT NULL,
    UNIQUE (company_id, id),
    FOREIGN KEY (company_id, warehouse_id) REFERENCES warehouses (company_id, id)
);

CREATE TABLE item_links (
    id INTEGER PRIMARY KEY,
    company_id BIGINT NOT NULL,
    shop_id BIGINT NOT NULL,
    item_id BIGINT NOT NULL,
    product_id TEXT NOT NULL,
    -- '' for a product without variations, so the pair stays unique.
    variation_id TEXT NOT NULL DEFAULT '',
    inventory_id TEXT,
    UNIQUE (company_id, shop_id, product_id, variation_id),
    FOREIGN KEY (company_id, shop_id) REFERENCES shops (company_id, id),
    FOREIGN KEY (company_id, item_id) REFERENCES items (company_id, id)
);
CREATE INDEX item_links_by_item ON item_links (company_id, item_id);

CREATE TABLE customer_links (
    id INTEGER PRIMARY KEY,
    company_id BIGINT NOT NULL,
    shop_id BIGINT NOT NULL,
    customer_id BIGINT NOT NULL,
    platform_id TEXT NOT NULL,
    UNIQUE (company_id, shop_id, platform_id),
    FOREIGN KEY (company_id, shop_id) REFERENCES shops (company_id, id),
    FOREIGN KEY (company_id, customer_id) REFERENCES customers (company_id, id)
);

CREATE TABLE payment_mappings (
    id INTEGER PRIMARY KEY,
    company_id BIGINT NOT NULL,
    shop_id BIGINT NOT NULL,
    raw_code TEXT NOT NULL,
    raw_title TEXT NOT NULL DEFAULT '',
    payment_method_id BIGINT NOT NULL,
    UNIQUE (company_id, shop_id, raw_code, raw_title),
    FOREIGN KEY (company_id, shop_id) REFERENCES shops (company_id, id),
    FOREIGN KEY (company_id, payment_method_id) REFERENCES payment_methods (company_id, id)
);

-- Raw methods seen on orders without a mapping: listed for the user, never dropped.
-- Written once per method (no counter: a hot row would serialise every import); how
-- many orders carry it is counted from the orders when listed.
CREATE TABLE unmapped_payment_methods (
    id INTEGER PRIMARY KEY,
    company_id BIGINT NOT NULL,
    shop_id BIGINT NOT NULL,
    raw_code TEXT NOT NULL,
    raw_title TEXT NOT NULL,
    first_seen_at TEXT NOT NULL,
    UNIQUE (company_id, shop_id, raw_code, raw_title),
    FOREIGN KEY (company_id, shop_id) REFERENCES shops (company_id, id)
);

CREATE TABLE status_mappings (
    id INTEGER PRIMARY KEY,
    company_id BIGINT NOT NULL,
    shop_id BIGINT NOT NULL,
    raw_status TEXT NOT NULL,
    host_status TEXT NOT NULL,
    UNIQUE (company_id, shop_id, raw_status),
    FOREIGN KEY (company_id, shop_id) REFERENCES shops (company_id, id)
);

-- Gapless sequences: one row per company, kind and year, incremented inside the
-- transaction that uses the number (a rolled-back transaction gives it back).
CREATE TABLE number_sequences (
    company_id BIGINT NOT NULL REFERENCES companies (id),
    kind TEXT NOT NULL,
    year BIGINT NOT NULL,
    last_seq BIGINT NOT NULL,
    PRIMARY KEY (company_id, kind, year)
);

CREATE TABLE orders (
    id INTEGER PRIMARY KEY,
    company_id BIGINT NOT NULL,
    shop_id BIGINT NOT NULL,
    warehouse_id BIGINT NOT NULL,
    number TEXT NOT NULL,
    external_id TEXT NOT NULL,
    external_number TEXT NOT NULL,
    status TEXT NOT NULL,
    shop_status TEXT NOT NULL,
    shop_status_raw TEXT NOT NULL,
    payment_status TEXT NOT NULL,
    payment_method_code TEXT,
    payment_method_title TEXT,
    payment_method_id BIGINT,
    currency TEXT NOT NULL,
    prices_include_tax BIGINT NOT NULL,
    customer_id BIGINT,
    billing_address TEXT,
    shipping_address TEXT,
    customer_note TEXT,
    discount_total TEXT NOT NULL,
    shipping_total TEXT NOT NULL,
    tax_total TEXT NOT NULL,
    total TEXT NOT NULL,
    shop_created_at TEXT NOT NULL,
    shop_modified_at TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    -- The normalized order as last applied: what documents are drafted from.
    content TEXT NOT NULL,
    touched_documents BIGINT NOT NULL DEFAULT 0,
    touched_content BIGINT NOT NULL DEFAULT 0,
    touched_status BIGINT NOT NULL DEFAULT 0,
    touched_shipment BIGINT NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (company_id, id),
    UNIQUE (company_id, shop_id, external_id),
    UNIQUE (company_id, number),
    FOREIGN KEY (company_id, shop_id) REFERENCES shops (company_id, id),
    FOREIGN KEY (company_id, warehouse_id) REFERENCES warehouses (company_id, id),
    FOREIGN KEY (company_id, customer_id) REFERENCES customers (company_id, id),
    FOREIGN KEY (company_id, payment_method_id) REFERENCES payment_methods (company_id, id)
);
CREATE INDEX orders_by_created ON orders (company_id, shop_created_at);
CREATE INDEX orders_by_payment_method ON orders (company_id, shop_id, payment_method_code);

CREATE TABLE order_lines (
    id INTEGER PRIMARY KEY,
    company_id BIGINT NOT NULL,
    order_id BIGINT NOT NULL,
    position BIGINT NOT NULL,
    item_id BIGINT,
    platform_line_id TEXT,
    sku TEXT,
    name TEXT NOT NULL,
    quantity TEXT NOT NULL,
    unit_price TEXT NOT NULL,
    discount TEXT NOT NULL,
    vat_rate TEXT NOT NULL,
    vat_amount TEXT NOT NULL,
    total TEXT NOT NULL,
    -- Ordered and moved out of stock, in ten-thousandths: what is reserved is their
    -- difference while the order is open.
    quantity_e4 BIGINT NOT NULL,
    delivered_e4 BIGINT NOT NULL DEFAULT 0,
    UNIQUE (company_id, order_id, position),
    FOREIGN KEY (company_id, order_id) REFERENCES orders (company_id, id),
    FOREIGN KEY (company_id, item_id) REFERENCES items (company_id, id)
);
-- Reservations: only lines with something left to deliver, so reading an item's
-- reserved quantity costs its open lines, not its whole sales history.
CREATE INDEX order_lines_open_by_item ON order_lines (company_id, item_id)
    WHERE quantity_e4 > delivered_e4;

CREATE TABLE order_history (
    id INTEGER PRIMARY KEY,
    company_id BIGINT NOT NULL,
    order_id BIGINT NOT NULL,
    at TEXT NOT NULL,
    source TEXT NOT NULL,
    action TEXT NOT NULL,
    detail TEXT NOT NULL,
    FOREIGN KEY (company_id, order_id) REFERENCES orders (company_id, id)
);
CREATE INDEX order_history_by_order ON order_history (company_id, order_id, id);

CREATE TABLE documents (
    id INTEGER PRIMARY KEY,
    company_id BIGINT NOT NULL,
    order_id BIGINT NOT NULL,
    kind TEXT NOT NULL,
    number TEXT NOT NULL,
    year BIGINT NOT NULL,
    seq BIGINT NOT NULL,
    state TEXT NOT NULL,
    reverses_id BIGINT,
    currency TEXT NOT NULL,
    issued_at TEXT NOT NULL,
    net TEXT NOT NULL,
    vat TEXT NOT NULL,
    rounding TEXT NOT NULL,
    gross TEXT NOT NULL,
    vat_recap TEXT NOT NULL,
    covers_whole_order BIGINT NOT NULL,
    moves_stock BIGINT NOT NULL,
    warehouse_id BIGINT NOT NULL,
    UNIQUE (company_id, id),
    UNIQUE (company_id, kind, year, seq),
    FOREIGN KEY (company_id, order_id) REFERENCES orders (company_id, id),
    FOREIGN KEY (company_id, reverses_id) REFERENCES documents (company_id, id),
    FOREIGN KEY (company_id, warehouse_id) REFERENCES warehouses (company_id, id)
);
CREATE INDEX documents_by_order ON documents (company_id, order_id);

CREATE TABLE document_lines (
    id INTEGER PRIMARY KEY,
    company_id BIGINT NOT NULL,
    document_id BIGINT NOT NULL,
    position BIGINT NOT NULL,
    -- Which order line this is ('item', 'shipping', 'fee' and its index); NULL for the
    -- rounding line.
    source_kind TEXT,
    source_index BIGINT,
    item_id BIGINT,
    sku TEXT,
    name TEXT NOT NULL,
    quantity TEXT NOT NULL,
    unit_price TEXT NOT NULL,
    discount TEXT NOT NULL,
    vat_rate TEXT NOT NULL,
    net TEXT NOT NULL,
    vat TEXT NOT NULL,
    gross TEXT NOT NULL,
    UNIQUE (company_id, document_id, position),
    FOREIGN KEY (company_id, document_id) REFERENCES documents (company_id, id),
    FOREIGN KEY (company_id, item_id) REFERENCES items (company_id, id)
);

CREATE TABLE stock_movements (
    id INTEGER PRIMARY KEY,
    company_id BIGINT NOT NULL,
    item_id BIGINT NOT NULL,
    warehouse_id BIGINT NOT NULL,
    quantity_e4 BIGINT NOT NULL,
    kind TEXT NOT NULL,
    document_id BIGINT,
    note TEXT,
    at TEXT NOT NULL,
    FOREIGN KEY (company_id, item_id) REFERENCES items (company_id, id),
    FOREIGN KEY (company_id, warehouse_id) REFERENCES warehouses (company_id, id),
    FOREIGN KEY (company_id, document_id) REFERENCES documents (company_id, id)
);
CREATE INDEX stock_movements_by_item ON stock_movements (company_id, item_id, warehouse_id, quantity_e4);
CREATE INDEX stock_movements_by_document ON stock_movements (company_id, document_id);

-- The running sum of the ledger per item and warehouse, kept in the same transaction
-- as every movement, so reading stock does not scan the ledger.
CREATE TABLE stock_balances (
    company_id BIGINT NOT NULL,
    item_id BIGINT NOT NULL,
    warehouse_id BIGINT NOT NULL,
    on_hand_e4 BIGINT NOT NULL,
    PRIMARY KEY (company_id, item_id, warehouse_id),
    FOREIGN KEY (company_id, item_id) REFERENCES items (company_id, id),
    FOREIGN KEY (company_id, warehouse_id) REFERENCES warehouses (company_id, id)
);

-- Outbox: one row per change of an item's stock (on hand or reserved) in a warehouse,
-- written in the transaction that changed it; the stock push consumes it.
CREATE TABLE stock_changes (
    id INTEGER PRIMARY KEY,
    company_id BIGINT NOT NULL,
    item_id BIGINT NOT NULL,
    warehouse_id BIGINT NOT NULL,
    reason TEXT NOT NULL,
    at TEXT NOT NULL,
    FOREIGN KEY (company_id, item_id) REFERENCES items (company_id, id),
    FOREIGN KEY (company_id, warehouse_id) REFERENCES warehouses (company_id, id)
);
