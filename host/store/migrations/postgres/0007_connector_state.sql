-- Connector state: a small key-value store per connector account (a shop or carrier
-- connection of a company), which connectors use for OAuth tokens, cursors and cached
-- ids. Values are base64 text (plain) or sealed with the service's secret key.
CREATE TABLE connector_state (
    company_id BIGINT NOT NULL REFERENCES companies (id),
    -- `shop-3`, `carrier-7`.
    account TEXT NOT NULL,
    plugin_id TEXT NOT NULL,
    state_key TEXT NOT NULL,
    state_value TEXT NOT NULL,
    sealed BIGINT NOT NULL DEFAULT 0,
    -- Bytes of key and value as the connector gave them: what the quota counts.
    size BIGINT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (company_id, account, plugin_id, state_key)
);
