-- Insert staged quarantine records; a record seen before (same id) is kept with its first_seen_at.
INSERT INTO quarantine BY NAME
SELECT s.*
FROM staged_quarantine AS s
ANTI JOIN quarantine AS q USING (quarantine_id);
