"""The template path from Python: the mmCIF reader against two independent readers (gemmi for the
SEQRES, Biotite for the coordinates), the pre-parsed store against the mmCIF directory it was
built from, and what bad input does (a clear error for a malformed hits file, a skipped hit with
its reason for a missing or unreadable structure, no template and a message when nothing is
usable). Parity with AlphaFold2 itself is test_templates_reference.py."""
from __future__ import annotations

import gzip

import biotite.structure.io.pdbx as pdbx
import gemmi
import numpy as np
import pytest

import template_fixtures as T
from exafold import features as F

ATOM37 = ["N", "CA", "C", "CB", "O", "CG", "CG1", "CG2", "OG", "OG1", "SG", "CD", "CD1", "CD2",
          "ND1", "ND2", "OD1", "OD2", "SD", "CE", "CE1", "CE2", "CE3", "NE", "NE1", "NE2", "OE1",
          "OE2", "CH2", "NH1", "NH2", "OH", "CZ", "CZ2", "CZ3", "NZ", "OXT"]


@pytest.fixture(scope="module")
def mmcifs(tmp_path_factory):
    return T.short73_mmcif_dir(tmp_path_factory.mktemp("t"))


def protein_chains(block):
    """gemmi's view: label chain -> (author chain, SEQRES names) for the chains of entities with
    a residue whose chemical type is a peptide."""
    poly = {}
    for eid, mon in block.find("_entity_poly_seq.", ["entity_id", "mon_id"]):
        poly.setdefault(eid, []).append(mon)
    types = dict(block.find("_chem_comp.", ["id", "type"]))
    label_to_auth = {}
    for label, auth in block.find("_atom_site.", ["label_asym_id", "auth_asym_id"]):
        label_to_auth[label] = auth
    out = {}
    for label, eid in block.find("_struct_asym.", ["id", "entity_id"]):
        if any("peptide" in gemmi.cif.as_string(types[m]).lower() for m in poly.get(eid, [])):
            out[label] = (label_to_auth[label], poly[eid])
    return out


@pytest.mark.parametrize("entry", T.SHORT73_ENTRIES)
def test_seqres_as_gemmi_reads_it(entry):
    path = T.SHORT73 / "mmcifs" / f"{entry}.cif.gz"
    ours = F.read_template_mmcif(str(path), entry)
    block = gemmi.cif.read(str(path)).sole_block()
    expected = dict(protein_chains(block).values())
    assert {c.id: c.residues for c in ours.chains} == expected
    dates = [gemmi.cif.as_string(d) for d in
             block.find_values("_pdbx_audit_revision_history.revision_date")]
    assert ours.release_date == min(dates)


@pytest.mark.parametrize("entry", T.SHORT73_ENTRIES)
def test_atoms_as_biotite_reads_them(entry):
    """Every atom37 position and mask of every chain, against Biotite's model 1 with the
    highest-occupancy alternate locations (its altloc='occupancy' is that rule), placed by
    label_seq_id. AlphaFold2's own rules that Biotite does not apply are applied here to its
    atoms: MSE's SE as SD, and arginine's NH1/NH2 ordered by distance to CD."""
    path = T.SHORT73 / "mmcifs" / f"{entry}.cif.gz"
    ours = F.read_template_mmcif(str(path), entry)
    with gzip.open(path, "rt") as f:
        cif = pdbx.CIFFile.read(f)
    # Label fields: chain_id is label_asym_id and res_id label_seq_id (SEQRES position).
    atoms = pdbx.get_structure(cif, model=1, altloc="occupancy", use_author_fields=False,
                               extra_fields=["auth_asym_id"])
    labels = {label for label, (auth, _) in
              protein_chains(gemmi.cif.read(str(path)).sole_block()).items()}
    compared = 0
    for chain in ours.chains:
        pos = np.zeros_like(chain.positions)
        mask = np.zeros_like(chain.mask)
        sel = (atoms.auth_asym_id == chain.id) & np.isin(atoms.chain_id, list(labels))
        for a in atoms[sel]:
            name = "SD" if (a.atom_name == "SE" and a.res_name == "MSE") else a.atom_name
            if name in ATOM37:
                pos[a.res_id - 1, ATOM37.index(name)] = a.coord
                mask[a.res_id - 1, ATOM37.index(name)] = 1
        for r in np.nonzero(np.array(chain.residues) == "ARG")[0]:
            cd, nh1, nh2 = (ATOM37.index(n) for n in ("CD", "NH1", "NH2"))
            if mask[r, [cd, nh1, nh2]].all() and (np.linalg.norm(pos[r, nh1] - pos[r, cd]) >
                                                  np.linalg.norm(pos[r, nh2] - pos[r, cd])):
                pos[r, [nh1, nh2]] = pos[r, [nh2, nh1]]
        np.testing.assert_array_equal(chain.mask, mask, err_msg=f"{entry} chain {chain.id}")
        np.testing.assert_array_equal(chain.positions, pos, err_msg=f"{entry} chain {chain.id}")
        compared += int(mask.sum())
    assert compared > 100


