SELECT narrative_id, position, text, embedding
FROM codebook_examples
WHERE model = $model
ORDER BY narrative_id, position;
