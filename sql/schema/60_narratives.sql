-- narratives: every narrative the pipeline knows — from the codebook, or discovered by clustering.
CREATE TABLE IF NOT EXISTS narratives (
    narrative_id                  VARCHAR PRIMARY KEY, -- codebook id (e.g. 'foreign_hand') or 'd_' + 10 hex for discovered ones
    label                         VARCHAR NOT NULL,    -- what is shown first: codebook name; discovered: the claim label (until an analyst renames it)
    description                   VARCHAR,             -- codebook description; for discovered ones the most central paragraph
    origin                        VARCHAR NOT NULL,    -- 'codebook' | 'discovered'
    keywords                      VARCHAR[],           -- codebook keyword patterns
    threshold                     DOUBLE,              -- codebook operating point on paragraph_narratives.score
    terms                         VARCHAR[],           -- discovered: distinctive terms (c-TF-IDF candidates re-ranked by MMR; no stop words)
    paragraphs                    INTEGER NOT NULL,    -- paragraphs assigned at the last run
    representative_paragraph_ids  VARCHAR[],           -- paragraphs that show it best (highest score / closest to centre)
    status                        VARCHAR,             -- 'active' | 'rejected' | 'merged' | 'promoted' (analyst decisions)
    created_at                    TIMESTAMP NOT NULL,  -- UTC, first time the narrative was written
    updated_at                    TIMESTAMP NOT NULL,  -- UTC, last run that wrote it
    claim_label                   VARCHAR,             -- what the narrative claims, one sentence: discovered: its most central member sentence
                                                       -- (narrative_tracker/claims.py); codebook: NULL (its examples carry the claim)
    parent_narrative_id           VARCHAR,             -- discovered: the codebook narrative (the frame) more than half of its member texts carry,
                                                       -- NULL outside every frame, and for codebook narratives (two levels: docs/methods.md)
    parent_share                  DOUBLE               -- discovered: share of its member texts that carry that parent (NULL without one)
);
