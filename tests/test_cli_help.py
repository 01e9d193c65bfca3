"""Every subcommand's --help explains its arguments and shows an example."""
from __future__ import annotations

import argparse

import pytest

from conftest import run_crawler
from crawler.cli import build_parser


def _commands(parser, prefix=()):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield (*prefix, name), sub
                yield from _commands(sub, (*prefix, name))


COMMANDS = dict(_commands(build_parser()))


@pytest.mark.parametrize("command", sorted(COMMANDS), ids=" ".join)
def test_help_explains_every_argument_with_an_example(command):
    text = COMMANDS[command].format_help()
    assert "example" in text and f"crawler {command[0]}" in text.split("example", 1)[1]
    for action in COMMANDS[command]._actions:
        if not isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)):
            assert action.help, f"crawler {' '.join(command)}: {action.dest} has no help text"


@pytest.mark.parametrize("command", [("new-site",), ("fixture", "save"), ("reextract",)], ids=" ".join)
def test_help_is_printed_by_the_command(command):
    result = run_crawler(*command, "--help")
    assert result.returncode == 0 and f"usage: crawler {' '.join(command)}" in result.stdout
    assert "example" in result.stdout
