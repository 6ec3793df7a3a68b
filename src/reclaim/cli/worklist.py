"""``reclaim worklist``: list and update worklist items saved by ``reclaim recover``.

``reclaim worklist [list] [--status S] [--assignee U] [--kind K] [--payer P] [--action A]``,
``show ID``, ``assign ID USER``, ``status ID STATUS [--amount X]``, ``note ID TEXT``, ``summary``.
The database is the ``database_url`` setting (``--db URL`` overrides it).
"""

from __future__ import annotations

import click

from .terminal import Column, table, width


def _store(ctx: click.Context):
    from ..store import WorklistStore

    settings = ctx.find_root().obj
    # ctx.meta is shared by the whole command tree: --db given on `worklist` reaches subcommands
    return WorklistStore(ctx.meta.get("reclaim.db") or settings.database_url)


def table_row(item: dict) -> dict:
    """A worklist item (from ``recover`` or the store) as the strings of :data:`WORKLIST_COLUMNS`."""
    deadline = item["deadline"].isoformat() if item.get("deadline") else "-"
    if item.get("deadline_passed"):
        deadline += " (passed)"
    return {"item": item.get("item_id") or item.get("id"), "status": item.get("status") or "",
            "priority": f"{item['priority']:.2f}", "amount": f"${item['amount']:,.2f}", "kind": item["kind"],
            "reason": item.get("reason") or "", "claim": item.get("patient_control_number") or "-",
            "code": item.get("procedure_code") or "-", "action": item.get("action") or "-", "deadline": deadline,
            "assignee": item.get("assignee") or ""}


#: the worklist table's columns; to fit a terminal the priority goes first (the rows are already
#: in its order), then the code, then the reason and action are cut evenly (the CSV and
#: `worklist show` hold them whole)
WORKLIST_COLUMNS = [
    Column("item", "item"), Column("priority", "priority", ">", drop=9), Column("amount", "amount", ">"),
    Column("kind", "kind"), Column("reason", "reason", shrink=True), Column("claim", "claim"), Column("code", "code", drop=7),
    Column("action", "action", shrink=True), Column("deadline", "deadline"),
]


@click.group(invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--db", "db", metavar="URL", help="Worklist database (default: the database_url setting).")
@click.pass_context
def command(ctx: click.Context, db):
    """List and update worklist items (default: list the open items)."""
    if db:
        ctx.meta["reclaim.db"] = db
    if ctx.invoked_subcommand is None:
        ctx.invoke(list_items)


@command.command("list")
@click.option("--status", "status", multiple=True, help="new, in_progress, submitted, recovered, written_off (repeatable; default: open items).")
@click.option("--assignee", help="Only items assigned to this user.")
@click.option("--kind", help="denial, partial_denial, underpayment, patient_responsibility, recoupment, unmapped.")
@click.option("--payer", help="Payer id or name.")
@click.option("--action", help="reopening, redetermination, appeal, corrected_claim, ...")
@click.option("--limit", type=int, default=50, show_default=True)
@click.pass_context
def list_items(ctx, status=(), assignee=None, kind=None, payer=None, action=None, limit=50):
    """List items, highest priority first."""
    store = _store(ctx)
    statuses = list(status) or ["new", "in_progress", "submitted"]
    items = store.list(status=statuses, assignee=assignee, kind=kind, payer=payer, action=action, limit=limit)
    if not items:
        click.echo("No worklist items match.")
        return
    columns = [WORKLIST_COLUMNS[0], Column("status", "status", drop=6), *WORKLIST_COLUMNS[1:],
               Column("assignee", "assignee", drop=10)]
    for line in table([table_row(i) for i in items], columns, width(), rule=False):  # line 2 = first item
        click.echo(line)


@command.command("show")
@click.argument("item_id")
@click.pass_context
def show(ctx, item_id):
    """Everything about one item, with its history."""
    item = _store(ctx).get(item_id)
    data = item["data"]
    click.echo(f"Item {item['id']} — {item['kind']} {item['reason'] or ''}, ${item['amount']:,.2f} at stake, status {item['status']}"
               + (f", assigned to {item['assignee']}" if item["assignee"] else ""))
    for label, key in (("Claim (CLM01)", "patient_control_number"), ("Payer claim number", "payer_claim_control_number"),
                       ("Payer", "payer_name"), ("Service", "procedure_code"), ("Date of service", "service_date"),
                       ("Explanation", "explanation"), ("Official text", "official_text"), ("Remarks", "rarcs"),
                       ("Root cause", "root_cause"), ("Action", "action_text"), ("Deadline", "deadline"),
                       ("Deadline rule", "deadline_rule"), ("Odds of recovery", "odds"), ("Priority", "priority")):
        if data.get(key) not in (None, ""):
            click.echo(f"  {label:18} {data[key]}")
    click.echo("  History:")
    for h in item["history"]:
        change = h["new_value"] if h["field"] in ("created", "note") else f"{h['old_value']} -> {h['new_value']}"
        click.echo(f"    {h['at']:%Y-%m-%d %H:%M}  {h['actor'] or '-':12} {h['field']:9} {change}")


@command.command("assign")
@click.argument("item_id")
@click.argument("user")
@click.pass_context
def assign(ctx, item_id, user):
    """Assign an item to a user."""
    _store(ctx).assign(item_id, user)
    click.echo(f"{item_id} assigned to {user}")


@command.command("status")
@click.argument("item_id")
@click.argument("status", type=click.Choice(["new", "in_progress", "submitted", "recovered", "written_off"]))
@click.option("--amount", type=float, help="Recovered amount (status recovered; default the amount at stake).")
@click.option("--by", "actor", help="Who made the change (kept in the history).")
@click.pass_context
def set_status(ctx, item_id, status, amount, actor):
    """Move an item: new -> in_progress -> submitted -> recovered / written_off."""
    item = _store(ctx).set_status(item_id, status, actor=actor, recovered_amount=amount)
    click.echo(f"{item_id} is now {item['status']}")


@command.command("note")
@click.argument("item_id")
@click.argument("text")
@click.option("--by", "actor", help="Who wrote the note.")
@click.pass_context
def note(ctx, item_id, text, actor):
    """Add a note to an item's history."""
    _store(ctx).add_note(item_id, text, actor=actor)
    click.echo(f"note added to {item_id}")


@command.command("summary")
@click.pass_context
def summary(ctx):
    """Dollars at stake and recovered, by status and kind."""
    rows = _store(ctx).summary()
    click.echo(f"{'status':12} {'kind':22} {'items':>6} {'at stake':>13} {'recovered':>13}")
    for r in rows:
        click.echo(f"{r['status']:12} {r['kind']:22} {r['items']:>6} {'$' + format(r['amount'] or 0, ',.2f'):>13} "
                   f"{'$' + format(r['recovered'] or 0, ',.2f'):>13}")
