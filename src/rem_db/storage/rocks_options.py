"""RocksDB options of a REM store: one block cache shared by every column family, bloom filters, the
compression ``P8_ROCKSDB_COMPRESSION`` names, and bounds on RocksDB's own log and info files; read options
bounded to a key range."""

from __future__ import annotations

from rocksdict import BlockBasedOptions, Cache, DBCompressionType, Options, ReadOptions

from ..config import Settings

BLOCK_CACHE_BYTES = 64 * 1024 * 1024  # one LRU cache of uncompressed blocks, shared by every column family
#: RocksDB's own write-ahead log (its ``*.log`` files, not REM's ``wal`` column family) is kept below this
MAX_LOG_BYTES = 64 << 20
#: RocksDB's info logs (``LOG``, ``LOG.old.*``: its own diagnostics) kept in the directory
KEEP_INFO_LOGS = 5
_COMPRESSION = {
    "none": DBCompressionType.none,
    "snappy": DBCompressionType.snappy,
    "zlib": DBCompressionType.zlib,
    "bz2": DBCompressionType.bz2,
    "lz4": DBCompressionType.lz4,
    "lz4hc": DBCompressionType.lz4hc,
    "zstd": DBCompressionType.zstd,
}


def db_options(settings: Settings, cache: Cache) -> Options:
    """Options for the database and each of its column families (``cache``: the shared block cache)."""
    opts = Options(raw_mode=True)
    opts.create_if_missing(True)
    opts.create_missing_column_families(True)
    opts.set_compression_type(_COMPRESSION[settings.rocksdb_compression]())
    if settings.rocksdb_write_buffer_size:
        opts.set_write_buffer_size(settings.rocksdb_write_buffer_size)
    if settings.rocksdb_max_background_jobs:
        opts.set_max_background_jobs(settings.rocksdb_max_background_jobs)
    # a read-only open (another process reading while this one writes) replays the writer's unflushed
    # RocksDB log: bounding the log bounds that replay (memtables are flushed when it grows past this)
    opts.set_max_total_wal_size(MAX_LOG_BYTES)
    # RocksDB starts up to 16 threads per column family to open its table files: on a small machine that
    # costs more than it saves (an open of 100,000 rows: ~30 ms with one, ~45 ms with the default)
    opts.set_max_file_opening_threads(1)
    # each open starts a new info LOG and keeps the old ones (1,000 by default, ~150 KB each)
    opts.set_keep_log_file_num(KEEP_INFO_LOGS)
    table = BlockBasedOptions()
    table.set_block_cache(cache)
    table.set_bloom_filter(10, False)
    opts.set_block_based_table_factory(table)
    return opts


def bounded(upper: bytes, fill_cache: bool = True) -> ReadOptions:
    """Read options of an iterator that stops before ``upper`` (kept alive as long as the iterator)."""
    opts = ReadOptions()
    opts.set_iterate_upper_bound(upper)
    if not fill_cache:
        opts.fill_cache(False)  # type: ignore[call-arg]  # rocksdict's stub lacks the flag the method takes
    return opts
