-- A shop can be disabled (no sync, no intake, no stock push, its webhooks removed from
-- the platform) without losing its orders; and the host remembers which webhook
-- subscriptions it made on the platform, so it can remove them again.
ALTER TABLE shops ADD COLUMN enabled BIGINT NOT NULL DEFAULT 1;
-- JSON: {"state": "registered" | "manual" | "failed", "url", "webhooks": [{"id", "topic"}],
-- "message"}; NULL until the host first set the shop's webhooks up.
ALTER TABLE shops ADD COLUMN webhook_setup TEXT;
