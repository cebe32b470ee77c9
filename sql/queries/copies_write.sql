-- Store the new LSH band keys (staged_bands) and the copy groups that changed (staged_groups); $rebuild empties
-- both tables first. One transaction (the caller's).
DELETE FROM text_minhash WHERE $rebuild;
DELETE FROM text_copy_groups WHERE $rebuild;
INSERT INTO text_minhash BY NAME
SELECT text_hash, band, bucket FROM staged_bands;
DELETE FROM text_copy_groups WHERE text_hash IN (SELECT text_hash FROM staged_groups);
INSERT INTO text_copy_groups BY NAME
SELECT text_hash, group_id, similarity, $now AS linked_at FROM staged_groups;
