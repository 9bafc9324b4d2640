"""Build emails composed and sent to a real SMTP server, then read back the way a mail client would."""

from __future__ import annotations

import email
import email.policy
import re
from email.message import EmailMessage
from email.utils import getaddresses

import pytest

from pipelines.status import Status
from server.notify.email import compose, send_email
from server.notify.errors import NotifyError
from server.settings import SmtpSettings
from tests.peers import PASSWORD, USERNAME, SmtpServer
from tests.server.notify.builds import LINK, failed_build, failing_lines

SENDER = "Hangar CI <hangar@example.com>"
TO = ["jane@example.com", "ops@example.com"]


def settings_for(server: SmtpServer, **changes: object) -> SmtpSettings:
    """Settings reaching the test server without STARTTLS."""
    return SmtpSettings(host="127.0.0.1", port=server.port, timeout=10, **changes)  # type: ignore[arg-type]


def parse(content: bytes) -> EmailMessage:
    """A received message, parsed with the modern policy."""
    message = email.message_from_bytes(content, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def parts(message: EmailMessage) -> tuple[str, str]:
    """The plain-text and the HTML bodies."""
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert isinstance(text, EmailMessage)
    assert isinstance(html, EmailMessage)
    return text.get_content(), html.get_content()


async def test_a_failure_email_arrives_with_everything_needed_to_fix_the_build(smtp_server):
    await send_email(settings_for(smtp_server), compose(failed_build(), SENDER, TO))

    [delivered] = smtp_server.inbox.messages
    assert delivered.mail_from == "hangar@example.com"
    assert delivered.rcpt_tos == TO
    message = parse(delivered.content)
    assert message["Subject"] == "[octo/hello] main #12 failure"
    assert [address for _, address in getaddresses([message["To"]])] == TO
    text, html = parts(message)
    for body in (text, html):
        assert "6dcb09b5" in body
        assert "Jane Doe" in body
        assert "1m 14s" in body
        assert LINK in body
    assert "Parse <script>alert('x')</script> tags" in text
    assert "&lt;script&gt;" in html
    assert "<script>" not in html
    assert "A longer body" not in text


async def test_the_failing_step_s_last_lines_are_in_both_parts(smtp_server):
    await send_email(settings_for(smtp_server), compose(failed_build(), SENDER, TO))

    text, html = parts(parse(smtp_server.inbox.messages[0].content))
    lines = failing_lines()
    assert "Last 50 lines of build/test" in text
    assert [line.removeprefix("  | ") for line in text.splitlines() if line.startswith("  | ")] == list(lines)
    [pre] = re.findall(r"<pre[^>]*>(.*?)</pre>", html, flags=re.S)
    assert pre.splitlines()[0] == "line 1: collecting tests"
    assert pre.splitlines()[-1] == (
        "E   assert parse(&#39;&lt;a href=&#34;x&#34;&gt;&#39;) == "
        "{&#39;tag&#39;: &#39;a&#39;} &amp;&amp; done"
    )


async def test_every_step_is_listed_with_a_status_word_and_exit_code(smtp_server):
    await send_email(settings_for(smtp_server), compose(failed_build(), SENDER, TO))

    text, html = parts(parse(smtp_server.inbox.messages[0].content))
    assert re.search(r"build/compile\s+success\s+exit 0", text)
    assert re.search(r"build/test\s+failure\s+exit 2", text)
    assert re.search(r"deploy/publish\s+skipped\s*$", text, flags=re.M)
    rows = re.findall(
        r"<tr><td[^>]*><code>(.*?)</code></td><td[^>]*>(.*?)</td><td[^>]*>(.*?)</td></tr>", html
    )
    assert rows == [
        ("build/compile", "✔ success", "0"),
        ("build/test", "✘ failure", "2"),
        ("deploy/publish", "– skipped", "–"),
    ]


async def test_the_build_error_is_shown(smtp_server):
    build = failed_build(status=Status.ERROR, error="line 7: unknown key 'stpes'", steps=(), failing_step="")
    await send_email(settings_for(smtp_server), compose(build, SENDER, TO))

    message = parse(smtp_server.inbox.messages[0].content)
    text, html = parts(message)
    assert message["Subject"] == "[octo/hello] main #12 error"
    assert "line 7: unknown key 'stpes'" in text
    assert "line 7: unknown key &#39;stpes&#39;" in html


def test_terminal_colours_and_progress_rewrites_do_not_reach_the_email():
    build = failed_build(failing_lines=("\x1b[31mFAILED\x1b[0m test_parse", "10%\r55%\r100%"))

    text, html = parts(compose(build, SENDER, TO))

    assert "  | FAILED test_parse\n  | 100%\n" in text
    assert "\x1b" not in text + html


@pytest.mark.parametrize(
    ("changes", "subject"),
    [
        (
            {"event": "tag", "ref": "refs/tags/v1.2.0", "status": Status.SUCCESS},
            "[octo/hello] v1.2.0 #12 success",
        ),
        ({"event": "pull_request", "ref": "refs/pull/7/head"}, "[octo/hello] PR #7 #12 failure"),
        ({"event": "pull_request", "ref": "refs/merge-requests/9/head"}, "[octo/hello] PR #9 #12 failure"),
        (
            {"event": "push", "branch": "release/2.x", "status": Status.KILLED},
            "[octo/hello] release/2.x #12 killed",
        ),
    ],
)
def test_the_subject_names_the_repository_what_was_built_the_number_and_the_outcome(changes, subject):
    assert compose(failed_build(**changes), SENDER, TO)["Subject"] == subject


def test_an_email_without_recipients_is_refused():
    with pytest.raises(ValueError, match="recipient"):
        compose(failed_build(), SENDER, [])


async def test_credentials_are_used_to_log_in(smtp_server):
    settings = settings_for(smtp_server, username=USERNAME, password=PASSWORD)

    await send_email(settings, compose(failed_build(), SENDER, TO))

    [delivered] = smtp_server.inbox.messages
    assert delivered.login == USERNAME.encode()


async def test_without_credentials_no_login_happens(smtp_server):
    await send_email(settings_for(smtp_server), compose(failed_build(), SENDER, TO))

    assert smtp_server.inbox.messages[0].login is None


async def test_a_wrong_password_cannot_be_retried(smtp_server):
    settings = settings_for(smtp_server, username=USERNAME, password="wrong")

    with pytest.raises(NotifyError) as caught:
        await send_email(settings, compose(failed_build(), SENDER, TO))

    assert not caught.value.retryable
    assert "535" in str(caught.value)
    assert "wrong" not in str(caught.value)
    assert smtp_server.inbox.messages == []


async def test_requiring_starttls_from_a_server_without_it_is_a_configuration_error(smtp_server):
    with pytest.raises(NotifyError, match="STARTTLS") as caught:
        await send_email(settings_for(smtp_server, starttls=True), compose(failed_build(), SENDER, TO))

    assert not caught.value.retryable
    assert smtp_server.inbox.messages == []


async def test_a_refused_connection_can_be_retried(closed_port):
    settings = SmtpSettings(host="127.0.0.1", port=closed_port, timeout=10)

    with pytest.raises(NotifyError) as caught:
        await send_email(settings, compose(failed_build(), SENDER, TO))

    assert caught.value.retryable


async def test_recipients_rejected_for_good_cannot_be_retried(smtp_server):
    smtp_server.inbox.rcpt_reply = "550 5.1.1 No such user"

    with pytest.raises(NotifyError) as caught:
        await send_email(settings_for(smtp_server), compose(failed_build(), SENDER, TO))

    assert not caught.value.retryable
    assert "550" in str(caught.value)


async def test_a_temporary_refusal_can_be_retried(smtp_server):
    smtp_server.inbox.data_reply = "451 4.3.0 Try again later"

    with pytest.raises(NotifyError) as caught:
        await send_email(settings_for(smtp_server), compose(failed_build(), SENDER, TO))

    assert caught.value.retryable
    assert "451" in str(caught.value)


def test_the_password_never_shows_in_the_settings_repr():
    assert "hunter2" not in repr(SmtpSettings(host="mail", username="u", password="hunter2"))
