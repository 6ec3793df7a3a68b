"""Recovery: from X12 835 remittances to recovered money.

``recover(remits, claims, *, store, policies, db_url) -> RecoveryResult`` matches every
remittance claim and line to what was submitted, puts every dollar in one category, explains
denials (CARC x group x RARC taxonomy), finds underpayments against ASP or the contract, names
the edit that would have prevented each denial, and ranks the recoverable items by dollars x
odds x deadline. See docs/recover.md.
"""

from .engine import ITEM_COLUMNS, RecoveryResult, recover

__all__ = ["recover", "RecoveryResult", "ITEM_COLUMNS"]
