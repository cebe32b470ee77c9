-- The week's top narratives (a discovered one with its codebook frame, parent_label), with the change in paragraphs
-- against the 7 days before ($language: only paragraphs in that language; NULL = all). outlets counts the named
-- outlets; unknown_outlet: some paragraphs come from articles whose outlet the source did not name (the report
-- says so instead of showing 0).
-- independent_outlets counts an outlet only for paragraphs that are no copy of another outlet's (paragraph_copies).
WITH this_week AS (
    SELECT pn.narrative_id, count(DISTINCT pn.paragraph_id) AS paragraphs,
           count(DISTINCT pn.paragraph_id) FILTER (WHERE pn.stance = 'asserts') AS asserted,
           count(DISTINCT pn.paragraph_id) FILTER (WHERE pn.stance IS NULL) AS unknown_stance,
           count(DISTINCT a.outlet) AS outlets,
           bool_or(a.outlet IS NULL) AS unknown_outlet,
           count(DISTINCT a.outlet) FILTER (WHERE NOT coalesce(c.copied, false)) AS independent_outlets
    FROM paragraph_narratives AS pn JOIN paragraphs AS p USING (paragraph_id) JOIN articles AS a USING (article_id)
    LEFT JOIN paragraph_copies AS c USING (paragraph_id)
    WHERE pn.partition_date BETWEEN $start AND $end AND ($language IS NULL OR p.language = $language)
    GROUP BY ALL
),
week_before AS (
    SELECT pn.narrative_id, count(DISTINCT pn.paragraph_id) AS paragraphs
    FROM paragraph_narratives AS pn JOIN paragraphs AS p USING (paragraph_id)
    WHERE pn.partition_date BETWEEN $start - INTERVAL 7 DAY AND $start - INTERVAL 1 DAY
      AND ($language IS NULL OR p.language = $language)
    GROUP BY ALL
)
SELECT t.narrative_id, n.label, n.origin, n.terms, n.parent_narrative_id, f.label AS parent_label,
       t.paragraphs, t.asserted, t.unknown_stance, t.outlets, t.unknown_outlet, t.independent_outlets,
       t.paragraphs - coalesce(b.paragraphs, 0) AS change
FROM this_week AS t JOIN narratives AS n USING (narrative_id) LEFT JOIN week_before AS b USING (narrative_id)
LEFT JOIN narratives AS f ON f.narrative_id = n.parent_narrative_id
ORDER BY t.paragraphs DESC, t.narrative_id
LIMIT $top;
