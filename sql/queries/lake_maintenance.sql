-- DuckLake upkeep (the lake_maintenance asset; docs/deploy.md): write rows inlined in the catalog out to Parquet,
-- merge small adjacent files, expire snapshots older than $retention_days days (time travel stops there), and
-- delete the files no snapshot needs any more. Readers of current data are unaffected.
CALL ducklake_flush_inlined_data('lake');
CALL ducklake_merge_adjacent_files('lake');
CALL ducklake_expire_snapshots('lake', older_than => now() - to_days(CAST($retention_days AS INTEGER)));
CALL ducklake_cleanup_old_files('lake', older_than => now() - to_days(CAST($retention_days AS INTEGER)));
