"""Faults injected into a real closed loop (lidar blackout, slow tick, NaN command) reach the right
module at the right time, are recorded on /diagnostics, and ``--fail-on error`` turns them into exit 1."""
import dataclasses

import pytest

from sim.cli.main import main
from sim.diagnostics import DiagnosticsMonitor, Level, config_for
from sim.logs import schemas as S
from sim.logs.codec import loads
from sim.logs.reader import McapLog
from sim.logs.record import LogRecorder
from sim.loop.faults import InjectedFault, parse_fault
from sim.loop.runner import run_episode
from sim.loop.setup import build_setup


@pytest.fixture(scope="module")
def faulty_run(tmp_path_factory):
    setup = build_setup("highway", "rule", "ground_truth", ["scenario.duration_s=2.5",
                                                             "sensors.faults.lidar_blackout_s=[0.5,1.0]"])
    setup = dataclasses.replace(setup, faults=(InjectedFault("slow_tick", 1.5, 1.5, delay_s=0.35),
                                               InjectedFault("nan_command", 2.0, 2.0)))
    monitor = DiagnosticsMonitor(config_for(setup))
    path = tmp_path_factory.mktemp("diag") / "faults.mcap"
    recorder = LogRecorder(path, setup, seed=3, diagnostics=monitor)
    by_stamp = {}

    def sink(record):
        by_stamp[round(record.stamp, 1)] = {s.module: s for s in monitor.statuses(record)}

    try:
        run_episode(setup, 3, [monitor, sink, recorder], sensors=True)
    finally:
        recorder.close()
    return monitor, by_stamp, path


def test_each_fault_is_reported_by_its_module_when_it_happens(faulty_run):
    monitor, at, _ = faulty_run
    assert at[0.4]["lidar/roof"].level == Level.OK
    assert at[0.5]["lidar/roof"].level == Level.WARN  # one tick missing: dropped
    assert at[0.8]["lidar/roof"].level == Level.ERROR and "blackout" in at[0.8]["lidar/roof"].message
    assert at[1.1]["lidar/roof"].level == Level.OK
    assert at[1.5]["loop"].level == Level.ERROR and at[1.4]["loop"].level <= Level.WARN
    assert at[2.0]["controller"].level == Level.ERROR and "non-finite" in at[2.0]["controller"].message
    assert at[2.1]["controller"].level == Level.OK
    assert all(s.level == Level.OK for t in (0.2, 1.2, 2.2) for m, s in at[t].items() if m != "loop")
    counts = monitor.summary.counts
    assert counts["controller"][Level.ERROR] == 1 and counts["loop"][Level.ERROR] == 1
    assert counts["lidar/roof"][Level.WARN] >= 1 and counts["lidar/roof"][Level.ERROR] >= 3


def test_statuses_are_recorded_on_the_diagnostics_topic(faulty_run):
    monitor, at, path = faulty_run
    with McapLog(path) as log:
        messages = [loads(m.data) for m in log.messages() if m.topic == S.DIAGNOSTICS]
    assert len(messages) == len(at) == monitor.summary.ticks
    nan_tick = next(m for m in messages if abs(m["stamp"] - 2.0) < 1e-9)
    controller = next(s for s in nan_tick["statuses"] if s["module"] == "controller")
    assert controller["level"] == 2 and controller["level_name"] == "ERROR"
    assert set(controller["values"]) == {"accel_mps2", "steering_rad"}


def test_fail_on_error_exits_1_with_the_summary(capsys):
    args = ["simulate", "--set", "scenario.duration_s=1", "--inject-fault", "nan_command:0.5:0.5", "--workers", "1"]
    assert main(args + ["--fail-on", "error"]) == 1
    out, err = capsys.readouterr()
    assert "diagnostics: 10 ticks, worst ERROR" in out and "non-finite command" in out
    assert "diagnostics reached ERROR (--fail-on error)" in err
    assert main(args + ["--fail-on", "never"]) == 0


@pytest.mark.parametrize("text,needle", [("slow_tick", "must look like KIND:START_S:END_S"),
                                         ("meteor:1:2", "unknown injected fault 'meteor'"),
                                         ("slow_tick:3:2", "0 <= start <= end")])
def test_bad_fault_specs_are_clear_errors(text, needle):
    with pytest.raises(ValueError, match=needle):
        parse_fault(text)
