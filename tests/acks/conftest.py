"""Fixtures for the acknowledgment tests: pyx12 as the independent parser and validator, and a
reference store holding the mirror plus the claim status code lists (FIXTURE files: the mirror
has no release of them)."""

from __future__ import annotations

import io
import logging
from collections import Counter
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "x12"
STATUS_LISTS = REPO / "tests" / "fixtures" / "refdata" / "x12_claim_status"


def without_bom(path: Path, tmp_path: Path) -> Path:
    """pyx12 cannot read a file that starts with a UTF-8 byte-order mark (the real 999 does):
    the same bytes without it, for pyx12 only (reclaim reads the original)."""
    data = path.read_bytes()
    if not data.startswith(b"\xef\xbb\xbf"):
        return path
    copy = tmp_path / path.name
    copy.write_bytes(data[3:])
    return copy


@pytest.fixture
def pyx12_findings():
    """``findings(path) -> list of (segment id, error code, message)`` from pyx12 4.0's
    x12n_document with its own maps (999 X231A1, 277CA X214; [] = the file passes). ``maps``
    adds map index lines (pyx12 ships maps its index does not list)."""
    import json

    import pyx12.params
    import pyx12.x12n_document

    def findings(path, maps: dict[tuple[str, str, str], str] | None = None) -> list[tuple]:
        map_path = None
        if maps:
            import shutil
            import tempfile

            map_path = Path(tempfile.mkdtemp()) / "map"
            shutil.copytree(Path(pyx12.__file__).parent / "map", map_path)
            index = (map_path / "maps.xml").read_text()
            extra = "".join(f'\n    <map vriic="{v}" fic="{f}" abbr="{a}">{name}</map>' for (v, f, a), name in maps.items())
            anchor = '<map vriic="005010X214" fic="HN" abbr="277">277.5010.X214.xml</map>'
            (map_path / "maps.xml").write_text(index.replace(anchor, anchor + extra))
        out = io.StringIO()
        logger = logging.getLogger("pyx12")
        level = logger.level
        logger.setLevel(logging.CRITICAL)
        try:
            ok = pyx12.x12n_document.x12n_document(pyx12.params.params(), str(path), None, None, fd_json=out,
                                                    map_path=str(map_path) if map_path else None)
        finally:
            logger.setLevel(level)
        found = []

        def walk(node, seg=None):
            if isinstance(node, dict):
                seg = node.get("seg_id") or seg
                for e in node.get("errors") or []:
                    found.append((seg, e.get("err_cde"), e.get("err_str")))
                for value in node.values():
                    if isinstance(value, (dict, list)):
                        walk(value, seg)
            elif isinstance(node, list):
                for item in node:
                    walk(item, seg)

        if out.getvalue().strip():
            walk(json.loads(out.getvalue()))
        if not ok and not found:
            found.append((None, None, "pyx12 reported the document invalid"))
        return found

    return findings


@pytest.fixture
def pyx12_segments():
    """``segments(path) -> Counter of segment ids`` from pyx12's own tokenizer (x12file.X12Reader,
    no map: pyx12 4.0 has no working 005010X212 maps to walk)."""
    import pyx12.x12file

    def segments(path) -> Counter:
        return Counter(seg.get_seg_id() for seg in pyx12.x12file.X12Reader(str(path)))

    return segments


@pytest.fixture
def pyx12_tree():
    """pyx12's loop tree reader (X12ContextReader) for files it has a map for (999, 277CA)."""
    import pyx12.error_handler
    import pyx12.params
    import pyx12.x12context

    def tree(path):
        return pyx12.x12context.X12ContextReader(pyx12.params.params(), pyx12.error_handler.errh_null(), str(path))

    return tree


@pytest.fixture(scope="session")
def status_store(refdata_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    """A reference store with the mirror and the claim status code lists, opened once."""
    from reclaim.config import Settings
    from reclaim.refdata.store import RefStore, import_dir

    settings = Settings(home=str(tmp_path_factory.mktemp("reclaim-acks-home")))
    import_dir(refdata_dir, settings.store_path)
    import_dir(STATUS_LISTS, settings.store_path)
    opened = RefStore.open(settings)
    yield opened
    opened.close()
