"""Part files of one source and date, written to a staging folder and published in one step.

Files are named ``part-NNNNN.<ext>`` and every ``gzip_every``-th one is gzip-compressed with a fixed
header (no file name, mtime 0), so the same input always gives the same bytes.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import shutil
import uuid

from llmops import lake
from llmops.publish import publish_partition


class PartWriter:
    """Streams records into part files of at most ``per_file`` records each.

    ``write`` returns where the record landed: the file's final URI and its 1-based line number
    (a CSV header counts as line 1).
    """

    def __init__(self, out_uri: str, source: str, ds: str, ext: str, per_file: int, gzip_every: int,
                 header: bytes | None = None, newline: bytes = b"\n"):
        self.final_uri = lake.raw_partition_uri(out_uri, source, ds)
        self._staging_uri = lake.join(out_uri, source, "_staging", f"ds={ds}.{uuid.uuid4().hex[:12]}")
        self._staging = lake.local_path(self._staging_uri)
        self._staging.mkdir(parents=True)
        self.ext, self.per_file, self.gzip_every = ext, per_file, gzip_every
        self.header, self.newline = header, newline
        self.files: list[dict] = []
        self._fh: io.BufferedIOBase | None = None
        self._raw: io.BufferedWriter | None = None
        self._records = 0
        self._line = 0

    @property
    def file_index(self) -> int:
        """Index of the file the next record goes to."""
        return len(self.files) - (0 if self._fh is None else 1)

    def _open(self) -> tuple[io.BufferedIOBase, io.BufferedWriter]:
        index = len(self.files)
        compressed = self.gzip_every > 0 and (index + 1) % self.gzip_every == 0
        name = f"part-{index:05d}.{self.ext}" + (".gz" if compressed else "")
        raw = open(self._staging / name, "wb")  # closed in _close
        fh = gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=6) if compressed else raw
        uri = lake.join(self.final_uri, name)
        self.files.append({"uri": uri, "records": 0, "gzip": compressed})
        return fh, raw

    def write(self, line: bytes) -> tuple[str, int]:
        if self._fh is None:
            self._fh, self._raw = self._open()
            self._records = 0
            self._line = 0
            if self.header is not None:
                self._fh.write(self.header + self.newline)
                self._line = 1
        self._fh.write(line + self.newline)
        self._records += 1
        self._line += 1
        entry = self.files[-1]
        entry["records"] = self._records
        uri = entry["uri"]
        if self._records >= self.per_file:
            self._close()
        return uri, self._line

    def write_file(self, data: bytes, records: int) -> str:
        """A whole file at once (an HTML page, a CSV with its own header); returns its final URI."""
        self._close()
        fh, raw = self._open()
        fh.write(data)
        self.files[-1]["records"] = records
        self._fh, self._raw = fh, raw
        self._close()
        return self.files[-1]["uri"]

    def _close(self) -> None:
        if self._fh is None:
            return
        self._fh.close()
        if self._raw is not self._fh:
            self._raw.close()
        self._fh = self._raw = None

    def publish(self) -> list[dict]:
        """Close, hash and atomically swap the staging folder in as the ``ds`` partition."""
        self._close()
        for entry in self.files:
            digest = hashlib.sha256()
            with open(self._staging / entry["uri"].rsplit("/", 1)[1], "rb") as fh:
                for block in iter(lambda: fh.read(1 << 20), b""):
                    digest.update(block)
            entry["sha256"] = digest.hexdigest()
        publish_partition(self._staging_uri, self.final_uri)
        try:
            self._staging.parent.rmdir()  # the _staging folder, once empty
        except OSError:
            pass
        return self.files

    def abort(self) -> None:
        self._close()
        shutil.rmtree(self._staging, ignore_errors=True)
