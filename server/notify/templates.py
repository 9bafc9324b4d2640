"""The jinja2 templates of build emails: a plain-text part and an HTML part that says the same things."""

from __future__ import annotations

import jinja2

TEXT = """\
{{ headline }}

Commit:   {{ commit }}
{{ (ref_kind ~ ":").ljust(9) }} {{ ref_label }}
Author:   {{ author }}
{% if duration %}
Duration: {{ duration }}
{% endif %}
Event:    {{ event }}
{% if error %}

Error:
{% for line in error %}
  {{ line }}
{% endfor %}
{% endif %}
{% if steps %}

Steps:
{% for step in steps %}
  {{ (step.path.ljust(step_width) ~ "  " ~ step.word.ljust(word_width) ~ "  " ~ step.exit).rstrip() }}
{% endfor %}
{% endif %}
{% if infrastructure %}

Infrastructure failure: {{ infrastructure }} (not the code's fault: a restart may pass)
{% endif %}
{% if tests %}

Tests:    {{ tests }}
{% endif %}
{% if failing_tests %}

Failing tests ({{ tests_failed }}):
{% for test in failing_tests %}
  x {{ test.name }}{% if test.where %}  ({{ test.where }}){% endif %}

{% for line in test.message %}
      {{ line }}
{% endfor %}
{% endfor %}
{% endif %}
{% if failing_lines %}

{{ lines_title }}:
{% for line in failing_lines %}
  | {{ line }}
{% endfor %}
{% endif %}
{% if artifacts %}

Artifacts:
{% for artifact in artifacts %}
  {{ artifact.path }} ({{ artifact.size }}): {{ artifact.link }}
{% endfor %}
{% endif %}

Build page: {{ link }}
"""

HTML = """\
<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>{{ subject }}</title></head>
<body style="margin:0;padding:16px;font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;\
color:#1f2328;background:#ffffff">
<h1 style="font-size:18px;margin:0 0 12px 0;color:{{ colour }}">{{ symbol }} {{ headline }}</h1>
<table role="presentation" style="border-collapse:collapse;font-size:14px;margin-bottom:16px">
<tr><th scope="row" style="text-align:left;padding:2px 12px 2px 0">Commit</th>\
<td><code>{{ short_sha }}</code> {{ title }}</td></tr>
<tr><th scope="row" style="text-align:left;padding:2px 12px 2px 0">{{ ref_kind }}</th>\
<td>{{ ref_label }}</td></tr>
<tr><th scope="row" style="text-align:left;padding:2px 12px 2px 0">Author</th><td>{{ author }}</td></tr>
{% if duration %}
<tr><th scope="row" style="text-align:left;padding:2px 12px 2px 0">Duration</th><td>{{ duration }}</td></tr>
{% endif %}
<tr><th scope="row" style="text-align:left;padding:2px 12px 2px 0">Event</th><td>{{ event }}</td></tr>
</table>
{% if error %}
<h2 style="font-size:15px;margin:16px 0 6px 0">Error</h2>
<pre style="background:#fff1f0;border:1px solid #cf222e;padding:8px;white-space:pre-wrap">\
{{ error | join("\\n") }}</pre>
{% endif %}
{% if steps %}
<h2 style="font-size:15px;margin:16px 0 6px 0">Steps</h2>
<table style="border-collapse:collapse;font-size:14px">
<thead><tr><th scope="col" style="text-align:left;padding:2px 12px 2px 0">Step</th>\
<th scope="col" style="text-align:left;padding:2px 12px 2px 0">Status</th>\
<th scope="col" style="text-align:left;padding:2px 0">Exit code</th></tr></thead>
<tbody>
{% for step in steps %}
<tr><td style="padding:2px 12px 2px 0"><code>{{ step.path }}</code></td>\
<td style="padding:2px 12px 2px 0;color:{{ step.colour }}">{{ step.symbol }} {{ step.word }}</td>\
<td style="padding:2px 0">{{ step.code }}</td></tr>
{% endfor %}
</tbody>
</table>
{% endif %}
{% if infrastructure %}
<p style="background:#fff1f0;border:1px solid #cf222e;padding:8px"><strong>Infrastructure failure:</strong> \
{{ infrastructure }} (not the code's fault: a restart may pass)</p>
{% endif %}
{% if tests %}
<p><strong>Tests:</strong> {{ tests }}</p>
{% endif %}
{% if failing_tests %}
<h2 style="font-size:15px;margin:16px 0 6px 0">Failing tests ({{ tests_failed }})</h2>
<ul style="font-size:14px;padding-left:18px">
{% for test in failing_tests %}
<li><code>{{ test.name }}</code>\
{% if test.where %} <span style="color:#656d76">{{ test.where }}</span>{% endif %}\
{% if test.message %}<pre style="margin:4px 0;white-space:pre-wrap;color:#cf222e">\
{{ test.message | join("\n") }}</pre>{% endif %}</li>
{% endfor %}
</ul>
{% endif %}
{% if failing_lines %}
<h2 style="font-size:15px;margin:16px 0 6px 0">{{ lines_title }}</h2>
<pre style="background:#f6f8fa;border:1px solid #d0d7de;padding:8px;font-size:12px;overflow:auto">\
{{ failing_lines | join("\\n") }}</pre>
{% endif %}
{% if artifacts %}
<h2 style="font-size:15px;margin:16px 0 6px 0">Artifacts</h2>
<ul style="font-size:14px;padding-left:18px">
{% for artifact in artifacts %}
<li><a href="{{ artifact.link }}">{{ artifact.path }}</a> \
<span style="color:#656d76">{{ artifact.size }}</span></li>
{% endfor %}
</ul>
{% endif %}
<p style="margin-top:16px"><a href="{{ link }}">Open build #{{ number }} in Hangar</a></p>
</body>
</html>
"""

_text = jinja2.Environment(
    autoescape=False, undefined=jinja2.StrictUndefined, trim_blocks=True, keep_trailing_newline=True
)
_html = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True)

TEXT_TEMPLATE = _text.from_string(TEXT)
HTML_TEMPLATE = _html.from_string(HTML)
