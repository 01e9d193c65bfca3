"""Attachment text read in a child process, under a time and a memory limit.

`crawler.article.filetext` reads a file in the crawl's own process otherwise, and a file can be
made (or simply be) too much for a reader: a PDF whose streams inflate to gigabytes, a DOCX
whose document.xml unpacks to a few GB, a spreadsheet of millions of cells. In a child, such a
file costs that child: it is stopped at CRAWLER_ATTACHMENT_READ_SECONDS or runs out of memory
at CRAWLER_ATTACHMENT_READ_MEMORY, and the file is recorded as `too_large` with the reason,
while the crawl goes on.

    python -m crawler.crawl.file_reading KIND MEMORY_BYTES < FILE    # the child: a FileText as JSON
"""
from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
from dataclasses import asdict

from crawler.article.filetext import FileText, file_text


def read_limited(data: bytes, kind: str, seconds: float, memory_bytes: int) -> FileText:
    """`file_text(data, kind)`, or `too_large` when reading takes more than `seconds` or more
    than `memory_bytes` of address space; `failed` (tried again on the next run) when the child
    could not run or was stopped from outside (Ctrl-C, a service stop)."""
    too_much_memory = FileText("too_large", reason=f"reading it needs more than {memory_bytes // 2**20} MB")
    try:  # the child limits itself: a preexec_fn is not safe in a process with threads (the reactor's pool)
        done = subprocess.run([sys.executable, "-m", "crawler.crawl.file_reading", kind, str(memory_bytes)],
                              input=data, capture_output=True, timeout=seconds)
    except subprocess.TimeoutExpired:
        return FileText("too_large", reason=f"reading it took more than {seconds:g} s")
    except OSError as exc:
        return FileText("failed", reason=f"cannot start the reader: {exc}"[:300])
    if done.returncode == 0:
        try:
            found = FileText(**json.loads(done.stdout))
        except (ValueError, TypeError) as exc:
            return FileText("corrupt", reason=f"the reader's answer is unreadable: {exc}"[:300])
        return too_much_memory if found.status == "too_large" else found  # it ran out of memory
    if done.returncode in (-signal.SIGINT, -signal.SIGTERM):
        return FileText("failed", reason="reading was stopped")
    if done.returncode == -signal.SIGKILL:  # the kernel's last word on memory
        return too_much_memory
    if done.returncode < 0:
        return FileText("corrupt", reason=f"the reader crashed (signal {-done.returncode})")
    error = done.stderr.decode("utf-8", "replace").strip().splitlines()
    return FileText("corrupt", reason=(error[-1] if error else f"the reader exited {done.returncode}")[:300])


def main() -> None:
    kind, memory_bytes = sys.argv[1], int(sys.argv[2])
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    answer = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)  # what a reader prints (xlrd's warnings) goes to stderr, not into the answer
    found = file_text(sys.stdin.buffer.read(), kind)
    answer.write(json.dumps(asdict(found), ensure_ascii=False))
    answer.close()


if __name__ == "__main__":
    main()
