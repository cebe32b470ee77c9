-- Distinct paragraph texts of $min_words words or more that text_minhash does not index yet (all of them when
-- $rebuild: the index starts over).
SELECT p.text_hash, any_value(p.text) AS text
FROM paragraphs AS p
WHERE p.word_count >= $min_words
  AND ($rebuild OR NOT EXISTS (SELECT 1 FROM text_minhash AS m WHERE m.text_hash = p.text_hash AND m.band = 0))
GROUP BY p.text_hash
ORDER BY p.text_hash;
