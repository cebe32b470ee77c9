-- quarantine: input that could not become an article, with the reason; nothing is dropped silently.
CREATE TABLE IF NOT EXISTS quarantine (
    quarantine_id  VARCHAR PRIMARY KEY, -- hash of file content, locator, reason, excerpt: re-runs add nothing
    source_path    VARCHAR NOT NULL,    -- the input file
    source_sha256  VARCHAR NOT NULL,
    locator        VARCHAR,             -- row / line / entry inside the file; NULL for the whole file
    reason         VARCHAR NOT NULL,    -- short reason: 'empty file', 'binary file', 'undecodable bytes', 'row without text', ...
    detail         VARCHAR,             -- a human explanation
    excerpt        VARCHAR,             -- the first ~200 characters of the offending input (bad bytes escaped)
    first_seen_at  TIMESTAMP NOT NULL   -- UTC
);
