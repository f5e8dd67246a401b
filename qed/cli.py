"""The command line: `qed build|check|new|version`, the only place that prints errors and sets exit codes.

User mistakes print as `path:line:col: message`, one per line, exit status 1; anything
else is a bug in qed and shows its traceback only with `--debug`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import os
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path

from qed import __version__
from qed.errors import BuildFailed, QedError, reading_order

EXIT_OK, EXIT_ERRORS, EXIT_BUG = 0, 1, 2


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `python build.py` and the `qed` console script."""
    args = _parser().parse_args(_default_to_build(list(sys.argv[1:] if argv is None else argv)))
    try:
        return args.run(args)
    except BuildFailed as failure:
        for annotation in failure.annotations:
            print(annotation)
        _print_errors(failure.errors, failure.notes)
        return EXIT_ERRORS
    except QedError as error:
        _print_errors([error], building=getattr(args, "run", None) is _run_build)
        return EXIT_ERRORS
    except KeyboardInterrupt:
        print("interrupted; the last good site is untouched", file=sys.stderr)
        return 130
    except Exception:
        if getattr(args, "debug", False):
            raise
        print(f"qed: internal error: {traceback.format_exc(limit=1).strip().splitlines()[-1]}\n"
              "This is a bug in qed, not in your site. Run again with --debug for the traceback.", file=sys.stderr)
        return EXIT_BUG


def _default_to_build(argv: list[str]) -> list[str]:
    """`python build.py` and `python build.py -D` mean `build`, as plain `hugo` does."""
    commands = {"build", "check", "serve", "new", "version", "-h", "--help"}
    return argv if argv and argv[0] in commands else ["build", *argv]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="qed", description="Build a static site of mathematical notes whose theorems are checked by code.",
        epilog="Run 'qed COMMAND --help' for a command's options. With no command, qed builds the site.")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")
    _add_build(commands)
    _add_check(commands)
    _add_serve(commands)
    new = commands.add_parser("new", help="create a content file from an archetype",
                              description="Create content/PATH from an archetype (the section's, else default.md).")
    new.add_argument("path", help="path below content/, e.g. posts/my-note.md")
    _add_site_options(new)
    new.set_defaults(run=_run_new)
    version = commands.add_parser("version", help="print qed's version")
    version.set_defaults(run=lambda _args: print(f"qed {__version__}") or EXIT_OK)
    return parser


def _add_site_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-s", "--source", type=Path, default=Path("."), metavar="DIR",
                        help="the site folder (default: the current folder)")
    parser.add_argument("--debug", action="store_true", help="show Python tracebacks for internal errors")
    parser.add_argument("-q", "--quiet", action="store_true", help="print errors only")


def _add_content_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-D", "--drafts", action="store_true", help="include pages marked draft")
    parser.add_argument("-F", "--future", action="store_true", help="include pages dated in the future")
    parser.add_argument("-E", "--expired", action="store_true", help="include pages past their expiryDate")
    parser.add_argument("-e", "--environment", metavar="NAME",
                        help="read config/NAME/ over config/_default/ (default: production; serve: development)")


def _add_verify_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("verification")
    group.add_argument("-j", "--jobs", type=int, default=0, metavar="N",
                       help="verifier processes to run at once (default: one per core)")
    group.add_argument("--refresh", action="store_true", help="re-run every verifier, ignoring cached results")
    group.add_argument("--strict", action="store_true",
                       help="fail on theorems without a verifier and on math that cannot be typeset at build time")
    group.add_argument("--timeout", type=float, metavar="SECONDS", help="time limit per claim (default 30)")
    group.add_argument("--junit", type=Path, metavar="FILE", help="write verification results as JUnit XML")


def _add_reading_command(commands: argparse._SubParsersAction, name: str, summary: str,
                         description: str) -> argparse.ArgumentParser:
    """A command that reads a site and verifies it: `build` and `check` share these options."""
    parser = commands.add_parser(name, help=summary, description=description)
    _add_site_options(parser)
    _add_content_options(parser)
    return parser


def _add_build(commands: argparse._SubParsersAction) -> None:
    build = _add_reading_command(commands, "build", "build the site into public/ (the default command)",
                                 "Render content/ into a static site. The site is built in a fresh folder and "
                                 "swapped in only when the whole build succeeded.")
    build.add_argument("-d", "--destination", type=Path, metavar="DIR", help="output folder (default: public/)")
    build.add_argument("-b", "--base-url", metavar="URL", help="the site's address, overriding baseURL")
    build.add_argument("--clean", action="store_true",
                       help="build from scratch: formulas, page bodies and verifier results all computed again")
    _add_verify_options(build)
    build.set_defaults(run=_run_build, write=True)


