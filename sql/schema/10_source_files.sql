-- source_files: every input file the ingest stage has read, once per (content, options).
-- A file whose bytes and ingest options were seen before is not parsed again.
CREATE TABLE IF NOT EXISTS source_files (
    source_sha256       VARCHAR NOT NULL,   -- SHA-256 of the file's bytes
    options_fingerprint VARCHAR NOT NULL,   -- hash of the ingest options (column mapping...) used
    path                VARCHAR NOT NULL,   -- path as given on the first ingest
    format              VARCHAR,            -- text | html | csv | jsonl | feed; NULL when undecodable
    encoding            VARCHAR,            -- the encoding the bytes were decoded with
    size_bytes          BIGINT NOT NULL,
    articles            INTEGER NOT NULL,   -- articles parsed from the file
    new_articles        INTEGER NOT NULL,   -- of those, articles not already in the database
    quarantined         INTEGER NOT NULL,   -- records sent to quarantine
    ingested_at         TIMESTAMP NOT NULL, -- UTC
    PRIMARY KEY (source_sha256, options_fingerprint)
);
