"""What the napari hub and npe2 read from the source tree: the manifest validates, the package metadata a hub page
shows is filled in, and the docs the README points to (each dock's page and picture) are there.

The built artefacts (wheel, sdist, a fresh install of each) are tests/test_wheel.py's.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    tomllib = pytest.importorskip("tomli")

ROOT = Path(__file__).resolve().parents[1]
MANIFEST = ROOT / "napari_inf3" / "napari.yaml"
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
DOCKS = ("fusion", "spectrum", "training")


def manifest_yaml() -> dict:
    """The manifest as written (PyYAML comes with npe2, i.e. with the plugin's extras)."""
    yaml = pytest.importorskip("yaml")
    return yaml.safe_load(MANIFEST.read_text())


def test_manifest_validates_with_npe2():
    """What ``npe2 validate`` checks of the file, without importing Qt: any schema error raises here."""
    npe2 = pytest.importorskip("npe2")
    mf = npe2.PluginManifest.from_file(MANIFEST)
    assert mf.name == PROJECT["name"]
    # the commands the contributions point at are the ones declared (npe2 checks the ids; this reads them back)
    ids = {c.id for c in mf.contributions.commands}
    used = [r.command for r in mf.contributions.readers] + [w.command for w in mf.contributions.writers]
    used += [s.command for s in mf.contributions.sample_data] + [w.command for w in mf.contributions.widgets]
    assert set(used) <= ids and len(mf.contributions.widgets) == 3


def test_manifest_has_what_the_hub_shows():
    npe2 = pytest.importorskip("npe2")
    mf = npe2.PluginManifest.from_file(MANIFEST)
    raw = manifest_yaml()
    assert raw["visibility"] == "public" and mf.is_visible  # said, not left to the default
    assert mf.display_name and raw["display_name"] == mf.display_name
    assert mf.categories and {str(c) for c in mf.categories} <= {c.value for c in npe2.manifest.schema.Category}
    assert "Image Processing" in {str(c) for c in mf.categories}


def test_manifest_python_names_exist():
    """Every command's ``module:attribute`` is a top-level def or class in a file of the package (read, not
    imported: the widget modules import Qt). The GUI test ``npe2 validate --imports`` imports them too."""
    for command in manifest_yaml()["contributions"]["commands"]:
        module, attr = command["python_name"].split(":")
        path = ROOT.joinpath(*module.split(".")).with_suffix(".py")
        assert path.is_file(), command
        tree = ast.parse(path.read_text())
        names = {n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)}
        assert attr in names, command


def test_manifest_entry_point_names_the_file():
    assert PROJECT["entry-points"]["napari.manifest"] == {PROJECT["name"]: "napari_inf3:napari.yaml"}


def test_project_metadata_for_the_hub():
    """The hub's summary is ``description`` (one line), its page the README; ``Framework :: napari`` lists it."""
    description = PROJECT["description"]
    assert "\n" not in description and 20 <= len(description) <= 200
    assert (ROOT / PROJECT["readme"]).is_file()
    classifiers = PROJECT["classifiers"]
    assert "Framework :: napari" in classifiers
    assert any(c.startswith("License :: ") for c in classifiers) and PROJECT["license"]
    assert any(c.startswith("Development Status :: ") for c in classifiers)
    assert any(c.startswith("Operating System :: ") for c in classifiers)
    assert classifiers == sorted(classifiers) and len(set(classifiers)) == len(classifiers)
    assert "napari" in PROJECT["keywords"] and "hyperspectral" in PROJECT["keywords"]
    # links, when the project has a public home: https, under the labels the hub knows
    hub_labels = {"Homepage", "Source Code", "Documentation", "Bug Tracker", "User Support", "Twitter"}
    for label, url in PROJECT.get("urls", {}).items():
        assert label in hub_labels and url.startswith("https://"), (label, url)


def _slug(heading: str) -> str:
    """GitHub's anchor for a Markdown heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def _links(md: Path) -> list[str]:
    text = re.sub(r"```.*?```", "", md.read_text(), flags=re.S)  # code blocks hold no links
    return re.findall(r"\]\(([^)\s]+)\)", text)


@pytest.mark.parametrize("md", [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))], ids=lambda p: p.name)
def test_relative_links_resolve(md):
    """Every relative link and picture in the README and docs/ names a file there (and a heading, for
    ``#anchor`` into a Markdown page)."""
    for link in _links(md):
        if re.match(r"^[a-z]+:", link):
            continue  # https:, mailto:
        target, _, anchor = link.partition("#")
        path = (md.parent / target).resolve() if target else md
        assert path.exists(), f"{md.name}: {link}"
        if anchor and path.suffix == ".md":
            headings = re.findall(r"^#+ (.+)$", path.read_text(), flags=re.M)
            assert anchor in {_slug(h) for h in headings}, f"{md.name}: {link}"


def test_each_dock_has_its_page_and_picture():
    page = (ROOT / "docs" / "DOCKS.md").read_text()
    for dock in DOCKS:
        png = ROOT / "docs" / f"dock_{dock}.png"
        assert png.is_file() and png.stat().st_size < 300_000, png
        assert f"({png.name})" in page
    readme = (ROOT / "README.md").read_text()
    assert all(f"docs/DOCKS.md#{a}" in readme for a in ("fusion", "spectrum-inspector", "training"))
