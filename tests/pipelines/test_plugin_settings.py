"""Plugin settings become PLUGIN_* variables with Drone's encoding."""

from __future__ import annotations

from pipelines.model import SecretRef
from pipelines.plugin_settings import encode_setting, setting_variable, settings_environ


def test_variable_names() -> None:
    assert setting_variable("repo") == "PLUGIN_REPO"
    assert setting_variable("build-args") == "PLUGIN_BUILD_ARGS"
    assert setting_variable("dry.run") == "PLUGIN_DRY_RUN"


def test_encoding() -> None:
    assert encode_setting("text") == "text"
    assert encode_setting(True) == "true"
    assert encode_setting(3) == "3"
    assert encode_setting(None) == ""
    assert encode_setting(["a", "b", 1, False]) == "a,b,1,false"
    assert encode_setting({"b": 1, "a": "<x>"}) == '{"a":"\\u003cx\\u003e","b":1}'
    assert encode_setting([{"k": "v"}]) == '[{"k":"v"}]'
    assert encode_setting([["nested"]]) == '[["nested"]]'


def test_secrets_stay_references() -> None:
    plain, secrets = settings_environ({"password": SecretRef("pw"), "user": "me"})
    assert plain == {"PLUGIN_USER": "me"}
    assert secrets == {"PLUGIN_PASSWORD": "pw"}
