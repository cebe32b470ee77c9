-- Near-duplicate paragraphs (syndication with edits): narrative_tracker/network/syndication.py. Derived data,
-- maintained incrementally by the paragraph_copies asset; the views paragraph_copies / paragraph_syndication read it.

-- text_minhash: the MinHash LSH index, one row per distinct text (of 8 words or more) and band.
CREATE TABLE IF NOT EXISTS text_minhash (
    text_hash   VARCHAR NOT NULL,   -- joins paragraphs.text_hash
    band        SMALLINT NOT NULL,  -- LSH band (0 .. bands - 1)
    bucket      BIGINT NOT NULL     -- hash of the band's MinHash values: texts sharing (band, bucket) are candidate copies
);

-- text_copy_groups: texts that are copies of one another (verified near-duplicates, connected into groups).
CREATE TABLE IF NOT EXISTS text_copy_groups (
    text_hash   VARCHAR NOT NULL,   -- joins paragraphs.text_hash
    group_id    VARCHAR NOT NULL,   -- the group (the smallest text_hash it started from)
    similarity  DOUBLE,             -- its best overlap coefficient with another member (word 3-shingles)
    linked_at   TIMESTAMP NOT NULL  -- UTC, when it joined its group
);
