-- discovered_members: the raw clustering result (which distinct paragraph text belongs to which discovered
-- narrative), kept apart from analyst decisions so the next run can match its clusters to these.
CREATE TABLE IF NOT EXISTS discovered_members (
    narrative_id  VARCHAR NOT NULL,  -- discovered narrative
    text_hash     VARCHAR NOT NULL,  -- joins paragraphs.text_hash
    score         DOUBLE NOT NULL,   -- cosine to the cluster centre
    PRIMARY KEY (narrative_id, text_hash)
);

-- narrative_lineage: how discovered narratives carried over between runs.
CREATE TABLE IF NOT EXISTS narrative_lineage (
    run_at                TIMESTAMP NOT NULL, -- UTC, the discovery run
    event                 VARCHAR NOT NULL,   -- 'new' | 'continued' | 'split' | 'merged' | 'retired'
    narrative_id          VARCHAR NOT NULL,   -- the narrative the event is about
    related_narrative_id  VARCHAR,            -- split: the parent; merged: the narrative it merged into
    overlap               DOUBLE,             -- continued: Jaccard of the member sets; split/merged: share of the parent's members
    members               INTEGER             -- members (distinct texts) after the run; 0 for retired
);

-- narrative_decisions: analyst decisions that persist across runs (CLI: narratives narrative ...).
CREATE TABLE IF NOT EXISTS narrative_decisions (
    narrative_id  VARCHAR NOT NULL,   -- the narrative decided on
    action        VARCHAR NOT NULL,   -- 'rename' | 'merge' | 'reject' | 'promote'
    value         VARCHAR,            -- rename: the new label; merge: the target narrative; promote: the codebook id
    decided_at    TIMESTAMP NOT NULL, -- UTC
    note          VARCHAR             -- free text from the analyst
);
