"""Parity of exafold's template path with AlphaFold2's (PyPI alphafold-colabfold), element for
element: the hit parsers (parsers.parse_hhr, hmmsearch's get_template_hits), the mmCIF reader
(mmcif_parsing.parse + templates._get_atom_positions), the featuriser (HhsearchHitFeaturizer,
HmmsearchHitFeaturizer), and the processed features (the pipeline's template transforms; the
network's pseudo_beta_fn and atom37_to_torsion_angles in float64).

Inputs: the real short73 case of tests/data (10 HHsearch hits, 8 mmCIF files, 1hf9 missing) and
its real hmmsearch result, and the crafted inputs of template_fixtures.py (mismatching
sequences, missing and obsolete entries, dates, duplicates, filters, chain matching, alternate
locations, point mutations, unreadable files). Each featuriser case runs in two configurations:
alphafold-colabfold as installed (its Biopython >= 1.80 reads MSE as X, its prefilter checks the
date only) and DeepMind's AlphaFold2 (Biopython 1.79's residue names, the full prefilter), the
latter by patching the reference at run time (tests/reference/templates_ref.py says how).

Everything must be identical: features bit for bit (AlphaFold2 stores float32 values exafold
computes from the same float32 coordinates), strings exactly, and the same hits skipped with a
warning or an error. The torsion features exafold computes in float64 must match the
reference's float64 JAX to 1e-12 (both evaluate the same formulas in double; measured: 0).
One exafold deviation is mirrored in the harness: a missing mmCIF file skips its hit with a
warning where AlphaFold2 raises.
"""
from __future__ import annotations

import json
import os
import pathlib
import subprocess

import numpy as np
import pytest

import refenv_features
import template_fixtures as T
from exafold import features as F

pytestmark = pytest.mark.reference

ROOT = pathlib.Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "tests" / "reference" / "templates_ref.py"

LETTERS = {"shipped": "standard", "deepmind": "biopython-1.79"}
FILTERS = {"shipped": "colabfold", "deepmind": "alphafold"}

FEATURE_CASES = {
    # name: (hits, format, mmcif dir, options)
    "short73_hhr": ("short73.hhr", "hhr", "short73", {"max_template_date": "2100-01-01"}),
    "short73_sto": ("short73.sto", "sto", "short73", {"max_template_date": "2100-01-01"}),
    "crafted_hhr": ("crafted.hhr", "hhr", "crafted",
                    {"max_template_date": "2025-01-01", "obsolete": "obsolete.dat"}),
    "crafted_hhr_3": ("crafted.hhr", "hhr", "crafted",
                      {"max_template_date": "2025-01-01", "obsolete": "obsolete.dat",
                       "max_hits": 3}),
    "crafted_sto": ("crafted.sto", "sto", "crafted", {"max_template_date": "2025-01-01"}),
}


def run_reference(python: pathlib.Path, spec: dict, out: pathlib.Path) -> None:
    spec_path = out / f"spec-{len(list(out.glob('spec-*.json')))}.json"
    spec_path.write_text(json.dumps(spec))
    proc = subprocess.run([str(python), str(SCRIPT), str(spec_path), str(out)],
                          env={**os.environ, "JAX_PLATFORMS": "cpu"}, capture_output=True,
                          text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"templates_ref.py failed:\n{proc.stderr[-6000:]}")


