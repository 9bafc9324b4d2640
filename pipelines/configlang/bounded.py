"""The evaluation in a child process under a memory cap and a wall-clock limit, so a hostile file costs the
caller (the server's worker, the CLI) nothing but the wait: the child is killed, its memory goes with it.

The child asks its parent for each file it imports (the reader stays with the caller, e.g. the git mirror),
over a pipe. Processes come from a fork server that has loaded the evaluators once (a few ms each), never
from a fork of the multi-threaded caller. No network or database I/O happens here.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.forkserver
import multiprocessing.resource_tracker
import multiprocessing.util
import os
import resource
import time
from multiprocessing.connection import Connection
from typing import Any

from pipelines.configlang import generate
from pipelines.configlang.documents import EvaluationError
from pipelines.configlang.files import FileReader
from pipelines.configlang.limits import EvaluationLimits
from pipelines.errors import ConfigError
from pipelines.plan import BuildContext

# never go-jsonnet here: the Go runtime's threads do not survive the fork of each child
_CHILD_MODULES = ["pipelines.configlang.bounded", "starlark"]
_context = multiprocessing.get_context("forkserver")
_context.set_forkserver_preload(_CHILD_MODULES)


def generate_bounded(
    text: str,
    path: str,
    context: BuildContext,
    read: FileReader,
    limits: EvaluationLimits | None = None,
) -> str:
    """`generate` in a child process: killed past `limits.seconds`, capped at `limits.memory_bytes`.

    Blocking (run it in a thread from async code). Raises EvaluationError for the file's own errors and for
    a file that took too long or too much memory.
    """
    limits = limits or EvaluationLimits()
    ours, theirs = _context.Pipe()
    child = _context.Process(
        target=_child, args=(theirs, text, path, context, limits), name="hangar-config-eval", daemon=True
    )
    child.start()
    theirs.close()
    deadline = time.monotonic() + limits.seconds + 1.0  # the child's own deadline (Starlark) says where
    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not ours.poll(remaining):
                raise EvaluationError(
                    f"the configuration took too long to evaluate (the limit is {limits.seconds:g} s)", path
                )
            try:
                kind, payload = ours.recv()
            except (EOFError, OSError):
                raise _died(child, path, limits) from None
            if kind == "read":
                ours.send(_safe_read(read, payload))
            elif kind == "yaml":
                return str(payload)
            else:
                raise ConfigError(list(payload))
    finally:
        ours.close()
        if child.is_alive():
            child.kill()
        child.join()


def stop_fork_server() -> None:
    """Stop the fork server and remove its socket's folder, which otherwise last as long as this process
    (for test sessions that must leave nothing behind); the next evaluation starts a new one."""
    # stdlib-private parts (no public way to stop them): what CPython's own tests call
    forkserver: Any = multiprocessing.forkserver
    forkserver._forkserver._stop()
    tracker: Any = multiprocessing.resource_tracker
    tracker._resource_tracker._stop()  # started with the fork server
    util: Any = multiprocessing.util
    for finalizer in list(util._finalizer_registry.values()):
        if getattr(finalizer, "_callback", None) is util._remove_temp_dir:
            finalizer()  # multiprocessing's temporary folder, removed now rather than at exit


def _safe_read(read: FileReader, path: str) -> str | None:
    """The caller's reader, its failures answered as a missing file (the child reports it located)."""
    try:
        return read(path)
    except Exception:
        return None


def _died(child: Any, path: str, limits: EvaluationLimits) -> EvaluationError:
    """Why the child stopped without an answer: what the evaluators do when memory runs out."""
    child.join(5)
    code = child.exitcode
    how = f"signal {-code}" if code is not None and code < 0 else f"exit status {code}"
    return EvaluationError(
        f"the configuration took too much memory to evaluate (the limit is {limits.memory_mib} MiB; "
        f"the evaluator stopped with {how})",
        path,
    )


def _child(
    connection: Connection, text: str, path: str, context: BuildContext, limits: EvaluationLimits
) -> None:
    """In the child: cap memory, silence the evaluators' own output, evaluate, send the YAML or problems."""
    resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    os.dup2(null, 2)

    def read(requested: str) -> str | None:
        connection.send(("read", requested))
        answer = connection.recv()
        return answer if isinstance(answer, str) else None

    try:
        connection.send(("yaml", generate(text, path, context, read, limits)))
    except ConfigError as exc:
        connection.send(("problems", tuple(exc.problems)))
    except MemoryError:
        os._exit(3)
    except RecursionError:
        failure = EvaluationError("the configuration it produces nests too deeply", path)
        connection.send(("problems", tuple(failure.problems)))
    except Exception as exc:  # an evaluator's own fault: said, not mistaken for running out of memory
        connection.send(("problems", tuple(EvaluationError(f"the evaluator failed: {exc}", path).problems)))
    finally:
        connection.close()
