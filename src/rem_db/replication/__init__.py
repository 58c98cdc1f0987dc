"""Replication (SPEC §9). The WAL it streams is written by the storage layer\x27s commit path (storage/wal.py):
one physical record per atomic batch, under a gapless sequence number."""
