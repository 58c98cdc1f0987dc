from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SubscribeRequest(_message.Message):
    __slots__ = ("from_seq", "replica_id", "ack_seq", "heartbeat", "last_digest", "allow_snapshot")
    FROM_SEQ_FIELD_NUMBER: _ClassVar[int]
    REPLICA_ID_FIELD_NUMBER: _ClassVar[int]
    ACK_SEQ_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_FIELD_NUMBER: _ClassVar[int]
    LAST_DIGEST_FIELD_NUMBER: _ClassVar[int]
    ALLOW_SNAPSHOT_FIELD_NUMBER: _ClassVar[int]
    from_seq: int
    replica_id: str
    ack_seq: int
    heartbeat: bool
    last_digest: bytes
    allow_snapshot: bool
    def __init__(self, from_seq: _Optional[int] = ..., replica_id: _Optional[str] = ..., ack_seq: _Optional[int] = ..., heartbeat: _Optional[bool] = ..., last_digest: _Optional[bytes] = ..., allow_snapshot: _Optional[bool] = ...) -> None: ...

class WalEntry(_message.Message):
    __slots__ = ("seq", "record")
    SEQ_FIELD_NUMBER: _ClassVar[int]
    RECORD_FIELD_NUMBER: _ClassVar[int]
    seq: int
    record: bytes
    def __init__(self, seq: _Optional[int] = ..., record: _Optional[bytes] = ...) -> None: ...

class SnapshotChunk(_message.Message):
    __slots__ = ("path", "data", "last_of_file")
    PATH_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    LAST_OF_FILE_FIELD_NUMBER: _ClassVar[int]
    path: str
    data: bytes
    last_of_file: bool
    def __init__(self, path: _Optional[str] = ..., data: _Optional[bytes] = ..., last_of_file: _Optional[bool] = ...) -> None: ...

class SnapshotBegin(_message.Message):
    __slots__ = ("seq", "total_bytes")
    SEQ_FIELD_NUMBER: _ClassVar[int]
    TOTAL_BYTES_FIELD_NUMBER: _ClassVar[int]
    seq: int
    total_bytes: int
    def __init__(self, seq: _Optional[int] = ..., total_bytes: _Optional[int] = ...) -> None: ...

class SnapshotEnd(_message.Message):
    __slots__ = ("seq",)
    SEQ_FIELD_NUMBER: _ClassVar[int]
    seq: int
    def __init__(self, seq: _Optional[int] = ...) -> None: ...

class SubscribeResponse(_message.Message):
    __slots__ = ("entries", "current_seq", "sent_at_us", "committed_at_us", "snapshot_begin", "snapshot_chunk", "snapshot_end")
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    CURRENT_SEQ_FIELD_NUMBER: _ClassVar[int]
    SENT_AT_US_FIELD_NUMBER: _ClassVar[int]
    COMMITTED_AT_US_FIELD_NUMBER: _ClassVar[int]
    SNAPSHOT_BEGIN_FIELD_NUMBER: _ClassVar[int]
    SNAPSHOT_CHUNK_FIELD_NUMBER: _ClassVar[int]
    SNAPSHOT_END_FIELD_NUMBER: _ClassVar[int]
    entries: _containers.RepeatedCompositeFieldContainer[WalEntry]
    current_seq: int
    sent_at_us: int
    committed_at_us: int
    snapshot_begin: SnapshotBegin
    snapshot_chunk: SnapshotChunk
    snapshot_end: SnapshotEnd
    def __init__(self, entries: _Optional[_Iterable[_Union[WalEntry, _Mapping]]] = ..., current_seq: _Optional[int] = ..., sent_at_us: _Optional[int] = ..., committed_at_us: _Optional[int] = ..., snapshot_begin: _Optional[_Union[SnapshotBegin, _Mapping]] = ..., snapshot_chunk: _Optional[_Union[SnapshotChunk, _Mapping]] = ..., snapshot_end: _Optional[_Union[SnapshotEnd, _Mapping]] = ...) -> None: ...

class StatusRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ReplicaInfo(_message.Message):
    __slots__ = ("replica_id", "peer", "ack_seq", "connected_at_us")
    REPLICA_ID_FIELD_NUMBER: _ClassVar[int]
    PEER_FIELD_NUMBER: _ClassVar[int]
    ACK_SEQ_FIELD_NUMBER: _ClassVar[int]
    CONNECTED_AT_US_FIELD_NUMBER: _ClassVar[int]
    replica_id: str
    peer: str
    ack_seq: int
    connected_at_us: int
    def __init__(self, replica_id: _Optional[str] = ..., peer: _Optional[str] = ..., ack_seq: _Optional[int] = ..., connected_at_us: _Optional[int] = ...) -> None: ...

class StatusResponse(_message.Message):
    __slots__ = ("current_seq", "replica_count", "entry_count", "healthy", "first_seq", "wal_bytes", "replicas", "mode")
    CURRENT_SEQ_FIELD_NUMBER: _ClassVar[int]
    REPLICA_COUNT_FIELD_NUMBER: _ClassVar[int]
    ENTRY_COUNT_FIELD_NUMBER: _ClassVar[int]
    HEALTHY_FIELD_NUMBER: _ClassVar[int]
    FIRST_SEQ_FIELD_NUMBER: _ClassVar[int]
    WAL_BYTES_FIELD_NUMBER: _ClassVar[int]
    REPLICAS_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    current_seq: int
    replica_count: int
    entry_count: int
    healthy: bool
    first_seq: int
    wal_bytes: int
    replicas: _containers.RepeatedCompositeFieldContainer[ReplicaInfo]
    mode: str
    def __init__(self, current_seq: _Optional[int] = ..., replica_count: _Optional[int] = ..., entry_count: _Optional[int] = ..., healthy: _Optional[bool] = ..., first_seq: _Optional[int] = ..., wal_bytes: _Optional[int] = ..., replicas: _Optional[_Iterable[_Union[ReplicaInfo, _Mapping]]] = ..., mode: _Optional[str] = ...) -> None: ...
