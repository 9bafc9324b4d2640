"""Test results: JUnit reports parsed, failing tests recognised in logs, failures triaged. Pure: no I/O."""
