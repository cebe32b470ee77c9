-- pipeline_meta: key/value facts about this database (schema version, embedding dimension).
CREATE TABLE IF NOT EXISTS pipeline_meta (
    key   VARCHAR PRIMARY KEY,  -- e.g. 'schema_version', 'embedding_dim'
    value VARCHAR NOT NULL
);
