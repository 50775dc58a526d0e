"""AlphaFold2's own template features for given inputs (run with the feature reference's python).

    python templates_ref.py SPEC.json OUT_DIR

SPEC lists tasks; each writes OUT_DIR/<out>.json (and .npz for arrays):
  {"kind": "hhr", "path": P}                     parsers.parse_hhr
  {"kind": "sto", "path": P, "query": Q}         Hmmsearch.get_template_hits (AlphaFold2 >= 2.3)
  {"kind": "mmcif", "path": P, "id": I, "letters": L}
        mmcif_parsing.parse, then templates._get_atom_positions per chain of chain_to_seqres
  {"kind": "features", "query": Q, "hhr" | "sto": P, "mmcif_dir": D, "max_template_date": S,
   "max_hits": 20, "filters": F, "letters": L, "obsolete": P | null}
        HhsearchHitFeaturizer / HmmsearchHitFeaturizer.get_templates
  {"kind": "processed", "raw": NPZ, "max_templates": 4, "pad": bool}
        the template transforms of the feature pipeline (fix_templates_aatype, make_template_mask,
        make_pseudo_beta, crop, padding), on the numpy backend of alphafold-colabfold 2.3.27
  {"kind": "model", "processed": NPZ}
        on the processed features, in float64 JAX: modules.pseudo_beta_fn and the template
        torsion features EmbeddingsAndEvoformer builds (all_atom.atom37_to_torsion_angles with
        placeholder_for_undefined = not zero_init = False). Runs in the model harness's
        environment (tests/reference/env.sh, alphafold-colabfold 2.3.12), since 2.3.27's
        modules.py imports a kernel package PyPI does not have; all_atom.py and pseudo_beta_fn
        are the same in both.

Modes, applied as patches of the reference at run time (nothing installed is edited):
  letters "standard": as installed (Biopython 1.88: PDBData.protein_letters_3to1, 20 names);
  letters "biopython-1.79": mmcif_parsing reads SEQRES with Biopython 1.79's SCOPData table, the
    one DeepMind's AlphaFold2 pins (biopython_1_79_protein_letters.json, written by
    cpp/tools/gen_template_tables.py from Biopython 1.79's source).
  filters "colabfold": as installed (the fork's _assess_hhsearch_hit checks the date only);
  filters "alphafold": DeepMind's _assess_hhsearch_hit, which also rejects align ratio <= 0.1,
    a subsequence of the query covering > 95% of it (its default max_subsequence_ratio, which
    DeepMind's _process_single_hit does not override) and fewer than 10 residues.
A hit whose mmCIF file is missing makes the reference raise FileNotFoundError, which aborts the
whole item; here it is turned into a warning for that hit, as exafold does.
"""
import json
import os
import pathlib
import sys

os.environ.setdefault("JAX_PLATFORMS", "cpu")

import numpy as np  # noqa: E402

HERE = pathlib.Path(__file__).resolve().parent
KALIGN = os.environ.get("EXAFOLD_KALIGN", "kalign")
SCOP_LETTERS = json.loads((HERE / "biopython_1_79_protein_letters.json").read_text())


def data_modules():
    """The reference's data modules and its unpatched functions, imported on first use."""
    global mmcif_parsing, parsers, templates, hmmsearch, STANDARD_LETTERS, FORK_ASSESS, FORK_PROCESS
    if "FORK_ASSESS" in globals():
        return
    from alphafold.data import mmcif_parsing, parsers, templates
    from alphafold.data.tools import hmmsearch
    STANDARD_LETTERS = dict(mmcif_parsing.PDBData.protein_letters_3to1)
    FORK_ASSESS = templates._assess_hhsearch_hit
    FORK_PROCESS = templates._process_single_hit


