"""The capture delivery stream, as Kinesis Data Firehose runs it for the deployed stack: the API
log groups' subscription filters put CloudWatch Logs batches (gzipped) on it; it decompresses each
batch and extracts its messages, buffers them, and writes one S3 object per buffer under
deliveries/dt=<hour of the oldest record>/ when the buffer holds buffer_mib or its oldest record
is buffer_seconds old (the spec's [capture] buffering hints, as deployed). A batch it cannot
decompress goes to deliveries-errors/decompression-failed/ with Firehose's error fields.

A write S3 refuses is retried on the next tick, as Firehose retries S3 delivery (for up to 24 h)
before the object is written; each written object is handed to `notify`, which stands for S3's
event notification to the capture function. Time is the local stack's movable clock: the
interval elapses when the clock moves past it (or when a caller flushes, standing for waiting
out the interval).
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from modelwatch.catalog import layout
from modelwatch.serving.delivery_stream import batch_messages, delivered_object, error_record

MIB = 1 << 20
DECOMPRESSION_FAILED = "decompression-failed"  # Firehose's error output type for such records

WriteObject = Callable[[str, bytes], None]  # (key, body); raises when S3 refuses
Notify = Callable[[str], None]  # a written object's key


@dataclass
class _Buffer:
    lines: list[str] = field(default_factory=list)
    size: int = 0
    oldest: datetime | None = None


@dataclass
class StreamCounts:
    batches: int = 0  # Logs batches put on the stream
    lines: int = 0
    objects: int = 0  # delivered objects written
    error_objects: int = 0
    write_retries: int = 0  # S3 writes refused and tried again later


class LocalDeliveryStream:
    def __init__(
        self,
        name: str,
        clock: Callable[[], datetime],
        buffer_seconds: int,
        buffer_mib: int,
        write_object: WriteObject,
        notify: Notify,
    ) -> None:
        self.name, self._clock = name, clock
        self.interval = timedelta(seconds=buffer_seconds)
        self.capacity = buffer_mib * MIB
        self._write, self._notify = write_object, notify
        self._buffer = _Buffer()
        self._pending: list[tuple[str, bytes]] = []  # objects S3 refused, written on a later tick
        self._to_notify: list[str] = []  # written, their notification not sent yet
        self._sequence = 0
        self.counts = StreamCounts()
        # Puts arrive from concurrently running invocations; the buffer is Firehose's one state.
        self._lock = threading.RLock()

    # --- in --------------------------------------------------------------------------------------
    def put_batch(self, record: bytes) -> None:
        """One subscription delivery (a gzipped Logs batch): decompressed, its messages extracted."""
        now = self._clock()
        with self._lock:
            self.counts.batches += 1
            try:
                messages = batch_messages(record)
            except ValueError as error:
                self._write_errors(record, str(error), now)
                messages = []
            for line in messages:
                size = len(line.encode()) + 1
                if self._buffer.lines and self._buffer.size + size > self.capacity:
                    self._flush()
                if self._buffer.oldest is None:
                    self._buffer.oldest = now
                self._buffer.lines.append(line)
                self._buffer.size += size
                self.counts.lines += 1
        self.tick()

    # --- out -------------------------------------------------------------------------------------
    def tick(self, now: datetime | None = None) -> None:
        """The buffer written when its interval has passed by `now` (default: the clock's time);
        refused writes retried."""
        with self._lock:
            self._retry_pending()
            oldest = self._buffer.oldest
            if oldest is not None and (now or self._clock()) - oldest >= self.interval:
                self._flush()
        self._send_notifications()

    def flush(self) -> None:
        """Write what the buffer holds now (the interval elapsing), and retry refused writes."""
        with self._lock:
            self._retry_pending()
            if self._buffer.lines:
                self._flush()
        self._send_notifications()

    def _send_notifications(self) -> None:
        """S3 notifies the capture function of each written object, outside the stream's lock
        (the stream goes on buffering while the function runs, as in AWS)."""
        with self._lock:
            keys, self._to_notify = self._to_notify, []
        for key in keys:
            self._notify(key)

    @property
    def buffered_lines(self) -> int:
        with self._lock:
            return len(self._buffer.lines) + sum(body.count(b"\n") for _, body in self._pending)

    def _flush(self) -> None:
        buffer, self._buffer = self._buffer, _Buffer()
        oldest = buffer.oldest or self._clock()
        key = layout.delivery_key(layout.hour_of(oldest), self._object_name(oldest))
        self._deliver(key, delivered_object(buffer.lines))

    def _object_name(self, oldest: datetime) -> str:
        """Firehose's naming: <stream>-<version>-<yyyy-MM-dd-HH-mm-ss>-<uuid>; the uuid from the
        stream's sequence here, so the same traffic gives the same keys run after run."""
        self._sequence += 1
        unique = uuid.uuid5(uuid.NAMESPACE_URL, f"{self.name}/{self._sequence}")
        return f"{self.name}-1-{oldest.strftime('%Y-%m-%d-%H-%M-%S')}-{unique}"

    def _write_errors(self, record: bytes, message: str, now: datetime) -> None:
        line = error_record(record, "Decompression.Failed", message, int(now.timestamp() * 1000))
        key = layout.delivery_error_key(DECOMPRESSION_FAILED, layout.hour_of(now), self._object_name(now))
        self.counts.error_objects += 1
        self._deliver(key, (json.dumps(line) + "\n").encode())

    def _deliver(self, key: str, body: bytes) -> None:
        try:
            self._write(key, body)
        except Exception:  # S3 refused: Firehose keeps the object and tries again
            self.counts.write_retries += 1
            self._pending.append((key, body))
            return
        self._written(key)

    def _retry_pending(self) -> None:
        pending, self._pending = self._pending, []
        for key, body in pending:
            self._deliver(key, body)

    def _written(self, key: str) -> None:
        if layout.DELIVERIES.holds(key):
            self.counts.objects += 1
        self._to_notify.append(key)