def model_python() -> pathlib.Path:
    """The model harness's reference environment (tests/reference/env.sh), for the network's
    JAX functions (see templates_ref.py's 'model' task)."""
    out = subprocess.run(["bash", str(ROOT / "tests" / "reference" / "env.sh")], check=True,
                         stdout=subprocess.PIPE, text=True).stdout
    return pathlib.Path(out.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def case(tmp_path_factory):
    """The inputs on disk and the reference's outputs for all of them (two reference runs)."""
    root = tmp_path_factory.mktemp("templates")
    dirs = {"short73": T.short73_mmcif_dir(root), "crafted": root / "crafted"}
    dirs["crafted"].mkdir()
    for name, text in T.crafted_entries().items():
        (dirs["crafted"] / f"{name}.cif").write_text(text)
    reader = root / "reader"
    reader.mkdir()
    for name, text in T.reader_entries().items():
        (reader / f"{name}.cif").write_text(text)
    files = {"short73.hhr": T.SHORT73 / "pdb70_hits.hhr", "short73.sto": T.SHORT73 / "pdb_hits.sto",
             "crafted.hhr": root / "crafted.hhr", "crafted.sto": root / "crafted.sto",
             "obsolete.dat": root / "obsolete.dat"}
    files["crafted.hhr"].write_text(T.crafted_hits())
    files["crafted.sto"].write_text(T.crafted_sto())
    files["obsolete.dat"].write_text(T.crafted_obsolete())
    queries = {"short73": T.SHORT73_QUERY, "crafted": T.CRAFTED_QUERY}
    out = root / "ref"
    out.mkdir()

    tasks = [{"kind": "hhr", "path": str(files["short73.hhr"]), "out": "hits_short73_hhr"},
             {"kind": "sto", "path": str(files["short73.sto"]), "query": T.SHORT73_QUERY,
              "out": "hits_short73_sto"},
             {"kind": "hhr", "path": str(files["crafted.hhr"]), "out": "hits_crafted_hhr"},
             {"kind": "sto", "path": str(files["crafted.sto"]), "query": T.CRAFTED_QUERY,
              "out": "hits_crafted_sto"}]
    entries = [(dirs["short73"] / f"{e}.cif", e) for e in T.SHORT73_ENTRIES]
    entries += [(dirs["crafted"] / f"{e}.cif", e) for e in T.crafted_entries()]
    entries += [(reader / f"{e}.cif", e) for e in T.reader_entries()]
    for path, entry in entries:
        for mode, letters in LETTERS.items():
            tasks.append({"kind": "mmcif", "path": str(path), "id": entry, "letters": letters,
                          "out": f"mmcif_{entry}_{mode}"})
    for name, (hits, fmt, mmcif, options) in FEATURE_CASES.items():
        for mode in LETTERS:
            t = {"kind": "features", fmt: str(files[hits]), "query": queries[mmcif],
                 "mmcif_dir": str(dirs[mmcif]), "letters": LETTERS[mode],
                 "filters": FILTERS[mode], "out": f"features_{name}_{mode}",
                 **{k: (str(files[v]) if k == "obsolete" else v) for k, v in options.items()}}
            tasks.append(t)
            tasks.append({"kind": "processed", "raw": str(out / f"features_{name}_{mode}.npz"),
                          "max_templates": 4, "pad": True, "out": f"processed_{name}_{mode}"})
    run_reference(refenv_features.reference_python(), {"tasks": tasks}, out)
    model_tasks = [{"kind": "model", "processed": str(out / f"processed_{name}_{mode}.npz"),
                    "out": f"model_{name}_{mode}"} for name in FEATURE_CASES for mode in LETTERS]
    run_reference(model_python(), {"tasks": model_tasks}, out)
    return {"out": out, "dirs": dirs, "files": files, "reader": reader, "queries": queries,
            "entries": entries}


def load(case, name):
    out = case["out"]
    info = json.loads((out / f"{name}.json").read_text()) if (out / f"{name}.json").exists() else None
    arrays = dict(np.load(out / f"{name}.npz")) if (out / f"{name}.npz").exists() else {}
    return info, arrays


def differing(a: np.ndarray, b: np.ndarray, limit=8) -> str:
    """Every element that differs, listed (up to `limit`) with both values."""
    if a.shape != b.shape:
        return f"shapes {a.shape} vs {b.shape}"
    idx = np.argwhere(a != b)
    shown = ", ".join(f"{tuple(i)}: {a[tuple(i)]!r} vs {b[tuple(i)]!r}" for i in idx[:limit])
    return f"{len(idx)} elements differ: {shown}"


# ---- hits

@pytest.mark.parametrize("name", ["short73_hhr", "short73_sto", "crafted_hhr", "crafted_sto"])
def test_hits_identical(case, name):
    ref, _ = load(case, f"hits_{name}")
    source, fmt = name.rsplit("_", 1)
    path = case["files"][f"{source}.{fmt}"]
    hits = (F.read_hhr(str(path)) if fmt == "hhr"
            else F.read_hmmsearch_sto(str(path), case["queries"][source]))
    ours = [{k: getattr(h, k) for k in ref[0]} for h in hits]
    assert len(ours) == len(ref)
    for r, o in zip(ref, ours):
        assert o == r, f"hit {r['index']} ({r['name']}) differs"


# ---- mmCIF

def test_mmcif_entries_identical(case):
    checked = 0
    for path, entry in case["entries"]:
        ours = F.read_template_mmcif(str(path), entry)
        for mode, letters in LETTERS.items():
            ref, arrays = load(case, f"mmcif_{entry}_{mode}")
            where = f"{entry} ({mode})"
            if not ref["chains"]:
                assert ours.error != "", f"{where}: AlphaFold2 reads no chain ({ref['errors']})"
                assert ours.chains == []
                continue
            assert ours.error == "", f"{where}: {ours.error}"
            assert ours.release_date == ref["release_date"], where
            assert [c.id for c in ours.chains] == [c["id"] for c in ref["chains"]], where
            for r, o in zip(ref["chains"], ours.chains):
                assert o.sequence(letters) == r["sequence"], f"{where} chain {r['id']}"
                if "atom_error" in r:
                    assert o.atom_error != "", f"{where} chain {r['id']}: {r['atom_error']}"
                    assert o.atom_error_is_warning == r["atom_error_is_warning"], where
                    continue
                assert o.atom_error == "", f"{where} chain {r['id']}: {o.atom_error}"
                for field in ("positions", "mask"):
                    a, b = arrays[f"{r['id']}_{field}"], getattr(o, field)
                    assert np.array_equal(a, b), f"{where} chain {r['id']} {field}: " + differing(a, b)
                checked += 1
    assert checked > 40


# ---- features

@pytest.mark.parametrize("mode", list(LETTERS))
@pytest.mark.parametrize("name", list(FEATURE_CASES))
def test_features_identical(case, name, mode):
    hits, fmt, mmcif, options = FEATURE_CASES[name]
    ref, arrays = load(case, f"features_{name}_{mode}")
    kwargs = {k: (str(case["files"][v]) if k == "obsolete" else v) for k, v in options.items()}
    result = F.template_features(case["queries"][mmcif], str(case["files"][hits]),
                                 str(case["dirs"][mmcif]), filters=FILTERS[mode],
                                 residue_letters=LETTERS[mode], **kwargs)
    ours = result.features
    assert [b.decode() for b in ours["template_domain_names"]] == ref["template_domain_names"]
    assert [b.decode() for b in ours["template_sequence"]] == ref["template_sequence"]
    for key, a in arrays.items():
        b = ours[key]
        if a.size == 0:  # AlphaFold2 gives 1-D empty arrays when no hit is usable
            assert b.shape[0] == 0, key
            continue
        assert a.dtype == b.dtype, key
        assert np.array_equal(a, b), f"{key}: " + differing(a, b)
    assert len(result.warnings) == len(ref["warnings"]), (result.warnings, ref["warnings"])
    assert len(result.errors) == len(ref["errors"]), (result.errors, ref["errors"])


def test_crafted_cases_reach_their_rules(case):
    """The crafted hits exercise what they are meant to (else the parity above proves less)."""
    q, files, dirs = T.CRAFTED_QUERY, case["files"], case["dirs"]
    r = {mode: F.template_features(q, str(files["crafted.hhr"]), str(dirs["crafted"]),
                                   max_template_date="2025-01-01", obsolete=str(files["obsolete.dat"]),
                                   filters=FILTERS[mode], residue_letters=LETTERS[mode])
         for mode in LETTERS}
    statuses = {m: [(h.name, h.status) for h in x.hits] for m, x in r.items()}
    deepmind = dict.fromkeys(statuses["deepmind"])
    assert ("9mse_B", "used") in deepmind and ("9rea_C", "error") in deepmind
    assert ("9new_A", "filtered") in deepmind and ("9dup_A", "filtered") in deepmind
    assert ("8del_A", "warning") in deepmind and ("9zzz_A", "warning") in deepmind
    assert ("9one_A", "warning") in deepmind and ("9far_A", "warning") in deepmind
    assert ("9bad_A", "warning") in deepmind
    assert any(h.realigned and h.status == "used" for h in r["deepmind"].hits)
    names = {m: [b.decode() for b in x.features["template_domain_names"]] for m, x in r.items()}
    assert "9mse_B" in names["deepmind"] and "9mse_A" in names["shipped"]
    assert "9two_A" in names["deepmind"]  # 8old, replaced by 9two
    assert ("9dup_A", "used") in dict.fromkeys(statuses["shipped"])


# ---- processed features

@pytest.mark.parametrize("mode", list(LETTERS))
@pytest.mark.parametrize("name", list(FEATURE_CASES))
def test_processed_identical(case, name, mode):
    _, raw = load(case, f"features_{name}_{mode}")
    _, pipeline = load(case, f"processed_{name}_{mode}")
    _, model = load(case, f"model_{name}_{mode}")
    if raw["template_aatype"].size == 0:
        pytest.skip("no template to process")
    ours = F.process_template_features(raw, max_templates=4, pad_to_max_templates=True,
                                       dtype="float64")
    for key, a in pipeline.items():
        assert np.array_equal(a, ours[key]), f"{key}: " + differing(a, ours[key])
    for key, a in model.items():
        b = ours[key]
        assert a.shape == b.shape, key
        err = float(np.max(np.abs(a - b)))
        assert err <= 1e-12, f"{key}: max |exafold - reference| = {err}"
    # The float32 features the model takes are the float64 ones rounded once.
    ours32 = F.process_template_features(raw, max_templates=4, pad_to_max_templates=True)
    assert np.array_equal(ours32["template_angle_feat"],
                          ours["template_angle_feat"].astype(np.float32))
