"""Parsing off the request's process: ``run_extraction`` runs ``detection.extract`` in a child process with CPU
time and memory limits (set by the child on itself, before it reads the file) and a wall-clock limit (the parent
kills it), and returns the text or why there is none.

A child costs about 0.1 s (a Python start and the parser's import), so only PDF and DOCX come here; plain text
needs no parser. The child gets a clean environment: none of the service's settings or secrets.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from detection import extract
from detection.limits import MB, FileLimits

log = logging.getLogger(__name__)

# Which limit a child went over.
TIME = "time"
CPU = "cpu"
MEMORY = "memory"
KILLED = "killed"  # SIGKILL we did not send: the CPU hard limit, or the kernel out of memory

_ROOT = Path(__file__).resolve().parents[1]  # the folder that holds the ``detection`` package


class SandboxError(RuntimeError):
    """The child failed in a way no file explains (it could not start, or our code in it raised): a fault of the
    service, not of the learner's file."""


@dataclass(frozen=True)
class Extraction:
    """What reading a file gave: its text, or why it is unreadable, or which limit it went over."""

    text: str = ""
    unreadable: str | None = None  # a clause for the learner: "the document is damaged"
    too_complex: str | None = None  # a clause for the learner: "it has 900 pages, and at most 300 can be read"
    limit: str | None = None  # TIME, CPU, MEMORY or KILLED, when the child went over a cost limit
    seconds: float = 0.0


def limit_clause(limit: str, limits: FileLimits) -> str:
    """The learner's clause for a cost limit."""
    if limit == TIME:
        return f"reading it took longer than the {limits.parse_wall_seconds:g} seconds allowed"
    if limit == CPU:
        return f"reading it needed more than the {limits.parse_cpu_seconds} seconds of processing allowed"
    if limit == MEMORY:
        return f"reading it needed more than the {limits.parse_memory_bytes // MB} MB of memory allowed"
    return "reading it went over the time or memory allowed"


def _child_env() -> dict[str, str]:
    env = {
        "PATH": os.environ.get("PATH", os.defpath),
        "PYTHONPATH": str(_ROOT),
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONHASHSEED": "0",
        "PYTHONIOENCODING": "utf-8",
    }
    for name in ("LANG", "LC_ALL", "TMPDIR"):
        if name in os.environ:
            env[name] = os.environ[name]
    return env


def run_extraction(kind: str, data: bytes, limits: FileLimits) -> Extraction:
    """The text of a PDF or DOCX, read by a child process under ``limits``; at most ``parse_wall_seconds``."""
    if not sys.executable:
        raise SandboxError("no Python interpreter to run the parsing child with (sys.executable is empty)")
    header = json.dumps({"kind": kind, "limits": limits.as_dict()}).encode() + b"\n"
    started = time.monotonic()
    child = subprocess.Popen(
        [sys.executable, "-m", extract.__name__],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=_ROOT,
        env=_child_env(),
    )
    try:
        out, err = child.communicate(header + data, timeout=limits.parse_wall_seconds)
    except subprocess.TimeoutExpired:
        child.kill()
        child.communicate()
        return Extraction(limit=TIME, seconds=time.monotonic() - started)
    except BaseException:
        child.kill()
        child.communicate()
        raise
    seconds = time.monotonic() - started
    code = child.returncode
    if code == -signal.SIGXCPU:
        return Extraction(limit=CPU, seconds=seconds)
    if code == -signal.SIGKILL:
        return Extraction(limit=KILLED, seconds=seconds)
    if code < 0:
        # A parser's C code crashed on the file (SIGSEGV, SIGABRT), or allocation failed inside it.
        log.warning("the parsing child died of signal %d on a %s file: %s", -code, kind, err[-2000:].decode(errors="replace"))
        return Extraction(unreadable="the reader crashed on it", seconds=seconds)
    if code != 0:
        tail = err[-2000:].decode(errors="replace")
        if "MemoryError" in tail:
            return Extraction(limit=MEMORY, seconds=seconds)
        raise SandboxError(f"the parsing child exited with {code}: {tail}")
    try:
        result = json.loads(out)
    except ValueError as exc:
        raise SandboxError(f"the parsing child's answer is not JSON: {out[:200]!r}") from exc
    if "text" in result:
        return Extraction(text=str(result["text"]), seconds=seconds)
    if "too_complex" in result:
        return Extraction(too_complex=str(result["too_complex"]), seconds=seconds)
    if "unreadable" in result:
        return Extraction(unreadable=str(result["unreadable"]), seconds=seconds)
    if result.get("limit") == MEMORY:
        return Extraction(limit=MEMORY, seconds=seconds)
    raise SandboxError(f"the parsing child's answer is not understood: {out[:200]!r}")
