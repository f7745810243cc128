"""Text reports of a replay (``drivestack replay``)."""
from __future__ import annotations

from sim.logs.compare import OUTPUTS
from sim.logs.replay import ReplayResult

THRESHOLDS = ("0.5", "1", "2", "4")
MOT_KEYS = (("mota", "MOTA", 7), ("idf1", "IDF1", 7), ("motp_m", "MOTP m", 8), ("num_switches", "IDsw", 6),
            ("num_false_positives", "FP", 6), ("num_misses", "miss", 6), ("num_gt", "GT", 7))


def _f(v, width: int = 7, signed: bool = False) -> str:
    if v is None or v != v:
        return f"{'-':>{width}}"
    if isinstance(v, int):
        return f"{v:>+{width}d}" if signed else f"{v:>{width}d}"
    return f"{v:>+{width}.3f}" if signed else f"{v:>{width}.3f}"


def _diff(a, b):
    return None if a is None or b is None or a != a or b != b else a - b


def format_replay(r: ReplayResult) -> str:
    run, cfg = r.index.run(), r.config
    head = (f"replay of {r.path}: {r.ticks} ticks ({r.index.duration_s:.1f} s at {1.0 / cfg.dt_s:g} Hz), "
            f"{run.get('scenario', '?')} seed {run.get('seed', '?')}, recorded with world model "
            f"{cfg.recorded_world_model} at commit {str(run.get('git_commit', 'unknown'))[:12]}")
    lines = [head, "detectors: " + ", ".join(_weights_line(name, r.weights, run) for name in cfg.detectors)]
    lines += _detection_table(r.scores["detection"])
    lines += _tracking_table(r.scores["tracking"])
    if r.scores["tracking"]["recorded"] is not None and cfg.recorded_world_model != "perception":
        lines.append(f"  (the recorded tracks are the {cfg.recorded_world_model} world model's, not perception's)")
    lines.append(_planner_line(r))
    if r.comparison is not None:
        lines += _compare_lines(r.comparison)
    rate = r.ticks / r.wall_s if r.wall_s > 0 else float("inf")
    lines.append(f"outputs sha256 {r.output_sha256[:16]} (equal digests: identical replays); "
                 f"{rate:.1f} ticks/s = {rate * cfg.dt_s:.2f} x real time")
    if r.skipped_ticks or r.incomplete_ticks:
        lines.append(f"{r.skipped_ticks} ticks without an ego state skipped; {r.incomplete_ticks} ticks replayed "
                     f"with sensor data missing")
    return "\n".join(lines)


def _weights_line(name: str, now: dict, run: dict) -> str:
    if name not in now:
        return name
    recorded = (run.get("weights") or {}).get(name, {}).get("sha256") if isinstance(run.get("weights"), dict) else None
    same = "no recorded weights" if recorded is None else (
        "same weights as recorded" if recorded == now[name]["sha256"] else "other weights than recorded")
    return f"{name} ({now[name]['file']}, {same})"


def _detection_table(det: dict) -> list[str]:
    lines = [f"{'detection AP, 50 m':<28}" + "".join(f"{'AP@' + t + 'm':>8}" for t in THRESHOLDS) +
             f"{'transl. m':>11}"]
    for source, sides in det.items():
        new, old = sides["replay"], sides["recorded"]
        rows = [("replay", new), ("recorded", old)]
        for i, (label, s) in enumerate(rows):
            if s is not None:
                lines.append(f"{source if i == 0 or new is None else '':<14}{label:<14}" +
                             "".join(_f(s["ap"][t], 8) for t in THRESHOLDS) + _f(s["mean_translation_error_m"], 11))
        if new is not None and old is not None:
            lines.append(f"{'':<14}{'difference':<14}" + "".join(_f(_diff(new["ap"][t], old["ap"][t]), 8, True)
                                                              for t in THRESHOLDS))
    return lines


def _tracking_table(trk: dict) -> list[str]:
    lines = [f"{'tracking, 50 m':<28}" + "".join(f"{h:>{w}}" for _, h, w in MOT_KEYS)]
    new, old = trk["replay"], trk["recorded"]
    for i, (label, s) in enumerate((("replay", new), ("recorded", old))):
        if s is not None:
            lines.append(f"{trk['sensors'] if i == 0 else '':<14}{label:<14}" + "".join(_f(s[k], w) for k, _, w in MOT_KEYS))
    if old is not None:
        lines.append(f"{'':<14}{'difference':<14}" + "".join(_f(_diff(new[k], old[k]), w, True) for k, _, w in MOT_KEYS))
    return lines


def _planner_line(r: ReplayResult) -> str:
    d, cfg = r.divergence, r.config
    if cfg.lane_map is None:
        return "planner: not run (no lane map in the log)"
    if not d["ticks"]:
        return f"planner {cfg.planner} (open loop): the log has no recorded plan to measure divergence from"
    return (f"planner {cfg.planner} (open loop): divergence from the recorded plan over {d['horizon_s']:g} s: "
            f"mean {d['mean_m']:.3f} m, max {d['max_m']:.3f} m ({d['ticks']} ticks)")


def _compare_lines(c: dict) -> list[str]:
    worst = ", ".join(f"{k} {c['max_difference'][k]:.3g}" for k in OUTPUTS)
    verdict = "PASS" if c["passed"] else "FAIL"
    lines = [f"compare (tolerance {c['tolerance']:g}): {c['ticks']} ticks, {c['diverged_ticks']} diverged; "
             f"max difference {worst} -> {verdict}"]
    if c["skipped_ticks"] or c["detections_only_ticks"]:
        lines.append(f"  the log is damaged: {c['skipped_ticks']} ticks with incomplete sensor data not compared, "
                     f"{c['detections_only_ticks']} after a lost tick compared on detections only")
    if not c["ticks"]:
        lines.append("  no tick could be compared")
    f = c["first_divergence"]
    if f is not None:
        parts = ", ".join(f"{k} {f[k]:.3g}" for k in OUTPUTS)
        notes = f" ({'; '.join(f['notes'])})" if f["notes"] else ""
        lines.append(f"  first divergence at t = {f['stamp']:.2f} s: {parts}{notes}")
    return lines
