"""The reporters against hand-built results: the contract's JSON, valid SARIF, escaping."""
from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import pytest

from nilcheck.linter.ftypes import FileError, Finding, Initializer, ScanResult, TraceStep
from nilcheck.linter.reporters import FORMATS, render

ROOT = Path("/project")
SARIF_SCHEMA = Path(__file__).parents[2] / "shared/schemas/sarif-schema-2.1.0.json"

NOTIFY = Finding(
    rule="NIL001",
    severity="error",
    file="engine/plugins.py",
    line=41,
    column=9,
    field="engine.plugins.PluginAPI.host",
    message="`PluginAPI.host` is read before `PluginAPI.attach()` assigns it",
    entry="engine.server:Server.start",
    initializer=Initializer("engine.plugins.PluginAPI.attach", "engine/plugins.py", 18),
    trace=(
        TraceStep("entry", "engine.server.Server.start", "engine/server.py", 30),
        TraceStep("call", "engine.server.Server.restore", "engine/server.py", 31),
        TraceStep("spawn", "engine.server.Server.on_task_done", "engine/server.py", 52),
        TraceStep("read", "engine.plugins.PluginAPI.notify", "engine/plugins.py", 41),
    ),
    suggestion="pass `host` to PluginAPI.__init__ (constructor injection)",
    read_text="self.host.notify(event)",
)
# Same field, function, read text and file as NOTIFY: the same baseline fingerprint.
NOTIFY_AGAIN = replace(NOTIFY, line=44, column=13)
# No initializer, and every character the formats must escape.
CALLBACK = Finding(
    rule="NIL001",
    severity="warning",
    file="app/main.py",
    line=7,
    column=5,
    field="app.main.App.db",
    message='db, then: 100% "None"\nsee <locals> [x]',
    entry="app.main:main",
    initializer=None,
    trace=(
        TraceStep("entry", "app.main.main", "app/main.py", 3),
        TraceStep("spawn", "app.main.App.start.<locals>.cb", "app/main.py", 5),
        TraceStep("read", "app.main.App.start.<locals>.cb", "app/main.py", 7),
    ),
    suggestion="",
)
LEGACY = FileError("engine/legacy.py", 1, "syntax error: unexpected ':'")


def make_result(findings=(NOTIFY, NOTIFY_AGAIN, CALLBACK), errors=(LEGACY,)) -> ScanResult:
    ordered = sorted(findings, key=lambda finding: finding.sort_key)
    return ScanResult(findings=ordered, errors=list(errors), files=12, seconds=0.4134,
                      calls_resolved=830, calls_unresolved=41)


def make_rules():
    """Two rules, built with the real Rule class when the rule table imports."""
    try:
        from nilcheck.rules import Rule
    except ImportError:  # rules/ is still being written
        Rule = lambda **fields: SimpleNamespace(**fields)  # noqa: E731
    docs = "## What it does\nFinds a field read before its\ninitializer runs.\n\n## Example\n..."
    return {
        code: Rule(
            code=code,
            name=name,
            summary=f"{name} summary",
            severity=severity,
            docs=docs,
        )
        for code, name, severity in (
            ("NIL002", "other-hazard", "warning"),
            ("NIL001", "field-read-before-initializer", "error"),
        )
    }


def render_all(fmt: str, result: ScanResult, **options) -> str:
    options.setdefault("rules", make_rules())
    return render(fmt, result, ROOT, timing=False, **options)


# --- json ----------------------------------------------------------------------------------


def test_json_matches_the_contract_exactly():
    document = json.loads(render_all("json", make_result()))
    assert list(document) == ["version", "findings", "errors", "summary"]
    assert document["version"] == 1
    finding = document["findings"][1]
    assert list(finding) == [
        "rule", "severity", "file", "line", "column", "field", "message", "entry",
        "initializer", "trace", "suggestion",
    ]  # fmt: skip
    assert finding == {
        "rule": "NIL001",
        "severity": "error",
        "file": "engine/plugins.py",
        "line": 41,
        "column": 9,
        "field": "engine.plugins.PluginAPI.host",
        "message": NOTIFY.message,
        "entry": "engine.server:Server.start",
        "initializer": {
            "function": "engine.plugins.PluginAPI.attach",
            "file": "engine/plugins.py",
            "line": 18,
        },
        "trace": [
            {"kind": step.kind, "function": step.function, "file": step.file, "line": step.line}
            for step in NOTIFY.trace
        ],
        "suggestion": NOTIFY.suggestion,
    }
    assert all(list(step) == ["kind", "function", "file", "line"] for step in finding["trace"])
    assert document["errors"] == [
        {"file": "engine/legacy.py", "line": 1, "message": "syntax error: unexpected ':'"}
    ]
    assert document["summary"] == {"files": 12, "findings": 3, "errors": 1, "seconds": 0.0,
                                   "calls_resolved": 830, "calls_unresolved": 41}
    assert list(document["summary"]) == ["files", "findings", "errors", "seconds",
                                         "calls_resolved", "calls_unresolved"]


