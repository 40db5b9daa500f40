"""An unexpected error is never exit code 1 ("drift"): it has its own code, 3, and one line."""

from __future__ import annotations

import modelwatch.cli.commands as commands
from modelwatch.cli.main import EXIT_UNEXPECTED, build_parser, main


def test_an_unexpected_error_exits_3_with_one_line(monkeypatch, capsys):
    def broken(*_args, **_kwargs):
        raise RuntimeError("something\nnobody expected")

    monkeypatch.setattr(commands, "run_drift", broken)
    monkeypatch.delenv("MODELWATCH_DEBUG", raising=False)
    assert main(["drift", "--reference", "a.csv", "--current", "b.csv"]) == EXIT_UNEXPECTED == 3
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "unexpected error: RuntimeError: something nobody expected" in lines[0]


def test_exit_codes_are_documented_in_help():
    assert "3 unexpected error" in build_parser().format_help()
