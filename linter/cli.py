"""The `nilcheck` command: scan, graph, why, rules, explain.

Exit codes follow CONTRACT.md: 0 no findings, 1 findings, 2 nilcheck could not run.
Every failure is one `nilcheck: error: ...` line on stderr, never a traceback.
"""
from __future__ import annotations

import functools
import os
import sys
import time
from pathlib import Path
from typing import Callable, Optional, Tuple

import click

from nilcheck.linter.ftypes import ConfigError, ScanResult
from nilcheck.linter.reporters import FORMATS, render

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("nilcheck")
    except Exception:  # not installed as a distribution, e.g. run from a checkout
        return "unknown"


def _fail(message: str, kind: str = "error") -> "click.exceptions.Exit":
    click.echo(f"nilcheck: {kind}: {' '.join(message.split())}", err=True)
    return click.exceptions.Exit(EXIT_ERROR)


def _guarded(command: Callable) -> Callable:
    """Turn ConfigError, OSError and any unexpected exception into one line and exit 2."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except ConfigError as error:
            raise _fail(str(error)) from None
        except Exception as error:  # the promise is "never a traceback"
            raise _fail(f"{type(error).__name__}: {error}", kind="internal error") from None

    return wrapper


def _print_version(context: click.Context, _param: click.Parameter, value: bool) -> None:
    # Looked up only when asked: importlib.metadata costs every scan 30 ms to import.
    if value and not context.resilient_parsing:
        click.echo(f"nilcheck, version {_version()}")
        context.exit()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--version", is_flag=True, expose_value=False, is_eager=True,
              callback=_print_version, help="Show the version and exit.")
def main() -> None:
    """Find fields read before their late initializer runs on a program's startup paths."""


