"""Inzage (the AVG's right of access): everything held on one client and who viewed or
changed it, as data and as a Markdown document."""

from __future__ import annotations

import re
from dataclasses import asdict

import nmi_desk.store.orm  # noqa: F401  # the ORM whole, one thread at a time (store/orm.py)

# isort: split

from sqlmodel import Session, col, select

from nmi_desk.core.clock import to_utc_naive
from nmi_desk.domain import audit
from nmi_desk.domain.clients.base import get_client
from nmi_desk.domain.clients.read import build_history
from nmi_desk.domain.context import Context
from nmi_desk.domain.reference.files import Reference
from nmi_desk.store.models import AuditEvent, Referral, Visit


def inzage(ctx: Context, uuid: str) -> dict:
    """Everything held on one client: the record, every visit and referral, and who viewed or
    changed any of them when. The export itself is audited."""
    engine, actor, now = ctx.engine, ctx.actor, ctx.now()

    with Session(engine) as session:
        client = get_client(session, uuid)
        hist = build_history(session, client)
        visit_uuids = [v.uuid for v in hist.visits]
        ref_uuids = [r.uuid for v in hist.visits for r in v.referrals]
        # Tombstoned visits of the client are held too (as tombstones): say so.
        deleted = session.exec(
            select(Visit.uuid).where(Visit.client_uuid == client.uuid, col(Visit.deleted).is_(True))
        ).all()
        deleted_refs = session.exec(
            select(Referral.uuid)
            .join(Visit, col(Visit.id) == col(Referral.visit_id))
            .where(Visit.client_uuid == client.uuid, col(Referral.deleted).is_(True))
        ).all()
        events = session.exec(
            select(AuditEvent)
            .where(
                col(AuditEvent.record_uuid).in_(
                    [client.uuid, *visit_uuids, *ref_uuids, *deleted, *deleted_refs]
                )
            )
            .order_by(col(AuditEvent.at), col(AuditEvent.id))
        ).all()
        trail = [
            {
                "at": e.at.isoformat(sep=" ", timespec="seconds"),
                "consultant": e.consultant,
                "action": e.action,
                "record": e.table_name,
                "record_uuid": e.record_uuid,
                "device": e.device_id,
            }
            for e in events
        ]
        audit.record(session, actor, "export", "client", client.uuid, now, "inzage")
        session.commit()
    return {
        "client": asdict(hist.client),
        "visits": [asdict(v) for v in hist.visits],
        "deleted_visits": list(deleted),
        "deleted_referrals": list(deleted_refs),
        "audit": trail,
        "made_at": to_utc_naive(now).isoformat(sep=" ", timespec="seconds") + " UTC",
    }


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_INLINE = re.compile(r"([\\`*_\[\]<>|])")
_BLOCK_START = re.compile(r"^(\s*)([-+*>#=~]|\d+[.)])")


def md(value) -> str:
    """A stored value as Markdown text that cannot change the document's structure: control
    characters (escape codes, bidi overrides) removed, Markdown's inline marks escaped, and
    every further line of a multi-line value indented under its item with any heading, list
    or quote mark at its start escaped, so a note can never forge a heading or an audit line."""
    text = _CONTROL.sub("", str(value)).replace("\r\n", "\n").replace("\r", "\n")
    text = text.replace("\t", " ")
    lines = [_BLOCK_START.sub(r"\1\\\2", _INLINE.sub(r"\\\1", line)) for line in text.split("\n")]
    return "\n  ".join(lines)


def inzage_text(data: dict, tr, ref: Reference) -> str:
    """The inzage as a readable document (Markdown) in the consultant's language, with the
    names of `ref` (the desk's reference in use)."""

    lang = tr.lang
    topics, orgs = ref.by_code("topics"), ref.by_code("organisations")
    locations, countries = ref.by_code("locations"), ref.by_code("countries")
    languages = {e.code: e for e in ref.lists["language"]}
    outcomes = {e.code: e for e in ref.lists["outcome"]}
    statuses = {e.code: e for e in ref.lists["referral_status"]}

    def label(table, code):
        if not code:
            return "—"
        entry = table.get(code)
        return md(entry.label(lang) if entry else code)

    c = data["client"]
    yes, no = tr("clients.yes"), tr("clients.no")
    lines = [
        f"# {tr('clients.inzage_title')}",
        "",
        tr("clients.inzage_intro", made=data["made_at"]),
        "",
        f"## {tr('clients.section_client')}",
        "",
        f"- {tr('clients.name')}: {md(c['name'] or '—')}",
        f"- {tr('clients.birth_year')}: {md(c['birth_year'] or '—')}",
        f"- {tr('clients.origin_country')}: {label(countries, c['origin_country'])}",
        f"- {tr('clients.destination_country')}: {label(countries, c['destination_country'])}",
        f"- {tr('clients.language')}: {label(languages, c['language'])}",
        f"- {tr('clients.partner')}: {yes if c['partner_coremigrating'] else no}",
        f"- {tr('clients.children')}: {md(c['children_coremigrating'] or 0)}",
        f"- {tr('clients.record_id')}: {md(c['uuid'])} (rev. {md(c['revision'])})",
        "",
        f"## {tr('clients.section_visits', n=len(data['visits']))}",
    ]
    for v in data["visits"]:
        lines += [
            "",
            f"### {md(v['day'])} {md(v['time'])} · {label(locations, v['location_code'])}",
            "",
            f"- {tr('clients.consultant')}: {md(v['consultant'])}",
            f"- {tr('clients.topics')}: "
            + (", ".join(label(topics, t) for t in v["topics"]) or "—"),
            f"- {tr('clients.outcome')}: {label(outcomes, v['outcome'])}",
        ]
        if v["notes"]:
            lines.append(f"- {tr('clients.notes')}: {md(v['notes'])}")
        for r in v["referrals"]:
            extra = " · ".join(md(x) for x in (r["reason"], r["note"], r["outcome_note"]) if x)
            lines.append(
                f"- {tr('clients.referral')}: {label(orgs, r['organisation_code'])} · "
                + label(statuses, r["status"])
                + (
                    f" · {tr('clients.follow_up_on', date=md(r['follow_up_on']))}"
                    if r["follow_up_on"]
                    else ""
                )
                + (f" · {extra}" if extra else "")
            )
    lines += ["", f"## {tr('clients.section_audit')}", ""]
    for e in data["audit"]:
        lines.append(
            f"- {md(e['at'])} UTC · {md(e['consultant'])} · {md(e['action'])} · {md(e['record'])}"
        )
    return "\n".join(lines) + "\n"
