"""Where official releases come from: a local folder, or the publishers' download URLs.

``reclaim data pull`` downloads the official zip(s) of a dataset and release with urllib,
extracts them into a temporary folder and imports that folder (same path as ``data import``).
The URL patterns are the publishers' own (see ``../shared/refdata/README.md``, "Newer
releases"); ``base_url`` replaces the scheme and host, which is how tests serve the zips from a
loopback HTTP server. When the publisher cannot be reached the error says so and tells the user
to download the file and run ``reclaim data import DIR``.
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..errors import RefDataError
from .store import ImportReport, Progress, import_dir

_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september",
           "october", "november", "december")


@dataclass(frozen=True)
class Dataset:
    name: str
    #: release (e.g. 2026-01 or 2026-Q3) -> download URLs of the official zips
    urls: Callable[[str], list[str]]
    #: release id to use when none is given
    latest: Callable[[dt.date], str]
    example: str


def _quarter_month(release: str) -> tuple[int, int]:
    """``2026-01`` / ``2026-Q1`` -> (2026, 1): the first month of the quarter."""
    year, _, part = release.partition("-")
    if not year.isdigit() or not part:
        raise RefDataError(f"release {release!r}: expected YYYY-MM (e.g. 2026-01) or YYYY-Qn (e.g. 2026-Q1)")
    if part.upper().startswith("Q") and part[1:].isdigit() and 1 <= int(part[1:]) <= 4:
        return int(year), 3 * int(part[1:]) - 2
    if part.isdigit() and int(part) in (1, 4, 7, 10):
        return int(year), int(part)
    raise RefDataError(f"release {release!r}: expected a quarter's first month (01, 04, 07, 10) or Q1-Q4")


def _current_quarter(today: dt.date) -> str:
    return f"{today.year}-Q{(today.month - 1) // 3 + 1}"


def _hcpcs_urls(release: str) -> list[str]:
    year, month = _quarter_month(release)
    return [f"https://www.cms.gov/files/zip/{_MONTHS[month - 1]}-{year}-alpha-numeric-hcpcs-file.zip"]


def _asp_urls(release: str) -> list[str]:
    year, month = _quarter_month(release)
    name = _MONTHS[month - 1]
    return [f"https://www.cms.gov/files/zip/{name}-{year}-asp-pricing-file.zip",
            f"https://www.cms.gov/files/zip/{name}-{year}-asp-ndc-hcpcs-crosswalk.zip"]


def _mue_urls(release: str) -> list[str]:
    year, month = _quarter_month(release)
    quarter = (month - 1) // 3 + 1
    return [f"https://www.cms.gov/files/zip/medicare-ncci-{year}-q{quarter}-{setting}-mue-table.zip"
            for setting in ("practitioner-services", "facility-outpatient-hospital-services", "dme-supplier-services")]


def _opps_urls(release: str) -> list[str]:
    """CMS OPPS quarterly Addendum B (the zip on the "Quarterly Addenda Updates" page)."""
    year, month = _quarter_month(release)
    return [f"https://www.cms.gov/files/zip/{_MONTHS[month - 1]}-{year}-opps-addendum-b.zip"]


def _icd10_urls(release: str) -> list[str]:
    year = release.upper().removeprefix("FY")
    if not year.isdigit():
        raise RefDataError(f"release {release!r}: expected a fiscal year such as FY2026")
    return [f"https://ftp.cdc.gov/pub/Health_Statistics/NCHS/Publications/ICD10CM/{year}/"
            f"icd10cm-Code%20Descriptions-{year}.zip"]


def _coverage_urls(release: str) -> list[str]:
    return ["https://downloads.cms.gov/medicare-coverage-database/downloads/exports/current_article_csv.zip"]


DATASETS: dict[str, Dataset] = {
    "hcpcs": Dataset("hcpcs", _hcpcs_urls, _current_quarter, "2026-01"),
    "asp": Dataset("asp", _asp_urls, _current_quarter, "2026-Q3"),
    "mue": Dataset("mue", _mue_urls, _current_quarter, "2026-Q3"),
    "opps": Dataset("opps", _opps_urls, _current_quarter, "2026-Q3"),
    "icd10": Dataset("icd10", _icd10_urls,
                     lambda today: f"FY{today.year + (today.month >= 10)}", "FY2026"),
    "coverage": Dataset("coverage", _coverage_urls, lambda today: "current", "current"),
}


def urls_for(dataset: str, release: str | None, *, base_url: str | None = None,
             today: dt.date | None = None) -> list[str]:
    """Official download URLs of ``dataset`` (``release`` default: the current one)."""
    if dataset not in DATASETS:
        raise RefDataError(f"unknown dataset {dataset!r}; known: {', '.join(DATASETS)}")
    spec = DATASETS[dataset]
    urls = spec.urls(release or spec.latest(today or dt.date.today()))
    if base_url:
        base = urllib.parse.urlsplit(base_url)
        urls = [urllib.parse.urlunsplit((base.scheme, base.netloc, base.path.rstrip("/") + urllib.parse.urlsplit(u).path,
                                         "", "")) for u in urls]
    return urls


Download = Callable[[str, int, int | None], None]


def download(url: str, target: Path, progress: Download | None = None, timeout: float = 60) -> Path:
    """Fetch ``url`` into ``target`` (a file); clear errors for offline and HTTP failures."""
    host = urllib.parse.urlsplit(url).hostname or url
    request = urllib.request.Request(url, headers={"User-Agent": "reclaim (reference data pull)"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response, open(target, "wb") as out:
            total = response.headers.get("Content-Length")
            total_bytes = int(total) if total and total.isdigit() else None
            done = 0
            while block := response.read(1 << 16):
                out.write(block)
                done += len(block)
                if progress:
                    progress(url, done, total_bytes)
    except urllib.error.HTTPError as exc:
        raise RefDataError(f"{url}: the server answered HTTP {exc.code} ({exc.reason})",
                           hint="The release may not be published yet or CMS renamed the file; download it from the "
                                "publisher's page and run `reclaim data import DIR`.") from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise RefDataError(f"could not reach {host} ({reason})",
                           hint=f"Download the file yourself ({url}) and run `reclaim data import DIR`.") from None
    return target


def pull(dataset: str, store_path: Path, *, release: str | None = None, base_url: str | None = None,
         progress: Download | None = None, import_progress: Progress | None = None) -> ImportReport:
    """Download, extract and import one dataset's official release into the store."""
    urls = urls_for(dataset, release, base_url=base_url)
    with tempfile.TemporaryDirectory(prefix="reclaim-pull-") as tmp:
        folder = Path(tmp) / "files"
        folder.mkdir()
        for url in urls:
            archive = download(url, Path(tmp) / Path(urllib.parse.urlsplit(url).path).name, progress)
            extract(archive, folder)
        return import_dir(folder, store_path, progress=import_progress, source=" ".join(urls))


def extract(archive: Path, folder: Path) -> None:
    """Extract a zip (and zips inside it: CMS nests them) into ``folder``, refusing unsafe paths."""
    try:
        with zipfile.ZipFile(archive) as zf:
            for member in zf.infolist():
                name = Path(member.filename)
                if member.is_dir():
                    continue
                if name.is_absolute() or ".." in name.parts:
                    raise RefDataError(f"{archive.name}: member {member.filename!r} has an unsafe path")
                target = folder / archive.stem / name
                target.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(member) as src, open(target, "wb") as dst:
                    shutil.copyfileobj(src, dst)
                if target.suffix.lower() == ".zip":
                    extract(target, target.parent)
                    target.unlink()
    except zipfile.BadZipFile:
        raise RefDataError(f"{archive.name}: not a zip archive (the download may be an error page)") from None
