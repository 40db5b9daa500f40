"""The core library on its own: `modelwatch drift` runs with none of the serving, AWS or local
runtime packages importable (as after `pip install .` without extras)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from modelwatch.demo.data import demo_frame

ABSENT = ("moto", "boto3", "botocore", "aws_lambda_powertools", "onnxruntime", "sklearn", "skl2onnx", "pandas")


def _csv(path, frame: dict) -> None:
    columns = list(frame)
    lines = [",".join(columns)] + [",".join(str(frame[c][i]) for c in columns) for i in range(len(frame[columns[0]]))]
    path.write_text("\n".join(lines) + "\n")


def test_drift_from_the_command_line_needs_no_aws_serving_or_local_packages(tmp_path):
    _csv(tmp_path / "reference.csv", demo_frame(3000, 1))
    _csv(tmp_path / "current.csv", demo_frame(3000, 2))
    program = textwrap.dedent(
        f"""
        import importlib.abc, sys

        class Absent(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path, target=None):
                if name.split(".")[0] in {ABSENT!r}:
                    raise ModuleNotFoundError(f"No module named {{name!r}} (absent in this test)")
                return None

        sys.meta_path.insert(0, Absent())
        from modelwatch.cli.main import main
        code = main(["drift", "--reference", sys.argv[1], "--current", sys.argv[2], "--json", sys.argv[3]])
        loaded = sorted(m for m in sys.modules if m.split(".")[0] in {ABSENT!r} + ("modelwatch_local",))
        print("LOADED", loaded)
        sys.exit(code)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", program, tmp_path / "reference.csv", tmp_path / "current.csv", tmp_path / "d.json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "d.json").is_file()
    # The local runtime's commands module is all the core's command line touches of it.
    assert "LOADED ['modelwatch_local', 'modelwatch_local.commands']" in result.stdout
