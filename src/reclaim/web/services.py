"""The one place the web app calls the rest of reclaim (readers, edits, recovery, worklist
store, billing guide). Pages and API routes call these; they hold no billing logic themselves.

A library a feature needs that is not installed or not built yet (say, the reference store
before ``reclaim data import``) is reported as :class:`Unavailable` (HTTP 503) with the step
that fixes it, never as a traceback.
"""

from __future__ import annotations

from fastapi import HTTPException, Request

from ..errors import ReclaimError
from . import uploads


class Unavailable(HTTPException):
    def __init__(self, what: str, hint: str):
        super().__init__(status_code=503, detail=f"{what} is not available: {hint}")


def upload_or_404(request: Request, upload_id: str) -> dict:
    try:
        uploads.upload_folder(request.app.state.uploads_dir, upload_id)
    except ReclaimError:
        raise HTTPException(status_code=404, detail="no such upload") from None
    upload = uploads.get_upload(request.app.state.engine, upload_id)
    if upload is None:
        raise HTTPException(status_code=404, detail="no such upload")
    return upload


def upload_detail(request: Request, upload: dict) -> dict:
    """What an upload's page and JSON show: the read issues (what was skipped and why)."""
    batch = uploads.load_batch(request.app.state.uploads_dir, upload)
    return {"issues": uploads.issue_rows(batch["read_issues"])}
