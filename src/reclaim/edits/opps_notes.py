"""The run note for 837I drug lines whose OPPS status indicator was not known (no CMS OPPS
Addendum B quarter held covers their date, or the code is not in it): RC301, RC305, RC401 and
RC801 judged them as separately payable, as before Addendum B was read. Said once per run."""

from __future__ import annotations

from typing import Any

#: the edits the status indicator changes
SI_EDITS = ("RC301", "RC305", "RC401", "RC801")


def opps_note(backend: Any, codes: list[str]) -> list[str]:
    ran = [c for c in SI_EDITS if c in codes]
    if not ran:
        return []
    row = backend.query("""
        SELECT count(*) AS n, min(service_date) AS f, max(service_date) AS l FROM line_facts
        WHERE institutional AND is_drug AND opps_si IS NULL""").to_pylist()[0]
    if not row["n"]:
        return []
    held = backend.query("SELECT release, min(valid_from) AS s, max(valid_to) AS e FROM opps_dos "
                         "GROUP BY release ORDER BY s DESC LIMIT 1").to_pylist()
    newest = (f"the newest held is {held[0]['release']}" if held
              else "no CMS OPPS Addendum B is loaded")
    dates = str(row["f"]) if row["f"] == row["l"] else f"{row['f']} to {row['l']}"
    return [f"OPPS status indicator not known for {row['n']:,} institutional drug line(s) on {dates} ({newest} "
            f"for those dates or codes): {', '.join(ran)} judged them as separately payable — pull the "
            "Addendum B of those quarters (reclaim data pull --dataset opps)"]
