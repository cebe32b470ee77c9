-- Distinct paragraph texts with a vector for $model that no codebook narrative claimed anywhere.
SELECT e.text_hash, any_value(p.text) AS text, any_value(e.embedding) AS embedding, any_value(p.language) AS language
FROM paragraphs AS p
JOIN paragraph_embeddings AS e ON e.text_hash = p.text_hash AND e.model = $model
WHERE NOT EXISTS (
    SELECT 1
    FROM paragraph_narratives AS pn
    JOIN paragraphs AS claimed USING (paragraph_id)
    WHERE pn.method = 'codebook' AND claimed.text_hash = p.text_hash
)
GROUP BY e.text_hash
ORDER BY e.text_hash;
