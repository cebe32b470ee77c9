-- input_files: every path the ingest stage met, with what became of it (the latest ingest that met it).
-- Nothing is dropped silently: a path is 'ingested' (at least one article), 'quarantined' (no article; its
-- records are in quarantine) or 'skipped' (not read: hidden, README/licence, link to a folder, unchanged).
CREATE TABLE IF NOT EXISTS input_files (
    path           VARCHAR PRIMARY KEY, -- as found under the inputs
    outcome        VARCHAR NOT NULL,    -- ingested | quarantined | skipped
    reason         VARCHAR,             -- why quarantined / skipped; ingested: what was repaired ('repaired: ...'), else NULL
    source_sha256  VARCHAR,             -- SHA-256 of the bytes read; NULL when not read
    articles       INTEGER NOT NULL,    -- articles parsed from it by that ingest
    quarantined    INTEGER NOT NULL,    -- quarantine records it gave in that ingest
    ingest_id      VARCHAR NOT NULL,    -- the ingest (see the articles asset's metadata) that met it last
    seen_at        TIMESTAMP NOT NULL   -- UTC
);
