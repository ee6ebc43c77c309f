-- What the product caps where text enters, the store caps too, whoever
-- writes: a reason of 96 MB in the audit made every console that read it
-- spend seconds and hundreds of MB. NOT VALID: rows already there are
-- kept as they are; every new or changed row is checked.
ALTER TABLE audit ADD CONSTRAINT audit_reason_bounded
    CHECK (reason IS NULL OR pg_catalog.char_length(reason) <= 1000) NOT VALID;
ALTER TABLE journeys ADD CONSTRAINT journeys_name_bounded
    CHECK (pg_catalog.char_length(name) <= 200) NOT VALID;