@main.command()
@click.argument("paths", nargs=-1, metavar="[PATH]...")
@click.option("--entry", "entries", multiple=True, metavar="MODULE:QUALNAME",
              help="Startup entry point; repeatable. Overrides the configured ones.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True)
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the report to FILE instead of stdout.")
@click.option("--select", metavar="CODES", help="Comma-separated rule codes to report.")
@click.option("--ignore", metavar="CODES", help="Comma-separated rule codes not to report.")
@click.option("--baseline", type=click.Path(dir_okay=False, path_type=Path),
              help="Do not report findings recorded in FILE.")
@click.option("--write-baseline", type=click.Path(dir_okay=False, path_type=Path),
              help="Record every current finding in FILE and exit 0.")
@click.option("--jobs", type=click.IntRange(min=1), help="Worker processes [default: CPUs].")
@click.option("--no-cache", is_flag=True, help="Do not read or write the analysis cache.")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when there are findings.")
@click.option("--color/--no-color", default=None,
              help="Colour the text report [default: only on a terminal, unless NO_COLOR is set].")
@click.option("--quiet", "-q", is_flag=True,
              help="Print no report; the exit code (and --output) carry the result.")
@click.option("--show-unused-suppressions", is_flag=True,
              help="Warn on stderr about `# nilcheck: ignore` comments that hide nothing.")
@click.option("--diff", is_flag=True,
              help="Print the safe fixes as a unified diff; explain the findings left.")
@click.option("--fix", is_flag=True,
              help="Apply the safe fixes in place, then report what is left.")
@_guarded
def scan(
    paths: Tuple[str, ...],
    entries: Tuple[str, ...],
    fmt: str,
    output: Optional[Path],
    select: Optional[str],
    ignore: Optional[str],
    baseline: Optional[Path],
    write_baseline: Optional[Path],
    jobs: Optional[int],
    no_cache: bool,
    exit_zero: bool,
    color: Optional[bool],
    quiet: bool,
    show_unused_suppressions: bool,
    diff: bool,
    fix: bool,
) -> None:
    """Analyse the project holding PATH (default: .) and report init-order nil hazards."""
    if diff and fix:
        raise _fail("--diff and --fix are mutually exclusive")
    if (diff or fix) and write_baseline is not None:
        raise _fail(f"{'--diff' if diff else '--fix'} and --write-baseline are mutually exclusive")

    from nilcheck.linter import api
    from nilcheck.linter.config import split_codes
    from nilcheck.linter.progress import progress_for_terminal

    scan_again = functools.partial(
        api.scan,
        list(paths),
        entry=entries,
        select=split_codes([select]) if select is not None else None,
        ignore=split_codes([ignore]) if ignore is not None else None,
        baseline=baseline,
        jobs=jobs,
        use_cache=not no_cache,
        show_unused=show_unused_suppressions,
        use_baseline=write_baseline is None,
    )
    scan_started_ns = time.time_ns()  # --fix leaves alone a file modified after this
    outcome = scan_again(progress=progress_for_terminal(quiet))
    if not quiet:
        for warning in outcome.result.warnings:
            click.echo(f"nilcheck: warning: {warning}", err=True)
    for file, line in outcome.unused_suppressions:
        click.echo(f"{file}:{line}: warning: unused suppression comment", err=True)

    if diff:
        _show_diff(outcome, output, quiet)
        raise click.exceptions.Exit(_exit_code(outcome.result, exit_zero))
    if fix:
        outcome = _apply_fixes(outcome, scan_started_ns, scan_again, quiet)

    if write_baseline is not None:
        from nilcheck.linter.baseline import write_baseline as write

        _write_or_fail(write_baseline, lambda: write(write_baseline, outcome.result.findings))
        if not quiet:
            count = len(outcome.result.findings)
            click.echo(f"nilcheck: recorded {count} finding{'s' * (count != 1)} in {write_baseline}", err=True)
        raise click.exceptions.Exit(EXIT_CLEAN)

    colored = _use_color(color, fmt, output)
    report = _render(fmt, outcome.result, outcome.root, color=colored)
    if output is not None:
        from nilcheck.linter.fileio import write_text_atomic

        _write_or_fail(output, lambda: write_text_atomic(output, report))
    elif not quiet and report:
        # color= stops click from stripping the escapes that --color asked for on a pipe.
        click.echo(report, nl=not report.endswith("\n"), color=colored)
    raise click.exceptions.Exit(_exit_code(outcome.result, exit_zero))


def _show_diff(outcome, output: Optional[Path], quiet: bool) -> None:
    """The safe fixes as a patch on stdout (or --output); why the rest are not fixed, on
    stderr, so that `nilcheck scan --diff | git apply` works."""
    from nilcheck.linter import fixes

    plan = fixes.plan_for_scan(outcome)
    patch = plan.diff()
    if output is not None:
        from nilcheck.linter.fileio import write_text_atomic

        _write_or_fail(output, lambda: write_text_atomic(output, patch))
    elif patch:
        click.echo(patch, nl=False)
    if not quiet:
        for line in fixes.plan_report(plan):
            click.echo(line, err=True)


def _apply_fixes(outcome, scan_started_ns: int, scan_again: Callable, quiet: bool):
    """Apply the safe fixes, say what was done and what was not, and return a new scan
    (the report and the exit code are about the findings that are left)."""
    from nilcheck.linter import fixes

    plan = fixes.plan_for_scan(outcome)
    applied = fixes.apply_fixes(plan, scan_started_ns)
    if not quiet:
        for line in fixes.apply_report(plan, applied):
            click.echo(line, err=True)
    return scan_again() if applied.written else outcome


def _render(fmt: str, result: ScanResult, root: Path, *, color: bool = False) -> str:
    return render(fmt, result, root, color=color)


def _use_color(flag: Optional[bool], fmt: str, output: Optional[Path]) -> bool:
    """Only the text format has colour. --color/--no-color decide; by default colour goes
    only to a terminal on stdout, and never when NO_COLOR is set (no-color.org)."""
    if fmt != "text":
        return False
    if flag is not None:
        return flag
    if output is not None or os.environ.get("NO_COLOR"):
        return False
    return _stdout_is_terminal()


def _stdout_is_terminal() -> bool:
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):  # replaced by an object without it, or closed
        return False


def _write_or_fail(path: Path, write: Callable[[], None]) -> None:
    try:
        write()
    except OSError as error:
        raise ConfigError(f"cannot write {path}: {error.strerror or error}") from None


def _exit_code(result: ScanResult, exit_zero: bool) -> int:
    if result.findings and not exit_zero:
        return EXIT_FINDINGS
    return EXIT_CLEAN


@main.command()
@click.argument("path", required=False, metavar="[PATH]")
@click.option("--entry", "entries", multiple=True, metavar="MODULE:QUALNAME",
              help="Start from this entry point; repeatable. Overrides the configured ones.")
@click.option("--all", "every_function", is_flag=True,
              help="Start from every function and module, not the entry points.")
