"""The example project's tests: run by `python -m unittest` inside the pipeline's container."""

from __future__ import annotations

import unittest


def greeting(name: str) -> str:
    """A friendly greeting."""
    return f"Hello, {name}!"


class GreetingTest(unittest.TestCase):
    def test_greets_by_name(self) -> None:
        self.assertEqual(greeting("Hangar"), "Hello, Hangar!")


if __name__ == "__main__":
    unittest.main()
