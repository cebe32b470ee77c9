-- narratives: every narrative the pipeline knows — from the codebook, or discovered by clustering.
CREATE TABLE IF NOT EXISTS narratives (
    narrative_id                  VARCHAR PRIMARY KEY, -- codebook id (e.g. 'foreign_hand') or 'd_' + 10 hex for discovered ones
    label                         VARCHAR NOT NULL,    -- human name; for discovered narratives the top distinctive terms
    description                   VARCHAR,             -- codebook description; for discovered ones the most central paragraph
    origin                        VARCHAR NOT NULL,    -- 'codebook' | 'discovered'
    keywords                      VARCHAR[],           -- codebook keyword patterns
    threshold                     DOUBLE,              -- codebook operating point on paragraph_narratives.score
    terms                         VARCHAR[],           -- discovered: c-TF-IDF terms, most distinctive first
    paragraphs                    INTEGER NOT NULL,    -- paragraphs assigned at the last run
    representative_paragraph_ids  VARCHAR[],           -- paragraphs that show it best (highest score / closest to centre)
    status                        VARCHAR,             -- 'active' | 'rejected' | 'merged' | 'promoted' (analyst decisions)
    created_at                    TIMESTAMP NOT NULL,  -- UTC, first time the narrative was written
    updated_at                    TIMESTAMP NOT NULL   -- UTC, last run that wrote it
);
