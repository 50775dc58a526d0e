"""``exafold distill``: registered, parses its options, and refuses to run without the model and
feature pipeline, writing nothing."""

import argparse
import json

import pytest
from exafold.cli import build_parser, main
from exafold.commands import distill, shared


def parse(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(["distill", *argv])


def test_options_build_the_run_configuration(tmp_path):
    (tmp_path / "q.fasta").write_text(">a\nMKV\n")
    (tmp_path / "msas").mkdir()
    params = tmp_path / "params_model_1_ptm.npz"
    params.write_bytes(b"0" * 10)
    (tmp_path / "p2.npz").write_bytes(b"0" * 3)
    args = parse("--fasta", str(tmp_path / "q.fasta"), "--alignments", str(tmp_path / "msas"),
                 "--model", f"model_1_ptm={params}", "--model", f"model_2_ptm={tmp_path / 'p2.npz'}",
                 "--out", str(tmp_path / "out"), "--seed", "7", "--recycles", "0", "--shard-size", "50",
                 "--filter-min-plddt", "80", "--filter-min-ptm", "0.6", "--filter-min-fraction", "0.5",
                 "--pdb", "--memory-budget", "0.5", "--device-peak-tflops", "989", "--progress", "log")
    cfg = distill.build_config(args)
    assert cfg.models == (("model_1_ptm", "params_model_1_ptm.npz:10"), ("model_2_ptm", "p2.npz:3"))
    assert (cfg.seed, cfg.recycles, cfg.outputs.shard_size, cfg.outputs.pdb) == (7, 0, 50, True)
    # What was not given comes from each preset: model_2 samples fewer extra rows than model_1.
    settings = cfg.settings()
    assert (settings["model_1_ptm"].recycles, settings["model_1_ptm"].max_msa_clusters,
            settings["model_1_ptm"].max_extra_msa) == (0, 512, 5120)
    assert settings["model_2_ptm"].max_extra_msa == 1024
    assert (cfg.outputs.filter.min_mean_plddt, cfg.outputs.filter.min_ptm, cfg.outputs.filter.min_fraction) == (80, 0.6, 0.5)
    assert cfg.memory_budget_bytes == 2**29 and cfg.device_peak_flops == 989e12 and cfg.progress is False


def test_bad_options_are_refused(tmp_path, capsys):
    with pytest.raises(SystemExit):
        parse("--fasta", "q.fa", "--model", "model_1", "--out", "o")
    assert "expected PRESET=PATH" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        parse("--fasta", "q.fa", "--model", "m=p", "--out", "o", "--shard-size", "0")
    with pytest.raises(ValueError, match="does not exist"):
        distill.build_config(parse("--fasta", str(tmp_path / "q.fa"), "--model", "m=p", "--out", "o"))
    (tmp_path / "q.fa").write_text(">a\nMKV\n")
    (tmp_path / "p").write_bytes(b"x")
    with pytest.raises(ValueError, match="unknown model preset 'm'"):
        distill.build_config(parse("--fasta", str(tmp_path / "q.fa"), "--model", f"m={tmp_path / 'p'}", "--out", "o"))
    with pytest.raises(SystemExit):
        parse("--fasta", "q.fa", "--model", "m=p", "--out", "o", "--seed", "-1")
    assert "seed must be an integer from 0 to 2**64 - 1, got -1" in capsys.readouterr().err
    with pytest.raises(ValueError, match="--resume: .* holds no journal of a previous run"):
        distill.build_config(parse("--fasta", str(tmp_path / "q.fa"), "--model", f"model_1={tmp_path / 'p'}",
                                   "--out", str(tmp_path / "new"), "--resume"))


def test_distill_fails_clearly_on_a_bad_parameter_file_and_writes_nothing(tmp_path, capsys):
    (tmp_path / "q.fasta").write_text(">a\nMKV\n")
    (tmp_path / "p.npz").write_bytes(b"x")
    out = tmp_path / "out"
    code = main(["distill", "--fasta", str(tmp_path / "q.fasta"), "--model", f"model_1={tmp_path / 'p.npz'}",
                 "--out", str(out)])
    assert code == 2
    err = capsys.readouterr().err
    assert f"exafold distill: error: {tmp_path / 'p.npz'}: not an .npz archive: it is a text file" in err
    assert not out.exists()


def test_launcher_environment_selects_mpi(monkeypatch):
    for var in ("OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE", "SLURM_STEP_NUM_TASKS", "FLUX_JOB_SIZE"):
        monkeypatch.delenv(var, raising=False)
    assert shared.launched_ranks() == 1
    monkeypatch.setenv("SLURM_STEP_NUM_TASKS", "64")
    assert shared.launched_ranks() == 64


def test_ranks_on_one_node_divide_its_cores(monkeypatch):
    """Two ranks on two cores each took both cores and ran slower than one: each rank now takes
    its share, unless EXAFOLD_NUM_THREADS or the launcher's binding already decided."""
    monkeypatch.delenv("EXAFOLD_NUM_THREADS", raising=False)
    monkeypatch.setattr(shared.os, "sched_getaffinity", lambda pid: set(range(8)))
    monkeypatch.setattr(shared.os, "cpu_count", lambda: 8)
    assert shared.threads_per_rank(1) is None
    assert shared.threads_per_rank(2) == 4 and shared.threads_per_rank(3) == 2 and shared.threads_per_rank(16) == 1
    monkeypatch.setattr(shared.os, "sched_getaffinity", lambda pid: {0, 1})  # bound to 2 of the 8
    assert shared.threads_per_rank(2) is None
    monkeypatch.setattr(shared.os, "sched_getaffinity", lambda pid: set(range(8)))
    monkeypatch.setenv("EXAFOLD_NUM_THREADS", "3")
    assert shared.threads_per_rank(2) is None


def test_the_command_runs_a_job_once_an_engine_is_wired_in(tmp_path, monkeypatch, capsys):
    # Stands in for the lead's wiring of load_engine: the command line around it is what is tested.
    import runner_doubles as d

    fasta, msas, ids = d.write_inputs(tmp_path, [12, 30, 7])
    params = tmp_path / "params_model_1_ptm.npz"
    params.write_bytes(b"0")
    seen = {}

    def load_engine(config, args, comm):
        seen["comm"], seen["presets"] = comm, [m[0] for m in config.models]
        return d.prepare, d.models(("model_1_ptm",)), {"model_1_ptm": ""}

    monkeypatch.setattr(distill, "load_engine", load_engine)
    argv = ["distill", "--fasta", str(fasta), "--alignments", str(msas), "--model", f"model_1_ptm={params}",
            "--out", str(tmp_path / "out"), "--shard-size", "2", "--pdb", "--progress", "log", "--mpi", "off"]
    assert main(argv) == 0
    assert seen == {"comm": None, "presets": ["model_1_ptm"]}
    assert "exafold distill summary" in capsys.readouterr().out
    assert sorted(json.loads((tmp_path / "out" / "index.json").read_text())["structures"]) == ids
    assert sorted(p.name for p in (tmp_path / "out" / "structures").iterdir()) == [f"{i}.pdb" for i in ids]
    assert not (tmp_path / "out" / ".exafold.lock").exists()  # a clean exit leaves no lock behind
    capsys.readouterr()
    assert main(argv + ["--resume"]) == 0  # the rerun resumes: nothing left to do
    captured = capsys.readouterr()
    assert "this session     0 structures" in captured.out
    # Said as such, not as a progress line of 0/0 with an unknown ETA.
    assert f"nothing to do: 3 of 3 inputs already done in {tmp_path / 'out'}" in captured.err
    assert "0/0" not in captured.err and "ETA" not in captured.err


def test_device_auto_is_this_ranks_gpu_or_the_cpu(monkeypatch):
    """--device: auto and cuda take GPU (local rank mod GPUs), so the ranks on a node spread
    over its GPUs; auto is the cpu only where there is no GPU; a GPU that is not there is an
    error naming it, and a name the engine does not know is refused while parsing."""
    monkeypatch.setattr(shared.exafold, "gpu_count", lambda: 0)
    assert shared.resolve_device("auto") == "cpu" and shared.resolve_device("cpu") == "cpu"
    with pytest.raises(ValueError, match="no GPU"):
        shared.resolve_device("cuda")
    monkeypatch.setattr(shared.exafold, "gpu_count", lambda: 4)
    monkeypatch.setenv("OMPI_COMM_WORLD_LOCAL_RANK", "6")
    assert shared.resolve_device("auto") == "cuda:2" and shared.resolve_device("cuda") == "cuda:2"
    assert shared.resolve_device("cuda:3") == "cuda:3"
    with pytest.raises(ValueError, match="cuda:4: 4 GPU"):
        shared.resolve_device("cuda:4")
    with pytest.raises(argparse.ArgumentTypeError, match="gpu0"):
        shared.device_arg("gpu0")
    required = ("--fasta", "q.fasta", "--alignments", "msas", "--model", "model_1_ptm=p.npz", "--out", "o")
    assert parse(*required, "--device", "cuda:1").device == "cuda:1" and parse(*required).device == "auto"


def test_precision_auto_is_bfloat16_on_a_gpu_and_enters_the_configuration_hash(tmp_path):
    """--precision auto: bfloat16 on a GPU (AlphaFold2's own choice there), float32 on the cpu,
    where bfloat16 is refused; a bfloat16 run's configuration hash differs from a float32 one,
    so a resume in the other precision is refused, and a float32 run's hash is as before."""
    assert shared.resolve_precision("auto", "cuda:0") == "bfloat16"
    assert shared.resolve_precision("auto", "cpu") == "float32"
    assert shared.resolve_precision("float32", "cuda:1") == "float32"
    with pytest.raises(ValueError, match="needs a GPU"):
        shared.resolve_precision("bfloat16", "cpu")
    import dataclasses

    from exafold.runner.config import RunConfig

    base = RunConfig(out_dir=tmp_path, models=(("model_1_ptm", "p.npz:1"),))
    assert "precision" not in base.canonical()
    bf16 = dataclasses.replace(base, device="cuda:0", precision="bfloat16")
    assert bf16.canonical()["precision"] == "bfloat16" and bf16.config_hash() != base.config_hash()
    assert dataclasses.replace(base, device="cuda:0").config_hash() == base.config_hash()
