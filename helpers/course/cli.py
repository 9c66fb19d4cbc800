"""The command line, ``python -m helpers`` (and ``dlfb``): one parser, one list of command modules.

A command is a module with ``add_parser(sub, common)``: it adds its sub-parser(s) to ``sub`` (with ``common``, the
``--notebooks-dir`` option, as a parent where it reads notebooks) and sets ``handler``, the function that runs it,
with ``set_defaults(handler=...)``. A handler takes the parsed arguments and returns the exit status; it raises
:class:`~helpers.course.runner.planning.UsageError` for a wrong command line. To add a command, write that module
and list it in :data:`COMMANDS`.

Exit status: 0 done, 1 the command ran and found failures (``run``), 2 invalid command line, 130 interrupted.
"""

from __future__ import annotations

import argparse
import sys

from helpers.course import progress, run_times, store, website
from helpers.course.runner import commands
from helpers.course.runner.planning import DEFAULT_NOTEBOOKS_DIR, MAX_MESSAGE_CHARS, UsageError, cut, normalize_param_argv

#: The command modules, in the order ``--help`` lists them.
COMMANDS = (commands, run_times, store, website, progress)


def build_parser() -> argparse.ArgumentParser:
    """The ``python -m helpers`` argument parser with every command of :data:`COMMANDS`."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--notebooks-dir", default=str(DEFAULT_NOTEBOOKS_DIR), metavar="DIR",
                        help="folder holding the NN_*.ipynb notebooks (default: %(default)s)")
    parser = argparse.ArgumentParser(
        prog="python -m helpers",
        description="Run the course notebooks with papermill, or list their parameters.",
        epilog="Examples:\n  python -m helpers list\n  python -m helpers run 03 -p EPOCHS 1\n"
               "  python -m helpers run 05_mlp --grid ACTIVATION=relu,tanh\n"
               "Run 'python -m helpers run --help' for all run options.",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    for module in COMMANDS:
        module.add_parser(sub, common)
    sub.metavar = "{" + ",".join(sub.choices) + "}"
    parser.run_options = tuple(sub.choices["run"]._option_string_actions)  # a -p value that is one of these is refused
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m helpers``; returns the exit status."""
    parser = build_parser()
    try:
        argv = normalize_param_argv(list(sys.argv[1:] if argv is None else argv), parser.run_options)
    except UsageError as exc:
        print(f"error: {cut(str(exc), MAX_MESSAGE_CHARS)}", file=sys.stderr)
        return 2
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except UsageError as exc:
        print(f"error: {cut(str(exc), MAX_MESSAGE_CHARS)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
