"""Log regression over a corpus: ``replay DIR --compare`` replays every log as one task and gives one
table; a changed output fails it, a damaged log is a row of its own, and the backends agree."""
import json

import pytest
from conftest import record_log

from sim.cli.main import main


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("corpus")
    (root / "b").mkdir()
    record_log(root / "a.mcap", "perception", 1.0, seed=21)
    record_log(root / "b" / "c.mcap", "perception", 1.0, seed=22)
    return root


def _run(capsys, *args):
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_an_unchanged_stack_passes_on_every_log(corpus, tmp_path, capsys):
    code, out, _ = _run(capsys, "replay", corpus, "--compare", "--workers", "2", "--json", tmp_path / "r.json")
    report = json.loads((tmp_path / "r.json").read_text())
    assert code == 0 and report["passed"] is True and not report["partial"]
    assert [r["log"] for r in report["logs"]] == [str(corpus / "a.mcap"), str(corpus / "b" / "c.mcap")]
    assert all(r["comparison"]["passed"] and r["ticks"] == 10 for r in report["logs"])
    assert "2 logs: 2 passed, 0 failed, 0 could not be replayed" in out and "b/c.mcap" in out


def test_a_changed_output_fails_the_corpus_and_a_glob_selects_logs(corpus, tmp_path, capsys):
    code, out, _ = _run(capsys, "replay", f"{corpus}/*.mcap", "--compare", "--set", "planner.max_speed_mps=20",
                        "--json", tmp_path / "r.json")
    report = json.loads((tmp_path / "r.json").read_text())
    assert code == 1 and [r["log"] for r in report["logs"]] == [str(corpus / "a.mcap")]
    assert report["logs"][0]["comparison"]["diverged_ticks"] > 0 and "FAIL" in out


def test_a_damaged_log_is_its_own_row_and_fails_the_run(corpus, tmp_path, capsys):
    bad = tmp_path / "corpus"
    bad.mkdir()
    (bad / "ok.mcap").write_bytes((corpus / "a.mcap").read_bytes())
    (bad / "junk.mcap").write_text("not a log")
    code, out, err = _run(capsys, "replay", bad, "--compare")
    assert code == 1 and "1 passed, 0 failed, 1 could not be replayed" in out
    assert "junk.mcap" in out and "not an MCAP file" in out and "Traceback" not in err


@pytest.mark.slow  # a minute on 2 cores; that Ray gives the local results is also tested in tests/sim/backends/test_ray_backend.py
def test_ray_and_local_give_the_same_rows(corpus, tmp_path, capsys):
    ray = pytest.importorskip("ray")
    rows = {}
    for backend in ("local", "ray"):
        code, _, _ = _run(capsys, "replay", corpus, "--compare", "--backend", backend, "--workers", "2",
                          "--json", tmp_path / f"{backend}.json")
        assert code == 0
        rows[backend] = json.loads((tmp_path / f"{backend}.json").read_text())["logs"]
    ray.shutdown()
    assert rows["ray"] == rows["local"]


@pytest.mark.parametrize("args, needle", [
    (["--out", "{tmp}/new.mcap"], "--out"),
    (["--backend", "ray", "--one"], "is one log"),
    (["--nothing-matches"], "no log matches"),
])
def test_corpus_mistakes_are_one_line(corpus, tmp_path, capsys, args, needle):
    target = str(corpus)
    if "--one" in args:
        target, args = str(corpus / "a.mcap"), [a for a in args if a != "--one"]
    if "--nothing-matches" in args:
        target, args = str(tmp_path / "*.mcap"), []
    code, _, err = _run(capsys, "replay", target, *[a.replace("{tmp}", str(tmp_path)) for a in args])
    assert code == 2 and len(err.strip().splitlines()) == 1 and needle in err
