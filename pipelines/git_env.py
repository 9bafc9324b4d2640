"""Environment variables that configure git without writing a file: settings and an inline credential helper.

Shared by the runner's clone and the server's mirror. Credentials never reach argv, a file or the log: the
helper's shell code reads them from its own environment, and answers only for the one machine.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

_HELPER = (
    '!f() { test "$1" = get || return 0; h=; '
    'while IFS= read -r l; do case "$l" in host=*) h=${l#host=};; esac; done; '
    'case "$h" in "$HANGAR_NETRC_MACHINE"|"$HANGAR_NETRC_MACHINE":*) '
    'printf \'username=%s\\npassword=%s\\n\' "$HANGAR_NETRC_LOGIN" "$HANGAR_NETRC_PASSWORD";; esac; }; f'
)


STALLED = {"GIT_HTTP_LOW_SPEED_LIMIT": "1", "GIT_HTTP_LOW_SPEED_TIME": "120"}
"""An HTTP(S) fetch that receives nothing for two minutes ends with an error, rather than holding a build (or
a worker that is asked to stop) until its timeout: a forge that hangs. A git server sends keep-alives while
it prepares a pack, so a slow but live transfer never stalls this long. Set in the environment to change."""


def git_environment(
    config: Sequence[tuple[str, str]] = (),
    credentials: tuple[str, str, str] | None = None,
    inherited: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """`GIT_CONFIG_*` variables for `config`, plus the credential helper for (machine, login, password)."""
    env = {"GIT_TERMINAL_PROMPT": "0"}
    pairs = list(config)
    if credentials is not None:
        machine, login, password = credentials
        pairs += [("credential.helper", ""), ("credential.helper", _HELPER)]
        env |= {
            "HANGAR_NETRC_MACHINE": machine,
            "HANGAR_NETRC_LOGIN": login,
            "HANGAR_NETRC_PASSWORD": password,
        }
    outer = os.environ if inherited is None else inherited
    env |= {name: value for name, value in STALLED.items() if name not in outer}
    try:
        first = int(outer.get("GIT_CONFIG_COUNT", "0"))
    except ValueError:
        first = 0
    for index, (key, value) in enumerate(pairs, start=first):
        env[f"GIT_CONFIG_KEY_{index}"] = key
        env[f"GIT_CONFIG_VALUE_{index}"] = value
    env["GIT_CONFIG_COUNT"] = str(first + len(pairs))
    return env
