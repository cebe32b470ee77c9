-- paragraph_narratives: which paragraph carries which narrative (multi-label), with score and evidence.
CREATE TABLE IF NOT EXISTS paragraph_narratives (
    paragraph_id    VARCHAR NOT NULL,   -- joins paragraphs
    narrative_id    VARCHAR NOT NULL,   -- joins narratives
    partition_date  DATE NOT NULL,      -- the paragraph's day
    score           DOUBLE NOT NULL,    -- codebook: combined score compared with the threshold; discovered: cosine to the cluster centre
    confidence      DOUBLE,             -- codebook: calibrated probability, comparable across narratives (NULL if uncalibrated)
    similarity      DOUBLE,             -- codebook: mean cosine to the closest examples (before keyword / context terms)
    keyword_match   BOOLEAN,            -- codebook: a keyword pattern matched the paragraph
    method          VARCHAR NOT NULL,   -- 'codebook' | 'discovered'
    evidence        VARCHAR,            -- codebook: the closest example statement; discovered: the claim label
    evidence_score  DOUBLE,             -- codebook: cosine to that example
    stance          VARCHAR,            -- 'asserts' | 'reports' | 'refutes': stance of this paragraph towards THIS narrative
                                        --   (the pair model, narratives/pair_model.py; without it the frozen-feature stance model); NULL = unknown
    stance_cue      VARCHAR,            -- readable reason: the cue words that decided it, or 'question'
    stance_confidence DOUBLE,           -- the stance model's probability of that stance (NULL: cue-lexicon fallback)
    stance_model    VARCHAR,            -- stance model version that decided it (NULL: cue-lexicon fallback / older rows)
    model           VARCHAR NOT NULL,   -- embedding model the score comes from
    assigned_at     TIMESTAMP NOT NULL, -- UTC
    detection_model VARCHAR,            -- codebook: what proposed it (stage 1): 'similarity' (codebook similarity detector) or
                                        --   'heads:<version>:<material sha>' (trained heads, narratives/heads.py); NULL: discovered / older rows
    related         DOUBLE,             -- codebook: the pair model's probability that the paragraph carries the narrative
                                        --   (stage 2, narratives/judge.py); NULL: stage 1 decided (pair model off, or a language it does not read)
    pair_model      VARCHAR             -- codebook: 'pair:<version>' of the pair model that decided it (and its stance); NULL: stage 1 decided
);