def _add_serve(commands: argparse._SubParsersAction) -> None:
    serve = _add_reading_command(commands, "serve", "build, serve on localhost and rebuild on every change",
                                 "Build the site into .qed-cache/serve/ (public/ is left alone), serve it, "
                                 "re-render only what a changed file reaches and reload open pages. A failed "
                                 "build (the first one too) keeps serving and shows its errors on the page.")
    serve.add_argument("-p", "--port", type=int, default=1313, help="port to listen on (default 1313, as Hugo)")
    serve.add_argument("--bind", default="127.0.0.1", metavar="ADDRESS",
                       help="interface to listen on (default 127.0.0.1)")
    _add_verify_options(serve)
    serve.set_defaults(run=_run_serve)


def _add_check(commands: argparse._SubParsersAction) -> None:
    check = _add_reading_command(commands, "check", "verify every claim without writing the site (for CI)",
                                 "Read the site, run every verifier and report; writes nothing but the "
                                 "optional JUnit file.")
    _add_verify_options(check)
    check.add_argument("--replay", metavar="ID", help="re-run one claim's verifier (with --seed) and show the failure")
    check.add_argument("--seed", type=int, help="the seed of the trial to replay, as printed by a failing build")
    check.set_defaults(run=_run_build, write=False, destination=None, base_url=None, clean=False)


def _run_build(args: argparse.Namespace) -> int:
    from qed.pipeline import BuildOptions, build_site
    from qed.progress import ProgressLine

    options = BuildOptions(source=args.source, destination=args.destination, base_url=args.base_url,
                           drafts=args.drafts, future=args.future, expired=args.expired, clean=args.clean,
                           write=args.write, jobs=args.jobs, refresh=args.refresh, strict=args.strict,
                           junit=args.junit, timeout=args.timeout, replay=_replay_request(args),
                           environment=args.environment)
    progress = ProgressLine(enabled=not args.quiet and sys.stderr.isatty())
    try:
        result = build_site(options, progress.update)
    finally:
        progress.clear()
    for annotation in result.annotations:
        print(annotation)
    if not args.quiet:
        for warning in result.warnings:
            print(f"warning: {warning}", file=sys.stderr)
        if options.replay is None:
            print(progress.summary(result), file=sys.stderr)
    return EXIT_OK


def _run_serve(args: argparse.Namespace) -> int:
    from qed.pipeline import BuildOptions
    from qed.serve import serve

    options = BuildOptions(source=args.source, drafts=args.drafts, future=args.future, expired=args.expired,
                           jobs=args.jobs, refresh=args.refresh, strict=args.strict, timeout=args.timeout,
                           environment=args.environment)
    try:
        serve(options, args.bind, args.port, lambda line: print(line, file=sys.stderr, flush=True))
    except KeyboardInterrupt:
        print("stopped", file=sys.stderr)
    except OSError as error:
        raise QedError(f"cannot serve on {args.bind}:{args.port}: {error.strerror or error}") from None
    return EXIT_OK


def _replay_request(args: argparse.Namespace) -> tuple[str, int] | None:
    replay = getattr(args, "replay", None)
    if replay is None:
        return None
    if args.seed is None:
        raise QedError("--replay needs --seed N (the seed printed with the failure)")
    return replay, args.seed


def _run_new(args: argparse.Namespace) -> int:
    from qed.archetypes import create_content

    created = create_content(args.source.resolve(), args.path, dt.datetime.now().astimezone())
    if not args.quiet:
        print(f"created {os.path.relpath(created)}")
    return EXIT_OK


ERRORS_SHOWN_PER_FILE = 20  # a page with 60,000 broken calls says so in 21 lines, not 60,000


def _print_errors(errors: list[QedError], notes: Sequence[str] = (), *, building: bool = True) -> None:
    """Each error on its line, by file and line; a build also says its outcome."""
    for path, in_file in itertools.groupby(reading_order(errors), key=_error_path):
        listed = list(in_file)
        for error in listed[:ERRORS_SHOWN_PER_FILE]:
            print(f"{error}" if error.location else f"error: {error}", file=sys.stderr)
        if len(listed) > ERRORS_SHOWN_PER_FILE:
            print(f"{path or 'qed'}: {len(listed) - ERRORS_SHOWN_PER_FILE} more errors in this file not shown",
                  file=sys.stderr)
    for note in notes:
        print(note, file=sys.stderr)
    if not building:
        return
    plural = "s" if len(errors) != 1 else ""
    print(f"build failed with {len(errors)} error{plural}; the last good site is untouched", file=sys.stderr)


def _error_path(error: QedError) -> str:
    return error.location.path if error.location else ""
