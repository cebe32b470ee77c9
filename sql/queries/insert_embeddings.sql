INSERT INTO paragraph_embeddings BY NAME
SELECT s.*
FROM staged_embeddings AS s
ANTI JOIN (SELECT text_hash FROM paragraph_embeddings WHERE model = $model) AS e USING (text_hash);
