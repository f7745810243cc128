"""A normal (non-editable) install works: build the wheel, install it into a fresh virtual environment
that reuses this one's dependencies, and run a short simulation from an unrelated directory."""
import subprocess
import sys
import sysconfig
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _run(cmd, **kw):
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=600, **kw)
    assert res.returncode == 0, f"{cmd}: {res.stderr[-2000:]}"
    return res


def test_wheel_installs_and_runs_from_anywhere(tmp_path):
    wheels = tmp_path / "wheels"
    _run([sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "--no-build-isolation", "-q", "-w", str(wheels)])
    wheel = next(wheels.glob("drivestack-*.whl"))
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    python = venv / "bin" / "python"
    site = Path(_run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip())
    # the dependencies come from this environment's site-packages (a plain path: its .pth files, and so
    # the editable install of this checkout, are not processed from there)
    (site / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    _run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(site), str(wheel)])
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    where = _run([str(python), "-c", "import sim, control, sim.config as c; print(sim.__file__); print(control.__file__);"
                  " print(c.CONFIG_DIR)"], cwd=elsewhere).stdout.split()
    assert all(p.startswith(str(site)) for p in where), where          # the installed copy, not the checkout
    res = _run([str(python), "-m", "sim.cli.main", "simulate", "--scenario", "roundabout", "--set",
                "scenario.duration_s=1", "--json", "out/r.json"], cwd=elsewhere)
    assert "roundabout" in res.stdout and (elsewhere / "out" / "r.json").exists()
