-- Shipping hardening: references a shipment never used are given back, carrier
-- refusals keep the field they name, and carrier connections say how cash on delivery
-- is rounded and which order number references are made from.

-- 1 when the host refused to send the shipment (egress policy, a plugin it could not
-- run): nothing reached the carrier, so its reference is free for the order's next
-- shipment. The `reference` column then holds a key no real reference takes, and
-- the plan keeps the reference it was planned with.
ALTER TABLE shipments ADD COLUMN reference_released BIGINT NOT NULL DEFAULT 0;
-- The field a refusal names, in the host's naming (`shipping.postal_code`).
ALTER TABLE shipments ADD COLUMN error_field TEXT;

-- The step cash on delivery taken from the order is rounded to, per currency (JSON:
-- {"CZK": "1", "HUF": "5"}); currencies not listed are sent as they are.
ALTER TABLE carriers ADD COLUMN cod_rounding TEXT NOT NULL DEFAULT '{}';
-- Which order number shipment and payment references carry: auto (the shop's when
-- it is unique within the company, else tovor's), shop or tovor.
ALTER TABLE carriers ADD COLUMN order_reference TEXT NOT NULL DEFAULT 'auto';
-- Whether another order of the company shares an order's shop number.
CREATE INDEX orders_by_external_number ON orders (company_id, external_number);
