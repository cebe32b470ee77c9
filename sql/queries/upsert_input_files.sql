-- What became of every path of one ingest; a path met again is updated (re-runs add no rows).
INSERT INTO input_files BY NAME
SELECT * FROM staged_input_files
ON CONFLICT (path) DO UPDATE SET
    outcome = excluded.outcome, reason = excluded.reason, source_sha256 = excluded.source_sha256,
    articles = excluded.articles, quarantined = excluded.quarantined, ingest_id = excluded.ingest_id,
    seen_at = excluded.seen_at;