@click.option("--format", "fmt", type=click.Choice(("json", "dot", "mermaid", "pycg")),
              default="json", show_default=True)
@click.option("--unresolved", is_flag=True,
              help="List the calls on those paths that could not be resolved instead.")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to FILE instead of stdout.")
@click.option("--jobs", type=click.IntRange(min=1), help="Worker processes [default: CPUs].")
@click.option("--no-cache", is_flag=True, help="Do not read or write the analysis cache.")
@_guarded
def graph(path: Optional[str], entries: Tuple[str, ...], every_function: bool, fmt: str,
          unresolved: bool, output: Optional[Path], jobs: Optional[int], no_cache: bool) -> None:
    """Print the call graph the analysis uses, from the entry points (or every function)."""
    if entries and every_function:
        raise _fail("--entry and --all are mutually exclusive")
    from nilcheck.linter import api, callgraph

    built, _, errors = api.graph(path, entry=entries, every_function=every_function,
                                 jobs=jobs, use_cache=not no_cache)
    for error in errors:
        click.echo(f"{error.file}:{error.line}: error: {error.message}", err=True)
    text = callgraph.render(built, fmt, unresolved_only=unresolved)
    if output is not None:
        from nilcheck.linter.fileio import write_text_atomic

        _write_or_fail(output, lambda: write_text_atomic(output, text))
    else:
        click.echo(text, nl=False)
    raise click.exceptions.Exit(EXIT_CLEAN)


@main.command()
@click.argument("field", metavar="FIELD")
@click.argument("path", required=False, metavar="[PATH]")
@click.option("--entry", "entries", multiple=True, metavar="MODULE:QUALNAME",
              help="Startup entry point; repeatable. Overrides the configured ones.")
@click.option("--format", "fmt", type=click.Choice(("text", "json")), default="text",
              show_default=True)
@click.option("--jobs", type=click.IntRange(min=1), help="Worker processes [default: CPUs].")
@click.option("--no-cache", is_flag=True, help="Do not read or write the analysis cache.")
@_guarded
def why(field: str, path: Optional[str], entries: Tuple[str, ...], fmt: str,
        jobs: Optional[int], no_cache: bool) -> None:
    """Explain FIELD (module:Class.attr, or Class.attr when unique): is it late, what
    assigns it, and the scan's verdict on every read of it, with the reason."""
    from nilcheck.linter import api
    from nilcheck.linter import why as field_story

    story, _, errors = api.why(field, path, entry=entries, jobs=jobs, use_cache=not no_cache)
    for error in errors:
        click.echo(f"{error.file}:{error.line}: error: {error.message}", err=True)
    click.echo(field_story.render(story, fmt), nl=False)
    raise click.exceptions.Exit(EXIT_CLEAN)


@main.command()
@_guarded
def rules() -> None:
    """List every rule: code, name, one-line summary."""
    from nilcheck.rules import RULES

    width = max((len(rule.name) for rule in RULES.values()), default=0)
    for code in sorted(RULES):
        rule = RULES[code]
        click.echo(f"{code}  {rule.name.ljust(width)}  {rule.summary}".rstrip())


@main.command()
@click.argument("code")
@_guarded
def explain(code: str) -> None:
    """Print the full documentation of rule CODE."""
    from nilcheck.rules import RULES

    rule = RULES.get(code.strip().upper())
    if rule is None:
        raise ConfigError(f"unknown rule code {code!r} (known codes: {', '.join(sorted(RULES))})")
    click.echo(rule.docs.strip("\n"))


def run() -> None:
    """The `nilcheck` command: main(), then an exit without the interpreter's teardown.

    A scan leaves millions of objects behind (facts, libcst's and networkx's modules),
    and freeing them one by one at exit took 0.12-0.18 s on Django, a sixth of a scan
    after a one-file edit. Everything nilcheck writes is closed by the time main()
    returns, so once the standard streams are flushed the process can end at once (mypy
    does the same)."""
    try:
        main()  # standalone mode: always ends in SystemExit
        code: object = 0
    except SystemExit as stop:
        code = stop.code
    if code is None:
        code = 0
    elif not isinstance(code, int):  # sys.exit("message") semantics
        print(code, file=sys.stderr)
        code = 1
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except OSError:  # e.g. the reader of a pipe went away: nothing more can be said
        code = code or EXIT_ERROR
    os._exit(code)


if __name__ == "__main__":  # pragma: no cover
    run()
