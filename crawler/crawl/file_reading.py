"""Attachment text read in a child process, under a time and a memory limit.

`crawler.article.filetext` reads a file in the crawl's own process otherwise, and a file can be
made (or simply be) too much for a reader: a PDF whose streams inflate to gigabytes, a DOCX
whose document.xml unpacks to a few GB, a spreadsheet of millions of cells. In a child, such a
file costs that child: it is stopped at CRAWLER_ATTACHMENT_READ_SECONDS or dies at
CRAWLER_ATTACHMENT_READ_MEMORY, and the file is recorded as `too_large` with the reason,
while the crawl goes on.

    python -m crawler.crawl.file_reading KIND < FILE    # the child: a FileText as JSON
"""
from __future__ import annotations

import json
import resource
import subprocess
import sys
from dataclasses import asdict

from crawler.article.filetext import FileText, file_text


def read_limited(data: bytes, kind: str, seconds: float, memory_bytes: int) -> FileText:
    """`file_text(data, kind)`, or `too_large` when reading takes more than `seconds` or more
    than `memory_bytes` of address space."""
    def limit_memory() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))

    try:
        done = subprocess.run([sys.executable, "-m", "crawler.crawl.file_reading", kind], input=data,
                              capture_output=True, timeout=seconds, preexec_fn=limit_memory)
    except subprocess.TimeoutExpired:
        return FileText("too_large", reason=f"reading it took more than {seconds:g} s")
    if done.returncode == 0:
        found = FileText(**json.loads(done.stdout))
        if found.status == "too_large":  # it ran out of memory
            return FileText("too_large", reason=f"reading it needs more than {memory_bytes // 2**20} MB")
        return found
    if done.returncode < 0:  # killed: out of memory where Python could not raise MemoryError
        return FileText("too_large", reason=f"reading it needs more than {memory_bytes // 2**20} MB")
    error = done.stderr.decode("utf-8", "replace").strip().splitlines()
    return FileText("corrupt", reason=(error[-1] if error else f"the reader exited {done.returncode}")[:300])


def main() -> None:
    found = file_text(sys.stdin.buffer.read(), sys.argv[1])
    sys.stdout.write(json.dumps(asdict(found), ensure_ascii=False))


if __name__ == "__main__":
    main()