def deepmind_assess(hit, hit_pdb_code, query_sequence, release_dates, release_date_cutoff,
                    max_subsequence_ratio=0.95, min_align_ratio=0.1):
    del max_subsequence_ratio  # the fork passes 1.0; DeepMind's caller keeps the default 0.95
    FORK_ASSESS(hit, hit_pdb_code, query_sequence, release_dates, release_date_cutoff)
    aligned_cols = hit.aligned_cols
    align_ratio = aligned_cols / len(query_sequence)
    template_sequence = hit.hit_sequence.replace('-', '')
    length_ratio = float(len(template_sequence)) / len(query_sequence)
    duplicate = (template_sequence in query_sequence and length_ratio > 0.95)
    if align_ratio <= min_align_ratio:
        raise templates.AlignRatioError(f'Align ratio: {align_ratio}.')
    if duplicate:
        raise templates.DuplicateError(f'Length ratio: {length_ratio}.')
    if len(template_sequence) < 10:
        raise templates.LengthError(f'Length: {len(template_sequence)}.')
    return True


def process_skipping_missing(**kwargs):
    try:
        return FORK_PROCESS(**kwargs)
    except FileNotFoundError as e:
        return templates.SingleHitResult(features=None, error=None, warning=f"missing: {e}")


def set_modes(letters="biopython-1.79", filters="alphafold"):
    data_modules()
    table = {"standard": STANDARD_LETTERS, "biopython-1.79": SCOP_LETTERS}[letters]
    if mmcif_parsing.PDBData.protein_letters_3to1 is not table:
        mmcif_parsing.PDBData.protein_letters_3to1 = table
        mmcif_parsing.parse.cache_clear()  # parse results depend on the table
    templates._assess_hhsearch_hit = {"colabfold": FORK_ASSESS, "alphafold": deepmind_assess}[filters]
    templates._process_single_hit = process_skipping_missing


def with_ext(out, ext):
    return out.parent / (out.name + ext)


def hit_dict(h):
    return {k: getattr(h, k) for k in ("index", "name", "aligned_cols", "sum_probs", "query",
                                       "hit_sequence", "indices_query", "indices_hit")}


def read_hits(task):
    data_modules()
    if "hhr" in task:
        with open(task["hhr"]) as f:
            return "hhr", parsers.parse_hhr(f.read())
    with open(task["sto"]) as f:
        text = f.read()
    searcher = hmmsearch.Hmmsearch.__new__(hmmsearch.Hmmsearch)  # get_template_hits needs no binary
    return "sto", searcher.get_template_hits(text, task["query"])


def task_hits(task, out):
    if task["kind"] == "hhr":
        _, hits = read_hits({"hhr": task["path"]})
    else:
        _, hits = read_hits({"sto": task["path"], "query": task["query"]})
    with_ext(out, ".json").write_text(json.dumps([hit_dict(h) for h in hits]))


def task_mmcif(task, out):
    set_modes(letters=task.get("letters", "biopython-1.79"))
    with open(task["path"]) as f:
        result = mmcif_parsing.parse(file_id=task["id"], mmcif_string=f.read())
    info = {"errors": {f"{k}": str(v) for k, v in result.errors.items()}, "chains": []}
    arrays = {}
    obj = result.mmcif_object
    if obj is not None:
        info["release_date"] = obj.header.get("release_date")
        for chain, seq in obj.chain_to_seqres.items():
            c = {"id": chain, "sequence": seq}
            try:
                pos, mask = templates._get_atom_positions(obj, chain, max_ca_ca_distance=150.0)
                arrays[f"{chain}_positions"] = pos.astype(np.float32)
                arrays[f"{chain}_mask"] = mask.astype(np.float32)
            except (templates.CaDistanceError, KeyError) as e:
                c["atom_error"], c["atom_error_is_warning"] = repr(e), True
            except templates.Error as e:
                c["atom_error"], c["atom_error_is_warning"] = repr(e), False
            info["chains"].append(c)
    with_ext(out, ".json").write_text(json.dumps(info))
    np.savez(with_ext(out, ".npz"), **arrays)


