-- Replace every discovered narrative, its members, its assignments; append this run's lineage.
DELETE FROM paragraph_narratives WHERE method = 'discovered';
DELETE FROM narratives WHERE origin = 'discovered';
DELETE FROM discovered_members;
INSERT INTO narratives BY NAME
SELECT * FROM staged_narratives;
INSERT INTO discovered_members BY NAME
SELECT narrative_id, text_hash, score FROM staged_members;
INSERT INTO narrative_lineage BY NAME
SELECT * FROM staged_lineage;
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
