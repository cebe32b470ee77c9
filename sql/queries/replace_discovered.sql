-- Replace every discovered narrative and its assignments with the staged clustering result.
DELETE FROM paragraph_narratives WHERE method = 'discovered';
DELETE FROM narratives WHERE origin = 'discovered';
INSERT INTO narratives BY NAME
SELECT * FROM staged_narratives;
INSERT INTO paragraph_narratives BY NAME
SELECT
    p.paragraph_id,
    m.narrative_id,
    p.partition_date,
    m.score,
    NULL AS confidence,
    NULL AS similarity,
    NULL AS keyword_match,
    'discovered' AS method,
    m.evidence,
    NULL AS evidence_score,
    m.stance,
    m.stance_cue,
    $model AS model,
    $now AS assigned_at
FROM staged_members AS m
JOIN paragraphs AS p USING (text_hash);
