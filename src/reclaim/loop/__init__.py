"""The closed loop: learn from what payers did and from what a new release changes.

* :mod:`.adjudication_diff` — submitted (837) vs adjudicated (835), line by line: codes,
  modifiers, units, NDCs changed by the payer, lines bundled or split, adjustments that do not
  add up; each difference with its dollar effect and whether it is expected or worth disputing;
* :mod:`.release_diff` — what a new reference release changes (codes, payment limits, MUEs,
  crosswalk NDCs, biosimilars) and which of the practice's claims and open items it touches;
* :mod:`.effectiveness` — the edit catalog replayed on historical claims and scored against
  the remittances: precision, recall and dollars protected per edit, denials no edit covers.

See docs/closed-loop.md.
"""
