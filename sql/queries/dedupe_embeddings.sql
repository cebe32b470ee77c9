-- On DuckLake (no primary key), keep one vector per (text_hash, model) among the texts just inserted: two
-- workers that embedded the same text at the same time both appended it. The same row (lowest rowid) is kept
-- whichever worker runs this, so two concurrent runs agree.
DELETE FROM paragraph_embeddings
WHERE model = $model
  AND text_hash IN (SELECT text_hash FROM staged_embeddings)
  AND rowid NOT IN (
      SELECT min(rowid) FROM paragraph_embeddings
      WHERE model = $model AND text_hash IN (SELECT text_hash FROM staged_embeddings)
      GROUP BY text_hash
  );
