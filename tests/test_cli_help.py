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


LOGGING_COMMANDS = sorted(name for name, sub in COMMANDS.items()
                          if any(action.dest == "log_level" for action in sub._actions))


def test_every_command_that_logs_takes_the_same_log_level_option():
    assert {("crawl",), ("demo",), ("worker",)} <= set(LOGGING_COMMANDS)
    for command in LOGGING_COMMANDS:
        # `crawler worker --log-level info` once reached Scrapy as 'info' and crashed with a traceback
        args = build_parser().parse_args([*command, "--log-level", "info", "--redis", "redis://127.0.0.1:1/0"]
                                         if command == ("worker",) else [*command, "--log-level", "info"])
        assert args.log_level == "INFO", command


@pytest.mark.parametrize("command", LOGGING_COMMANDS, ids=" ".join)
def test_an_unknown_log_level_is_a_usage_error(command):
    result = run_crawler(*command, "--log-level", "loud")
    assert result.returncode == 2 and "invalid choice: 'LOUD'" in result.stderr