def test_store_holds_what_the_directory_gives(tmp_path):
    store_path = tmp_path / "templates.h5"
    assert F.build_template_store(str(T.SHORT73 / "mmcifs"), str(store_path), threads=2) == 8
    assert not (tmp_path / "templates.h5.tmp").exists()
    store, directory = F.TemplateStore(str(store_path)), F.MmcifDirectory(str(T.SHORT73 / "mmcifs"))
    assert len(store) == 8 and store.find("1hf9") is None
    for entry in T.SHORT73_ENTRIES:
        a, b = store.find(entry), directory.find(entry)
        assert (a.release_date, a.error, [c.id for c in a.chains]) == \
               (b.release_date, b.error, [c.id for c in b.chains])
        for x, y in zip(a.chains, b.chains):
            assert x.residues == y.residues
            np.testing.assert_array_equal(x.positions, y.positions)
            np.testing.assert_array_equal(x.mask, y.mask)
    hits = str(T.SHORT73 / "pdb70_hits.hhr")
    via_store = F.template_features(T.SHORT73_QUERY, hits, store)
    via_dir = F.template_features(T.SHORT73_QUERY, hits, directory)
    for k, v in via_dir.features.items():
        assert np.array_equal(via_store.features[k], v), k
    assert [h.status for h in via_store.hits] == [h.status for h in via_dir.hits]
    # Compressed, the same entries in less space.
    small = tmp_path / "deflated.h5"
    F.build_template_store(str(T.SHORT73 / "mmcifs"), str(small), deflate_level=4)
    assert small.stat().st_size < store_path.stat().st_size
    via_small = F.template_features(T.SHORT73_QUERY, hits, F.TemplateStore(str(small)))
    for k, v in via_dir.features.items():
        assert np.array_equal(via_small.features[k], v), k


def test_store_keeps_unreadable_entries_and_refuses_other_files(tmp_path):
    src = tmp_path / "cifs"
    src.mkdir()
    crafted = T.crafted_entries()
    for name in ("9bad", "9far", "9two"):
        (src / f"{name}.cif").write_text(crafted[name])
    assert F.build_template_store(str(src), str(tmp_path / "s.h5")) == 3
    store = F.TemplateStore(str(tmp_path / "s.h5"))
    direct = F.MmcifDirectory(str(src))
    for name in ("9bad", "9far", "9two"):
        a, b = store.find(name), direct.find(name)
        assert a.error == b.error and [c.atom_error for c in a.chains] == \
               [c.atom_error for c in b.chains]
    assert store.find("9bad").error != ""
    (tmp_path / "other.h5").write_bytes(b"not hdf5")
    with pytest.raises(OSError):
        F.TemplateStore(str(tmp_path / "other.h5"))
    (src / "9two.cif.gz").write_bytes(gzip.compress(crafted["9two"].encode()))
    with pytest.raises(ValueError, match="holds entry 9two twice"):
        F.build_template_store(str(src), str(tmp_path / "t.h5"))


