-- Keep codebook_examples in step with the codebook file (staged_wanted: every example now in the file;
-- staged_examples: the ones with no embedding yet for $model).
DELETE FROM codebook_examples AS e
WHERE e.model = $model
  AND NOT EXISTS (
      SELECT 1 FROM staged_wanted AS w
      WHERE w.narrative_id = e.narrative_id AND w.position = e.position AND w.text = e.text
  );
INSERT INTO codebook_examples BY NAME
SELECT * FROM staged_examples;
