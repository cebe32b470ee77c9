-- The outlet influence network (narrative_tracker/network/influence.py; method in docs/methods.md).
-- Derived data: recomputed from paragraph_narratives by the outlet_influence asset (nightly: only the narratives
-- whose adoptions changed; a full rebuild when the settings change or many narratives changed).

-- narrative_cascades: for each narrative, the outlets that took it up, when, and from whom most likely.
CREATE TABLE IF NOT EXISTS narrative_cascades (
    narrative_id     VARCHAR NOT NULL,   -- joins narratives
    outlet           VARCHAR NOT NULL,   -- every outlet an article names (articles.outlets), not only the first
    first_day        DATE NOT NULL,      -- the outlet's first day carrying the narrative (refuting paragraphs excluded)
    paragraphs       BIGINT NOT NULL,    -- its paragraphs carrying the narrative (refuting ones excluded)
    lag_days         INTEGER NOT NULL,   -- days after the narrative's first adoption by anyone
    parent_outlet    VARCHAR,            -- the outlet it most likely took the narrative from (an outlet_influence edge),
                                         --   NULL: from outside the network (it originated it, or nobody it follows carried it first)
    parent_lag_days  INTEGER,            -- days behind that parent
    followers        INTEGER NOT NULL,   -- outlets of this cascade whose parent_outlet is this outlet
    role             VARCHAR NOT NULL,   -- 'leader' (no parent, followed) | 'amplifier' (parent, followed) |
                                         --   'follower' (parent, not followed) | 'independent' (neither)
    computed_at      TIMESTAMP NOT NULL  -- UTC
);

-- outlet_influence: directed edges source -> target (the target takes narratives up after the source).
CREATE TABLE IF NOT EXISTS outlet_influence (
    source             VARCHAR NOT NULL, -- the outlet followed
    target             VARCHAR NOT NULL, -- the outlet that follows
    weight             DOUBLE NOT NULL,  -- support / narratives the source carried: how often the target took one up from it
    support            INTEGER NOT NULL, -- narratives in which the target most likely took it from the source
    median_lag_days    DOUBLE,           -- median days between the two, over those narratives
    gain               DOUBLE NOT NULL,  -- log-likelihood NETINF gained by adding the edge (nats)
    rank               INTEGER NOT NULL, -- order the greedy chose it in (1 = first); nightly additions continue the count
    computed_at        TIMESTAMP NOT NULL
);

-- outlet_roles: each outlet over all narratives: how often it led, amplified or followed.
CREATE TABLE IF NOT EXISTS outlet_roles (
    outlet             VARCHAR NOT NULL,
    narratives         INTEGER NOT NULL, -- narratives it took up
    originated         INTEGER NOT NULL, -- of those, narratives it carried on their first day
    led                INTEGER NOT NULL, -- cascades where it was a leader (no parent, followed by others)
    amplified          INTEGER NOT NULL, -- cascades where it was an amplifier (took it from an outlet, passed it on)
    followed           INTEGER NOT NULL, -- cascades where it was a follower (took it from an outlet, not passed on)
    leader_score       DOUBLE NOT NULL,  -- led / narratives
    amplifier_score    DOUBLE NOT NULL,  -- amplified / narratives
    follower_score     DOUBLE NOT NULL,  -- followed / narratives
    followers          INTEGER NOT NULL, -- outlets with an edge from it (out-degree in outlet_influence)
    sources            INTEGER NOT NULL, -- outlets it has an edge from (in-degree)
    role               VARCHAR NOT NULL, -- its most frequent role: leader | amplifier | follower | independent
    computed_at        TIMESTAMP NOT NULL
);

-- cascade_fingerprints: what each narrative's assignments looked like at the last influence update (a hash of its
-- paragraph ids and refuting flags): the nightly update recomputes the adoptions of the narratives whose fingerprint moved.
CREATE TABLE IF NOT EXISTS cascade_fingerprints (
    narrative_id  VARCHAR NOT NULL,  -- joins narratives
    fingerprint   UBIGINT NOT NULL,  -- bit_xor of hash(paragraph_id, refutes) over its paragraph_narratives rows
    assignments   BIGINT NOT NULL    -- its paragraph_narratives rows
);

-- influence_candidates: edges not in the network whose gain may still reach the greedy's threshold, each with an
-- upper bound of that gain; an edge absent here has a gain under half its threshold. The nightly update weighs only
-- the edges whose bound, with what the night's changed narratives add, reaches the threshold.
CREATE TABLE IF NOT EXISTS influence_candidates (
    source  VARCHAR NOT NULL,  -- the outlet that would be followed
    target  VARCHAR NOT NULL,  -- the outlet that would follow
    bound   DOUBLE NOT NULL    -- upper bound of the log-likelihood the edge would add (nats)
);