def test_malformed_hits_file_names_file_and_line(tmp_path):
    text = (T.SHORT73 / "pdb70_hits.hhr").read_text().replace("Sum_probs=11.0", "Sum_probs=1l.0")
    bad = tmp_path / "pdb70_hits.hhr"
    bad.write_text(text)
    line = text.splitlines().index(next(x for x in text.splitlines() if "Sum_probs=1l.0" in x)) + 1
    with pytest.raises(ValueError, match=rf"^{bad}:{line}: 'Sum_probs=' is not a number"):
        F.template_features(T.SHORT73_QUERY, str(bad), str(T.SHORT73 / "mmcifs"))
    sto = tmp_path / "pdb_hits.sto"
    sto.write_text((T.SHORT73 / "pdb_hits.sto").read_text().replace("//\n", ""))
    with pytest.raises(ValueError, match=rf"^{sto}:\d+: truncated file"):
        F.read_hmmsearch_sto(str(sto), T.SHORT73_QUERY)
    with pytest.raises(ValueError, match="these are not this query's hits"):
        F.read_hmmsearch_sto(str(T.SHORT73 / "pdb_hits.sto"), T.SHORT73_QUERY[:-1])


def test_missing_and_unreadable_structures_are_skipped_with_the_reason(tmp_path):
    mmcifs = tmp_path / "mmcifs"
    mmcifs.mkdir()
    for entry in T.SHORT73_ENTRIES:
        (mmcifs / f"{entry}.cif.gz").write_bytes((T.SHORT73 / "mmcifs" / f"{entry}.cif.gz").read_bytes())
    (mmcifs / "2crb.cif.gz").write_bytes(b"\x1f\x8b garbage")  # a corrupt archive
    (mmcifs / "4zey.cif.gz").unlink()
    (mmcifs / "4zey.cif").write_text("data_4ZEY\n_entry.id 4ZEY\nloop_\n_a.b\n")  # no values
    r = F.template_features(T.SHORT73_QUERY, str(T.SHORT73 / "pdb70_hits.hhr"), str(mmcifs))
    by_name = {h.name: h for h in r.hits}
    assert by_name["1hf9_B"].status == "warning" and "1hf9.cif not found" in by_name["1hf9_B"].reason
    assert by_name["2crb_A"].status == "warning" and "2crb.cif.gz" in by_name["2crb_A"].reason
    assert by_name["4zey_A"].status == "warning"
    assert "4zey.cif:3: loop_ without values" in by_name["4zey_A"].reason
    assert r.num_templates == 5 and len(r.warnings) == 5 and r.message == ""


def test_no_usable_template_gives_none_and_says_why(tmp_path):
    mmcifs = tmp_path / "mmcifs"
    mmcifs.mkdir()
    (mmcifs / "9xyz.cif").write_text(T.crafted_entries()["9far"])
    r = F.template_features(T.SHORT73_QUERY, str(T.SHORT73 / "pdb70_hits.hhr"), str(mmcifs))
    assert r.num_templates == 0 and r.features["template_aatype"].shape == (0, 73, 22)
    assert r.message == "no usable template among 10 hits"
    p = F.process_template_features(r)
    assert p["template_angle_feat"].shape == (0, 73, 57)
    r = F.template_features(T.SHORT73_QUERY, str(T.SHORT73 / "pdb_hits.sto"), str(mmcifs))
    assert r.num_templates == 1 and r.features["template_domain_names"].tolist() == [b""]
    assert "all-zero template" in r.message


def test_api_checks_its_arguments():
    hits = F.read_hhr(str(T.SHORT73 / "pdb70_hits.hhr"))
    with pytest.raises(ValueError, match="format"):
        F.template_features(T.SHORT73_QUERY, hits, str(T.SHORT73 / "mmcifs"))
    with pytest.raises(ValueError, match="max_template_date must be YYYY-MM-DD"):
        F.template_features(T.SHORT73_QUERY, hits, str(T.SHORT73 / "mmcifs"), format="hhr",
                            max_template_date="2021-13-01")
    with pytest.raises(ValueError, match="filters must be"):
        F.template_features(T.SHORT73_QUERY, hits, str(T.SHORT73 / "mmcifs"), format="hhr",
                            filters="none")
    with pytest.raises(ValueError, match="not a directory"):
        F.template_features(T.SHORT73_QUERY, hits, "/nonexistent", format="hhr")


def test_hits_file_discovery(tmp_path):
    assert F.find_template_hits(str(tmp_path)) is None
    (tmp_path / "pdb_hits.sto").write_text("")
    assert F.find_template_hits(str(tmp_path)) == (str(tmp_path / "pdb_hits.sto"), "sto")
    (tmp_path / "pdb_hits.hhr").write_text("")
    with pytest.raises(ValueError, match="two template search results"):
        F.find_template_hits(str(tmp_path))
