-- pipeline_meta[$key], no row when absent.
SELECT value FROM pipeline_meta WHERE key = $key;
