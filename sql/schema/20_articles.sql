-- articles: one row per article, keyed by a content-based id (re-ingesting adds nothing).
CREATE TABLE IF NOT EXISTS articles (
    article_id         VARCHAR PRIMARY KEY, -- SHA-256 (32 hex) of outlet, url, title and text
    outlet             VARCHAR,             -- first outlet named by the source ("Source:" line, site name, column)
    outlets            VARCHAR[],           -- every outlet the source names (multi-outlet rows)
    title              VARCHAR,             -- the headline; never part of the paragraphs
    author             VARCHAR,
    url                VARCHAR,
    external_id        VARCHAR,             -- the source's own id (CSV/JSON id column, feed guid)
    published_date     DATE,                -- publication day; NULL when no usable date was found
    date_source        VARCHAR NOT NULL,    -- text | metadata | file | none
    date_raw           VARCHAR,             -- the string the date was read from
    partition_date     DATE NOT NULL,       -- daily partition: published_date, else the UTC day of ingestion
    language           VARCHAR,             -- ISO 639-1 code detected from title + text (py3langid); NULL if too short
    language_score     DOUBLE,              -- the detector's probability for that language
    declared_language  VARCHAR,             -- language as the source declares it, verbatim
    tags               VARCHAR[],           -- tags / keywords from the source
    body               VARCHAR NOT NULL,    -- article text before cleaning (headline and metadata lines removed)
    source_path        VARCHAR NOT NULL,    -- the input file
    source_sha256      VARCHAR NOT NULL,    -- the input file's SHA-256 (joins source_files)
    source_format      VARCHAR NOT NULL,    -- text | html | csv | jsonl | feed
    source_locator     VARCHAR,             -- row / line / entry inside the file
    metadata           JSON,                -- source fields with no column of their own
    ingested_at        TIMESTAMP NOT NULL   -- UTC, first ingestion
);
