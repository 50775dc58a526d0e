"""notebooks/01_quickstart.ipynb runs, and what it shows is the API's own result: the printed
confidence, the files it writes, its plots and its 3D view."""

import pytest
from notebooks import cell, cell_text, errors_or_warnings, execute, has_image

import exafold
from exafold.demo import demo_params_path, examples_dir
from exafold.features import read_fasta


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    d = tmp_path_factory.mktemp("nb01")
    nb = execute("01_quickstart.ipynb", d)
    stderr = "".join(errors_or_warnings(nb))
    assert "Warning" not in stderr and "Traceback" not in stderr, stderr
    return nb, d


@pytest.fixture(scope="module")
def expected():
    """The same prediction made here, outside the notebook."""
    model = exafold.Model.load(demo_params_path("reduced_ptm"), "reduced_ptm")
    query = next(r for r in read_fasta(str(examples_dir() / "sequences.fasta")) if r.description.startswith("short73"))
    return model.predict(query, examples_dir() / "alignments" / "short73", seed=0)


def test_prints_the_predictions_confidence(run, expected):
    nb, _ = run
    p = expected
    assert repr(p) in cell_text(cell(nb, tag="predict"))
    assert f"short73: 73 residues, mean pLDDT {p.mean_plddt:.2f}, pTM {p.ptm:.3f}" in cell_text(cell(nb, tag="summary"))


def test_writes_the_predictions_files(run, expected):
    nb, d = run
    assert (d / "short73.pdb").read_text() == expected.to_pdb()
    assert (d / "short73.cif").read_text() == expected.to_mmcif()
    atoms = int(expected.atom_mask.sum())
    assert f"wrote short73.pdb ({atoms} atoms) and short73.cif" in cell_text(cell(nb, tag="files"))


def test_shows_plots_and_a_3d_view(run, expected):
    nb, _ = run
    assert has_image(cell(nb, tag="plddt")) and has_image(cell(nb, tag="pae"))
    data = [o["data"] for o in cell(nb, tag="view")["outputs"] if "data" in o]
    html = "".join(d.get("text/html", "") for d in data)
    assert "3Dmol" in html
    # The viewer holds this structure: its first atom record is in the page.
    first_atom = next(line for line in expected.to_pdb().splitlines() if line.startswith("ATOM"))
    assert first_atom in html.replace("\\n", "\n")
