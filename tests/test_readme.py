"""The README's "From Python" example runs as written."""
import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_python_example_runs(capsys):
    text = README.read_text()
    block = re.search(r"<!-- python-api-example.*?-->\s*```python\n(.*?)```", text, re.S)
    assert block is not None, "the README lost its python-api-example block"
    exec(compile(block.group(1), "README.md", "exec"), {})
    out = capsys.readouterr().out
    assert re.search(r"collided False, mean speed \d+\.\d m/s, score 0\.\d{3}", out)
