"""How far a Jsonnet or Starlark configuration may go: time, memory, output, imports, stack."""

from __future__ import annotations

from dataclasses import dataclass

MAX_CONFIG_BYTES = 2 * 1024 * 1024
"""The largest pipeline configuration Hangar reads (the YAML a Jsonnet or Starlark file produces)."""


@dataclass(frozen=True, slots=True)
class EvaluationLimits:
    """The bounds one evaluation runs under (the defaults fit every real-world file Hangar was tried on)."""

    seconds: float = 5.0
    """Wall-clock time for the whole evaluation, imports included."""
    memory_bytes: int = 1024 * 1024 * 1024
    """Address space of the evaluating child process (RLIMIT_AS; go-jsonnet's runtime needs over 512 MiB)."""
    output_bytes: int = MAX_CONFIG_BYTES
    """The produced YAML's size."""
    imports: int = 64
    """Files an evaluation may import or load (Drone's Jsonnet importer allows 10 requests to the forge)."""
    stack: int = 500
    """Call depth: Jsonnet's max_stack (Drone sets 500), Starlark's call stack."""

    @property
    def memory_mib(self) -> int:
        """The memory cap in MiB, for messages."""
        return self.memory_bytes // (1024 * 1024)
