"""Learning curves: a PNG of validation speed and collision rate against steps from eval.csv."""
import pytest

from sim.rl.curves import plot_learning_curves


def test_learning_curves_are_drawn_from_eval_csv(tmp_path):
    csv_path = tmp_path / "eval.csv"
    csv_path.write_text("timesteps,episodes,collision_rate,mean_speed_mps,mean_return,mean_distance_m\n"
                        "500,2,0.5,20.0,1.0,400.0\n1000,2,0.0,23.5,2.0,470.0\n")
    png = plot_learning_curves(csv_path, tmp_path / "curves.png", "test")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000


def test_an_empty_eval_csv_is_refused(tmp_path):
    csv_path = tmp_path / "eval.csv"
    csv_path.write_text("timesteps,episodes,collision_rate,mean_speed_mps,mean_return,mean_distance_m\n")
    with pytest.raises(ValueError, match="no evaluations"):
        plot_learning_curves(csv_path, tmp_path / "curves.png")
