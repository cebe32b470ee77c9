-- Candidate copies of the texts being indexed (staged_bands): the texts that share an LSH band key with one of
-- them, whether indexed before (ignored when $rebuild, which starts the index over) or in this run.
SELECT DISTINCT s.text_hash AS a, o.text_hash AS b
FROM staged_bands AS s
JOIN (
    SELECT text_hash, band, bucket FROM text_minhash WHERE NOT $rebuild
    UNION ALL
    SELECT text_hash, band, bucket FROM staged_bands
) AS o USING (band, bucket)
WHERE o.text_hash <> s.text_hash;