def test_json_sorted_no_read_text_null_initializer_and_time():
    text = render("json", make_result(), ROOT)
    assert text.endswith("}\n") and text.startswith('{\n  "version": 1,')
    assert "read_text" not in text
    document = json.loads(text)
    assert [(f["file"], f["line"]) for f in document["findings"]] == [
        ("app/main.py", 7), ("engine/plugins.py", 41), ("engine/plugins.py", 44)
    ]  # fmt: skip
    assert document["findings"][0]["initializer"] is None
    assert document["summary"]["seconds"] == 0.41
    # Round trip: what is parsed back renders to the same bytes.
    assert json.dumps(document, indent=2, ensure_ascii=False) + "\n" == text


def test_json_keeps_non_ascii_text():
    finding = replace(CALLBACK, message="`Größe` is None")
    assert "`Größe` is None" in render_all("json", make_result([finding], []))


# --- sarif ---------------------------------------------------------------------------------


def sarif_validator():
    jsonschema = pytest.importorskip("jsonschema")
    if not SARIF_SCHEMA.is_file():
        pytest.skip(f"SARIF schema not found at {SARIF_SCHEMA} (the shared/ folder)")
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    # This copy keeps the log's own shape under definitions/Root, so the document's top
    # level constrains nothing: validate against Root or every document would pass.
    if "properties" not in schema and "Root" in schema.get("definitions", {}):
        schema = {**schema, "$ref": "#/definitions/Root"}
    validator_class = jsonschema.validators.validator_for(schema)
    return validator_class(schema)


def render_sarif(result: ScanResult, **options) -> dict:
    return json.loads(render_all("sarif", result, **options))


