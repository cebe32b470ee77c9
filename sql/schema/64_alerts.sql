-- alerts: spikes and emerging narratives, recomputed by the `alerts` asset (method: README, "Alerts").
CREATE TABLE IF NOT EXISTS alerts (
    alert_id        VARCHAR PRIMARY KEY, -- kind + narrative + day
    day             DATE NOT NULL,       -- the day that triggered it
    narrative_id    VARCHAR NOT NULL,    -- joins narratives
    parent_narrative_id VARCHAR,         -- a discovered narrative's codebook frame (narratives.parent_narrative_id); NULL: none
    kind            VARCHAR NOT NULL,    -- 'spike' | 'emerging'
    paragraphs      INTEGER NOT NULL,    -- the narrative's paragraphs that day
    share           DOUBLE,              -- its share of the day's paragraphs
    baseline_share  DOUBLE,              -- spike: mean share over the 28 days before
    z_score         DOUBLE,              -- spike: (share - baseline) / max(std, 0.01)
    message         VARCHAR NOT NULL,    -- one line for people
    created_at      TIMESTAMP NOT NULL   -- UTC
);
