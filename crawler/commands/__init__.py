"""The `crawler` subcommands, a module per group: each `register(commands)` adds its commands'
parsers, with their options and `--help` text beside the handler they call. `crawler.cli`
only assembles them and maps exceptions to exit codes. Commands may import every other
subpackage; nothing imports them.
"""
