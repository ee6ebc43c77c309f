-- What the product caps where text enters, the store caps too, whoever
-- writes (a member of a group sharing the file included): reasons at
-- 1,000 characters, journey names at 200.
CREATE TRIGGER audit_reason_bounded BEFORE INSERT ON audit
WHEN NEW.reason IS NOT NULL AND length(NEW.reason) > 1000
BEGIN
    SELECT RAISE(ABORT, 'an audit reason is at most 1000 characters');
END;
CREATE TRIGGER journeys_name_bounded_insert BEFORE INSERT ON journeys
WHEN length(NEW.name) > 200
BEGIN
    SELECT RAISE(ABORT, 'a journey name is at most 200 characters');
END;
CREATE TRIGGER journeys_name_bounded_update BEFORE UPDATE OF name ON journeys
WHEN length(NEW.name) > 200
BEGIN
    SELECT RAISE(ABORT, 'a journey name is at most 200 characters');
END;
