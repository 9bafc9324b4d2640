"""A build's email links to its artifacts, with their sizes, in both parts (and says nothing without any)."""

from __future__ import annotations

from server.notify.email import compose
from server.notify.summary import ArtifactSummary
from tests.server.notify.builds import failed_build
from tests.server.notify.test_email import parts

WHEEL = "https://ci.example.com/api/repos/octo/hello/builds/12/artifacts/dist/app%20one.whl"


def test_the_email_links_to_each_artifact_with_its_size() -> None:
    summary = failed_build(
        artifacts=(
            ArtifactSummary(
                "coverage/<index>.html", 2_048, "https://ci.example.com/x/coverage/%3Cindex%3E.html"
            ),
            ArtifactSummary("dist/app one.whl", 3_000_000, WHEEL),
        )
    )
    text, html = parts(compose(summary, "ci@example.com", ["team@example.com"]))
    assert (
        "Artifacts:\n  coverage/<index>.html (2.0 kB): https://ci.example.com/x/coverage/%3Cindex%3E.html\n"
        in text
    )
    assert f"  dist/app one.whl (3.0 MB): {WHEEL}\n" in text
    assert f'<a href="{WHEEL}">dist/app one.whl</a>' in html
    assert "coverage/&lt;index&gt;.html" in html and "<index>" not in html, "escaped"


def test_without_artifacts_the_email_does_not_mention_them() -> None:
    text, html = parts(compose(failed_build(), "ci@example.com", ["team@example.com"]))
    assert "Artifacts" not in text and "Artifacts" not in html