def test_sarif_is_valid_and_the_validator_really_checks():
    validator = sarif_validator()
    log = render_sarif(make_result())
    errors = [error.message for error in validator.iter_errors(log)]
    assert errors == []
    broken = json.loads(json.dumps(log))
    broken["runs"][0]["results"][0]["level"] = "fatal"
    broken["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] = 0
    assert len(list(validator.iter_errors(broken))) >= 2
    assert not validator.is_valid({"version": "2.1.0"})


def test_sarif_driver_describes_every_rule():
    log = render_sarif(make_result())
    assert log["version"] == "2.1.0" and log["$schema"].startswith("https://")
    run = log["runs"][0]
    driver = run["tool"]["driver"]
    assert driver["name"] == "nilcheck" and driver["version"] and driver["informationUri"]
    assert [rule["id"] for rule in driver["rules"]] == ["NIL001", "NIL002"]
    rule = driver["rules"][0]
    assert rule["name"] == "field-read-before-initializer"
    assert rule["shortDescription"] == {"text": "field-read-before-initializer summary"}
    assert rule["fullDescription"] == {"text": "Finds a field read before its initializer runs."}
    assert rule["help"]["markdown"].startswith("## What it does")
    assert rule["help"]["text"] == rule["help"]["markdown"]
    assert rule["defaultConfiguration"] == {"level": "error"}
    assert driver["rules"][1]["defaultConfiguration"] == {"level": "warning"}
    assert rule["properties"]["tags"]
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == "file:///project/"


def test_sarif_result_has_location_flow_initializer_and_fingerprint():
    from nilcheck.linter.baseline import fingerprint

    run = render_sarif(make_result())["runs"][0]
    callback, notify, notify_again = run["results"]
    assert notify["ruleId"] == "NIL001"
    assert run["tool"]["driver"]["rules"][notify["ruleIndex"]]["id"] == "NIL001"
    assert notify["level"] == "error" and callback["level"] == "warning"
    assert notify["locations"] == [
        {
            "physicalLocation": {
                "artifactLocation": {"uri": "engine/plugins.py", "uriBaseId": "%SRCROOT%"},
                "region": {"startLine": 41, "startColumn": 9},
            }
        }
    ]
    assert notify["partialFingerprints"] == {"nilcheck/v1": fingerprint(NOTIFY)}
    flow = notify["codeFlows"][0]["threadFlows"][0]["locations"]
    assert [step["location"]["message"]["text"] for step in flow] == [
        f"{step.kind}: {step.function}" for step in NOTIFY.trace
    ]
    assert flow[2]["location"]["physicalLocation"]["region"] == {"startLine": 52}
    assert [step["kinds"] for step in flow][0] == ["enter", "function"]
    assert [step["nestingLevel"] for step in flow] == [0, 1, 2, 2]
    (related,) = notify["relatedLocations"]
    assert related["id"] == 1
    assert related["message"] == {"text": "initializer: engine.plugins.PluginAPI.attach"}
    assert related["physicalLocation"]["region"] == {"startLine": 18}
    # Code scanning shows a related location only when the message links to it.
    assert notify["message"]["text"].endswith(" (initializer: [engine.plugins.PluginAPI.attach](1))")
    # A second read with the same baseline fingerprint is still its own alert.
    assert notify_again["partialFingerprints"] == {"nilcheck/v1": fingerprint(NOTIFY) + ":2"}


def test_sarif_without_initializer_escapes_brackets_and_reports_errors():
    run = render_sarif(make_result())["runs"][0]
    callback = run["results"][0]
    assert "relatedLocations" not in callback
    assert callback["message"]["text"] == 'db, then: 100% "None"\nsee <locals> \\[x\\]'
    assert run["invocations"] == [
        {
            "executionSuccessful": True,
            "toolExecutionNotifications": [
                {
                    "level": "error",
                    "message": {"text": "syntax error: unexpected ':'"},
                    "locations": [
                        {
                            "physicalLocation": {
                                "artifactLocation": {
                                    "uri": "engine/legacy.py",
                                    "uriBaseId": "%SRCROOT%",
                                },
                                "region": {"startLine": 1},
                            }
                        }
                    ],
                }
            ],
        }
    ]


def test_sarif_uri_is_percent_encoded_and_unknown_rules_get_a_descriptor():
    validator = sarif_validator()
    odd = replace(CALLBACK, file="my app/#1.py", rule="NIL999")
    log = render_sarif(make_result([odd], []))
    assert validator.is_valid(log)
    result = log["runs"][0]["results"][0]
    uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "my%20app/%231.py"
    assert log["runs"][0]["tool"]["driver"]["rules"][result["ruleIndex"]]["id"] == "NIL999"


def test_sarif_describes_the_real_rule_table_by_default():
    try:
        from nilcheck.rules import RULES
    except ImportError as error:
        pytest.skip(f"nilcheck.rules does not import yet: {error}")
    log = json.loads(render("sarif", make_result([], []), ROOT))
    assert [rule["id"] for rule in log["runs"][0]["tool"]["driver"]["rules"]] == sorted(RULES)
    assert sarif_validator().is_valid(log)


# --- github --------------------------------------------------------------------------------


def test_github_workflow_commands_are_escaped():
    lines = render_all("github", make_result()).splitlines()
    assert len(lines) == 4
    callback = lines[0]
    assert callback.startswith("::warning file=app/main.py,line=7,col=5,title=NIL001::")
    message = callback.split("::", 2)[2]
    assert message.startswith('db, then: 100%25 "None"%0Asee <locals> [x]%0A')
    assert "%0Aapp/main.py:5: spawn app.main.App.start.<locals>.cb" in message
    assert lines[1].startswith("::error file=engine/plugins.py,line=41,col=9,title=NIL001::")
    assert "initializer: engine.plugins.PluginAPI.attach (engine/plugins.py:18)" in lines[1]
    assert lines[3] == (
        "::warning file=engine/legacy.py,line=1,title=nilcheck::"
        "could not analyse this file: syntax error: unexpected ':'"
    )


def test_github_property_values_escape_comma_colon_and_newline():
    from nilcheck.linter.reporters.github import escape_property

    assert escape_property("a,b:c\r\nd%") == "a%2Cb%3Ac%0D%0Ad%25"
    odd = replace(NOTIFY, file="C:/x,y.py")
    line = render_all("github", make_result([odd], []))
    assert line.startswith("::error file=C%3A/x%2Cy.py,line=41,")


# --- markdown ------------------------------------------------------------------------------


def mermaid_blocks(text: str) -> list:
    return re.findall(r"```mermaid\n(.*?)\n```", text, re.S)


def test_markdown_draws_each_trace_as_a_flowchart():
    text = render_all("markdown", make_result())
    assert text.startswith("# nilcheck report\n\nFound 3 findings in 12 files")
    assert "## NIL001 `engine/plugins.py:41:9`" in text
    assert "- **Fix:** pass `host` to PluginAPI.__init__ (constructor injection)" in text
    callback, notify, _again = mermaid_blocks(text)
    assert notify.startswith("flowchart TD\n")
    nodes = re.findall(r'^\s+(n\d+)\["', notify, re.M)
    assert nodes == ["n0", "n1", "n2", "n3", "n4"]  # four steps and the initializer
    assert "n1 -.->|spawns| n2" in notify
    assert "n0 --> n1" in notify and "n2 --> n3" in notify
    assert "n4 -.->|assigns too late| n3" in notify
    assert "class n3 read" in notify and "class n4 late" in notify
    assert 'n4["initializer: engine.plugins.PluginAPI.attach<br/>engine/plugins.py:18"]' in notify
    # No initializer: only the steps, and the spawned callback's name escaped.
    assert re.findall(r'^\s+(n\d+)\["', callback, re.M) == ["n0", "n1", "n2"]
    assert "assigns too late" not in callback and not re.search(r"class n\d+ late", callback)
    assert 'n1["spawn: app.main.App.start.#60;locals#62;.cb<br/>app/main.py:5"]' in callback
    assert "- **Initializer:** not found" in text


def test_markdown_escapes_labels_prose_and_table_cells():
    from nilcheck.linter.reporters.markdown import mermaid_text, prose

    assert mermaid_text('a "b" [c] <d> #e|f') == "a #34;b#34; #91;c#93; #60;d#62; #35;e#124;f"
    assert prose("see <locals> and `x<y>`\nnext") == "see &lt;locals&gt; and `x<y>` next"
    error = FileError("a|b.py", 3, "bad | pipe <here>")
    text = render_all("markdown", make_result([], [error]))
    assert "| `a\\|b.py` | 3 | bad \\| pipe &lt;here&gt; |" in text
    assert "(1 file could not be analysed)" in text


def test_markdown_without_findings_is_short():
    text = render_all("markdown", make_result([], []))
    assert text == "# nilcheck report\n\nNo findings in 12 files.\n"


# --- text ----------------------------------------------------------------------------------


def test_text_shows_location_code_then_trace():
    lines = render_all("text", make_result()).splitlines()
    notify = lines.index(
        "engine/plugins.py:41:9: NIL001 "
        "`PluginAPI.host` is read before `PluginAPI.attach()` assigns it"
    )
    assert lines[notify + 1 : notify + 7] == [
        "    engine/server.py:30:  entry  engine.server.Server.start",
        "    engine/server.py:31:  call   engine.server.Server.restore",
        "    engine/server.py:52:  spawn  engine.server.Server.on_task_done",
        "    engine/plugins.py:41: read   engine.plugins.PluginAPI.notify",
        "    initializer: engine.plugins.PluginAPI.attach (engine/plugins.py:18)",
        "    fix: pass `host` to PluginAPI.__init__ (constructor injection)",
    ]
    assert lines[notify + 7] == ""
    assert lines[0] == 'app/main.py:7:5: NIL001 db, then: 100% "None" see <locals> [x]'
    assert "    initializer: not found" in lines
    assert "engine/legacy.py:1: error: syntax error: unexpected ':'" in lines
    assert lines[-1] == "Found 3 findings in 12 files (1 file could not be analysed)"


def test_text_summary_timing_and_colour():
    plain = render("text", make_result([], []), ROOT)
    assert plain == "No findings in 12 files in 0.41s\n"
    assert "\x1b[" not in render("text", make_result(), ROOT)
    coloured = render("text", make_result(), ROOT, color=True, timing=False)
    assert "\x1b[" in coloured
    assert re.sub(r"\x1b\[[0-9;]*m", "", coloured) == render_all("text", make_result())


def test_text_counts_singular():
    result = ScanResult(findings=[NOTIFY], errors=[], files=1, seconds=0.0)
    assert render("text", result, ROOT, timing=False).endswith("\nFound 1 finding in 1 file\n")


# --- every format --------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_output_is_byte_identical_across_renders(fmt):
    first = render(fmt, make_result(), ROOT, rules=make_rules())
    second = render(fmt, make_result(), ROOT, rules=make_rules())
    assert first == second
    # Findings given out of order come out in the contract's order.
    shuffled = ScanResult(
        findings=[NOTIFY_AGAIN, CALLBACK, NOTIFY], errors=[LEGACY], files=12, seconds=0.4134,
        calls_resolved=830, calls_unresolved=41,
    )
    assert render(fmt, shuffled, ROOT, rules=make_rules()) == first


@pytest.mark.parametrize("fmt", FORMATS)
def test_findings_without_initializer_render_in_every_format(fmt):
    text = render_all(fmt, make_result([CALLBACK], []))
    assert "app/main.py" in text


@pytest.mark.parametrize("fmt", FORMATS)
def test_empty_result_renders_in_every_format(fmt):
    assert render_all(fmt, ScanResult()).endswith("\n") or fmt == "github"


def test_unknown_format_is_a_value_error():
    with pytest.raises(ValueError, match="unknown format 'xml'"):
        render("xml", make_result(), ROOT)