def task_features(task, out):
    set_modes(task.get("letters", "biopython-1.79"), task.get("filters", "alphafold"))
    kind, hits = read_hits(task)
    cls = templates.HhsearchHitFeaturizer if kind == "hhr" else templates.HmmsearchHitFeaturizer
    featurizer = cls(mmcif_dir=task["mmcif_dir"],
                     max_template_date=task.get("max_template_date", "2100-01-01"),
                     max_hits=task.get("max_hits", 20), kalign_binary_path=KALIGN,
                     release_dates_path=None, obsolete_pdbs_path=task.get("obsolete"))
    result = featurizer.get_templates(task["query"], hits)
    feats = dict(result.features)
    info = {"warnings": list(result.warnings), "errors": list(result.errors),
            "template_domain_names": [b.decode() for b in feats.pop("template_domain_names")],
            "template_sequence": [b.decode() for b in feats.pop("template_sequence")]}
    with_ext(out, ".json").write_text(json.dumps(info))
    np.savez(with_ext(out, ".npz"), **feats)


def task_processed(task, out):
    from alphafold.model.tf import data_transforms
    raw = dict(np.load(task["raw"]))
    max_templates = task.get("max_templates", 4)
    protein = {k: raw[k] for k in ("template_aatype", "template_all_atom_positions",
                                   "template_all_atom_masks", "template_sum_probs")}
    protein["template_domain_names"] = np.array([b""] * raw["template_aatype"].shape[0],
                                                dtype=object)
    protein = data_transforms.fix_templates_aatype(protein)
    protein = data_transforms.make_template_mask(protein)
    protein = data_transforms.make_pseudo_beta("template_")(protein)  # curried
    protein = {k: np.asarray(v)[:max_templates] for k, v in protein.items()
               if k != "template_domain_names"}
    if task.get("pad"):  # make_fixed_size pads the template axis with zeros
        for k, v in protein.items():
            protein[k] = np.pad(v, [(0, max_templates - v.shape[0])] + [(0, 0)] * (v.ndim - 1))
    np.savez(with_ext(out, ".npz"), **protein)


def task_model(task, out):
    import jax
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    from alphafold.model import all_atom, modules
    protein = dict(np.load(task["processed"]))
    aatype = jnp.asarray(protein["template_aatype"])
    pos = jnp.asarray(protein["template_all_atom_positions"], jnp.float64)
    mask = jnp.asarray(protein["template_all_atom_masks"], jnp.float64)
    beta, beta_mask = modules.pseudo_beta_fn(aatype, pos, mask)
    ret = all_atom.atom37_to_torsion_angles(aatype=aatype, all_atom_pos=pos, all_atom_mask=mask,
                                            placeholder_for_undefined=False)
    t, n = aatype.shape
    feat = jnp.concatenate([
        jax.nn.one_hot(aatype, 22, axis=-1, dtype=jnp.float64),
        jnp.reshape(ret["torsion_angles_sin_cos"], [t, n, 14]),
        jnp.reshape(ret["alt_torsion_angles_sin_cos"], [t, n, 14]),
        ret["torsion_angles_mask"]], axis=-1)
    np.savez(with_ext(out, ".npz"), template_pseudo_beta=np.asarray(beta),
             template_pseudo_beta_mask=np.asarray(beta_mask), template_angle_feat=np.asarray(feat),
             template_angle_mask=np.asarray(ret["torsion_angles_mask"][:, :, 2]))


TASKS = {"hhr": task_hits, "sto": task_hits, "mmcif": task_mmcif, "features": task_features,
         "processed": task_processed, "model": task_model}


def main():
    spec = json.loads(pathlib.Path(sys.argv[1]).read_text())
    out_dir = pathlib.Path(sys.argv[2])
    out_dir.mkdir(parents=True, exist_ok=True)
    for task in spec["tasks"]:
        TASKS[task["kind"]](task, out_dir / task["out"])


if __name__ == "__main__":
    main()
