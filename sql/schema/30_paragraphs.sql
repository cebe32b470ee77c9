-- paragraphs: cleaned narrative text, one row per kept paragraph, in article order.
-- Rewritten per daily partition (delete + insert in one transaction).
CREATE TABLE IF NOT EXISTS paragraphs (
    paragraph_id    VARCHAR NOT NULL,   -- article_id || '-' || position (zero-padded)
    article_id      VARCHAR NOT NULL,   -- joins articles
    partition_date  DATE NOT NULL,      -- the article's partition_date
    position        INTEGER NOT NULL,   -- 0-based order among the article's kept paragraphs
    block_index     INTEGER NOT NULL,   -- 0-based order among all blocks of the body, dropped ones included
    kind            VARCHAR NOT NULL,   -- body | heading (a cross-heading inside the article)
    text            VARCHAR NOT NULL,   -- whitespace-normalised paragraph text
    text_hash       VARCHAR NOT NULL,   -- SHA-256 (32 hex) of the text: identical text, identical hash
    word_count      INTEGER NOT NULL,
    language        VARCHAR             -- ISO 639-1 of this paragraph (py3langid; the article's when unsure); NULL if unknown
);
