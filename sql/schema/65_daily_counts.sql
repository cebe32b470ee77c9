-- narrative_daily_counts: per day and narrative, the counts behind the narrative_daily view.
-- Derived data: rebuilt from paragraph_narratives, paragraphs and articles in the same transaction that changes
-- them (sql/queries/refresh_daily_counts.sql), so the trend views read a few thousand rows, not millions.
CREATE TABLE IF NOT EXISTS narrative_daily_counts (
    day             DATE NOT NULL,      -- the paragraphs' partition_date
    narrative_id    VARCHAR NOT NULL,   -- joins narratives
    paragraphs      BIGINT NOT NULL,    -- distinct paragraphs carrying the narrative that day
    asserted        BIGINT NOT NULL,    -- of which stance 'asserts'
    reported        BIGINT NOT NULL,    -- of which stance 'reports'
    refuted         BIGINT NOT NULL,    -- of which stance 'refutes'
    articles        BIGINT NOT NULL,    -- distinct articles
    outlets         BIGINT NOT NULL,    -- distinct outlets
    unknown_stance  BIGINT              -- of which stance unknown (NULL: no stance could be computed)
);

-- daily_paragraph_counts: paragraphs per day (the denominator of every share), rebuilt with narrative_daily_counts.
CREATE TABLE IF NOT EXISTS daily_paragraph_counts (
    day             DATE NOT NULL,      -- partition_date
    paragraphs      BIGINT NOT NULL     -- paragraphs kept that day
);
