"""Jinja2 templates with autoescaping on, and the context every page gets (user, CSRF secret,
navigation). Values reach HTML only through templates, so everything shown is escaped."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from fastapi import Request
from fastapi.templating import Jinja2Templates

from .. import __version__

templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
templates.env.autoescape = True  # every template, whatever its extension

#: (path, label, least role) of the side navigation
NAV = [
    ("/worklist", "Worklist", "biller"),
    ("/uploads", "Uploads", "biller"),
    ("/dashboard", "Dashboard", "manager"),
    ("/guide", "Code guide", "biller"),
    ("/refdata/diff", "Reference changes", "manager"),
    ("/admin/users", "Users", "admin"),
    ("/admin/audit", "Audit log", "admin"),
    ("/account", "My account", "biller"),
    ("/api", "API", "biller"),
]


def money(value) -> str:
    if value is None or value == "":
        return ""
    amount = Decimal(str(value))
    sign = "-" if amount < 0 else ""
    return f"{sign}${abs(amount):,.2f}"


def number(value) -> str:
    if value is None or value == "":
        return ""
    amount = Decimal(str(value))
    return f"{amount.normalize():f}" if amount == amount.to_integral() else f"{amount:f}".rstrip("0")


templates.env.filters["money"] = money
templates.env.filters["number"] = number
#: CLP02 claim status codes in words (domain-facts: CLP02 values, [OPENEMR-BU] / [EEDI-CLP])
CLAIM_STATUS = {
    "1": "processed as primary", "2": "processed as secondary", "3": "processed as tertiary", "4": "denied",
    "19": "processed as primary, forwarded to another payer", "20": "processed as secondary, forwarded to another payer",
    "21": "processed as tertiary, forwarded to another payer", "22": "reversal of a previous payment",
    "23": "not this payer's claim, forwarded", "25": "predetermination pricing only, no payment",
}
templates.env.filters["claim_status"] = lambda code: CLAIM_STATUS.get(str(code or "").strip(), f"status code {code}")
templates.env.filters["fromjson"] = lambda text: __import__("json").loads(text) if text else {}


def render(request: Request, name: str, context: dict | None = None, *, status_code: int = 200):
    from .security import principal

    try:
        who = principal(request)
    except Exception:  # a bad token on an HTML page: show the page signed out
        who = None
    nav = [(p, label) for p, label, role in NAV if who is not None and who.user.has_role(role)]
    ctx = {"request": request, "who": who, "csrf_token": who.csrf_token if who else "", "nav": nav,
           "path": request.url.path, "version": __version__, **(context or {})}
    return templates.TemplateResponse(request, name, ctx, status_code=status_code)
