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


def test_a_usage_error_points_at_the_help_that_exists(capsys):
    """Without a command, the program's own help; with one, the command's (never 'modelwatch
    modelwatch --help')."""
    import pytest

    for argv, pointed in (([], "see 'modelwatch --help'"), (["drift"], "see 'modelwatch drift --help'")):
        with pytest.raises(SystemExit) as ended:
            main(argv)
        assert ended.value.code == 2
        err = capsys.readouterr().err
        assert pointed in err and "modelwatch modelwatch" not in err, err
