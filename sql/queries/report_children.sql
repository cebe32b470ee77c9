-- The two levels in the report: for each codebook narrative of $ids, the discovered narratives inside it (parent)
-- that carry the most paragraphs in the week, at most 3 each ($language: only paragraphs in that language).
SELECT * FROM (
    SELECT n.parent_narrative_id, n.narrative_id, n.label, count(DISTINCT pn.paragraph_id) AS paragraphs,
           row_number() OVER (PARTITION BY n.parent_narrative_id
                              ORDER BY count(DISTINCT pn.paragraph_id) DESC, n.narrative_id) AS rank
    FROM narratives AS n
    JOIN paragraph_narratives AS pn USING (narrative_id)
    JOIN paragraphs AS p USING (paragraph_id)
    WHERE list_contains($ids, n.parent_narrative_id) AND pn.partition_date BETWEEN $start AND $end
      AND ($language IS NULL OR p.language = $language)
    GROUP BY n.parent_narrative_id, n.narrative_id, n.label
)
WHERE rank <= 3
ORDER BY parent_narrative_id, rank;
