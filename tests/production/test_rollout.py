"""The model rollout's refusals before it touches anything (the rollout itself runs against real
workers in `make chaos`, scenario model-rollout: bench/chaos.py): no model file, a single worker
(its restart would leave nobody answering), a worker not ready; the link is left as it was."""

from __future__ import annotations

from bot.stack import free_port
from bot.worker.rollout import main


def test_refused_without_a_model_file_with_one_worker_or_with_a_worker_not_ready(tmp_path, capsys):
    model, link = tmp_path / "model-new.tar.gz", tmp_path / "current.tar.gz"
    old = tmp_path / "model-old.tar.gz"
    old.write_bytes(b"old")
    link.symlink_to(old)
    base = ["--model", str(model), "--link", str(link), "--port-base", str(free_port() - 1)]
    assert main([*base, "--instances", "1", "2"]) == 2
    model.write_bytes(b"new")
    assert main([*base, "--instances", "1"]) == 2
    assert main([*base, "--instances", "1", "2"]) == 2  # nobody answers on those ports
    told = capsys.readouterr().err
    assert (
        "is not a model file" in told and "--allow-gap" in told and "not ready before starting: 1, 2" in told
    )
    assert link.resolve() == old  # untouched
