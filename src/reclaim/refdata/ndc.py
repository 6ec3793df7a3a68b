"""National Drug Codes: read any printed form, return the 11-digit 5-4-2 claim form.

An NDC is labeler-product-package. The FDA prints 10-digit NDCs in three configurations
(4-4-2, 5-3-2, 5-4-1); claims carry 11 digits, 5-4-2, without hyphens, made by padding the
short segment with a leading zero (domain-facts §4.1 [NDC-DATAINSIGHT] [NDC-DAISY]):

    0574-4072-05  -> 00574407205   (4-4-2: zero in position 1)
    51655-089-52  -> 51655008952   (5-3-2: zero in position 6)
    58118-1397-3  -> 58118139703   (5-4-1: zero in position 10)

A 10-digit NDC written without hyphens cannot be converted (which segment is short is
unknown), so it is rejected rather than guessed. ``ndc_problem`` says why a text is not an NDC.
"""

from __future__ import annotations

import re

__all__ = ["normalize_ndc", "ndc_problem", "format_ndc"]

# the short segment of each 10-digit configuration gets a leading zero
_PAD_BY_SHAPE: dict[tuple[int, int, int], tuple[int, int, int]] = {
    (5, 4, 2): (0, 0, 0),
    (4, 4, 2): (1, 0, 0),
    (5, 3, 2): (0, 1, 0),
    (5, 4, 1): (0, 0, 1),
}
_SHAPES = "4-4-2, 5-3-2, 5-4-1 (10 digits) or 5-4-2 (11 digits)"
# 'N4' is the 837 LIN02 / paper 1500 qualifier for an NDC in 5-4-2 form (domain-facts §4.2)
_N4_PREFIX = re.compile(r"^N4[\s:]*", re.IGNORECASE)
_SEPARATORS = re.compile(r"\s*-\s*|\s+")


def _parse(text: str) -> tuple[str | None, str | None]:
    """Return (ndc11, None) or (None, reason)."""
    if not isinstance(text, str):
        return None, f"expected text, got {type(text).__name__}"
    cleaned = _N4_PREFIX.sub("", text.strip())
    if not cleaned:
        return None, "empty: no NDC given"
    segments = [s for s in _SEPARATORS.split(cleaned)]
    if any(not s.isdigit() or not s.isascii() for s in segments):
        bad = next(s for s in segments if not (s.isdigit() and s.isascii()))
        if bad == "":
            return None, f"{text!r}: empty segment between separators (expected {_SHAPES})"
        return None, f"{text!r}: {bad!r} is not made of digits (an NDC has only digits and hyphens)"
    if len(segments) == 1:
        digits = segments[0]
        if len(digits) == 11:
            return digits, None
        if len(digits) == 10:
            return None, (
                f"{text!r}: 10 digits without hyphens are ambiguous (4-4-2, 5-3-2 or 5-4-1?): "
                "write it with hyphens as printed on the package, or give the 11-digit 5-4-2 form"
            )
        return None, f"{text!r}: {len(digits)} digits; an NDC has 10 (with hyphens) or 11 digits"
    if len(segments) != 3:
        return None, f"{text!r}: {len(segments)} segments; an NDC has 3 (labeler-product-package)"
    shape = tuple(len(s) for s in segments)
    pads = _PAD_BY_SHAPE.get(shape)  # type: ignore[arg-type]
    if pads is None:
        printed = "-".join(str(n) for n in shape)
        return None, f"{text!r}: segments {printed} are not a valid NDC configuration (expected {_SHAPES})"
    return "".join("0" * pad + seg for pad, seg in zip(pads, segments)), None


def normalize_ndc(text: str) -> str | None:
    """The 11-digit 5-4-2 NDC (no hyphens) for any printed form, or None if it is not one.

    Accepts 10-digit NDCs with hyphens (4-4-2, 5-3-2, 5-4-1), 11 digits with or without hyphens,
    spaces instead of hyphens, and an ``N4`` qualifier prefix. Never guesses: a bare 10-digit
    string is ambiguous and gives None (see :func:`ndc_problem`).
    """
    return _parse(text)[0]


def ndc_problem(text: str) -> str | None:
    """Why ``text`` cannot be normalized to an 11-digit NDC, in words; None when it can."""
    return _parse(text)[1]


def format_ndc(ndc11: str) -> str:
    """Hyphenate an 11-digit NDC as 5-4-2: ``'55513071001'`` -> ``'55513-0710-01'``."""
    if not (isinstance(ndc11, str) and len(ndc11) == 11 and ndc11.isdigit() and ndc11.isascii()):
        raise ValueError(f"expected 11 digits (a normalized NDC), got {ndc11!r}")
    return f"{ndc11[:5]}-{ndc11[5:9]}-{ndc11[9:]}"
