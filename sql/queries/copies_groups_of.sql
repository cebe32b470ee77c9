-- Every member of the copy groups that hold one of the staged hashes (none when $rebuild: the groups start over).
SELECT g.text_hash, g.group_id, g.similarity
FROM text_copy_groups AS g
WHERE NOT $rebuild
  AND g.group_id IN (SELECT group_id FROM text_copy_groups WHERE text_hash IN (SELECT text_hash FROM staged_hashes));
