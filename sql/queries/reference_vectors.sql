-- A fixed-size, repeatable sample of the corpus's paragraph vectors for $model: the background against which a
-- narrative without its own threshold gets its operating point (detect.relative_assigned).
SELECT embedding FROM paragraph_embeddings WHERE model = $model
ORDER BY hash(text_hash) LIMIT 2000;
