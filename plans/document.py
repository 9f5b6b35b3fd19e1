"""A plan as a document: sections of labelled entries, in the words the person sees.
The print page, the PDF and the side-by-side comparison of two versions all use this
one structure, so they never disagree about what a plan says.

Each entry has a ``key`` that stays the same across versions (an outcome, item, risk or
circle member keeps its key when a new version copies it), so a comparison can tell a
changed entry from one removed and another added."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any

from budgets.ledger import format_pence
from plans.models import LifeArea, SupportItem, SupportPlan


@dataclass(frozen=True)
class Entry:
    key: str
    title: str
    lines: tuple[tuple[str, str], ...]  # (label, value)


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    entries: tuple[Entry, ...]


@dataclass(frozen=True)
class Document:
    title: str
    subtitle: str
    sections: tuple[Section, ...]


def _date(value: Any) -> str:
    return f"{value:%-d %B %Y}" if value else "Not set"


def _times(count: int) -> str:
    return "time" if count == 1 else "times"


def _item_lines(item: SupportItem) -> tuple[tuple[str, str], ...]:
    lines = [
        ("Who provides it", item.provider_name or item.get_provider_kind_display()),
        ("Kind of provider", item.get_provider_kind_display()),
        (
            "How often",
            f"{item.times} {'time' if item.times == 1 else 'times'} {item.get_per_display()}",
        ),
        ("Cost each time", format_pence(item.unit_cost_pence)),
        ("Cost a year", format_pence(item.yearly_cost_pence)),
        ("Paid from", item.get_stream_display() if item.stream else "Free"),
        ("Outcomes it serves", "; ".join(o.goal for o in item.outcomes.all()) or "None"),
    ]
    if item.carer is not None:
        lines.append(("For the carer", f"{item.carer.name}: {item.get_carer_support_display()}"))
    return tuple(lines)


def plan_document(plan: SupportPlan) -> Document:
    areas = dict(LifeArea.choices)
    outcomes = tuple(
        Entry(
            key=str(o.key),
            title=o.goal,
            lines=(
                ("How we will know", o.how_we_know or "Not said"),
                ("By when", _date(o.by_when)),
                ("Areas of life", ", ".join(areas.get(a, a) for a in o.life_areas) or "None"),
            ),
        )
        for o in plan.outcomes.all()
    )
    items = tuple(
        Entry(key=str(i.key), title=i.description, lines=_item_lines(i))
        for i in plan.items.select_related("carer").prefetch_related("outcomes")
    )
    money = tuple(
        Entry(
            key=m.stream,
            title=m.get_stream_display(),
            lines=(
                ("How it is managed", m.get_management_option_display()),
                ("Managed by", m.managed_by or "Not said"),
            ),
        )
        for m in plan.money.all()
    )
    risks = tuple(
        Entry(
            key=str(r.key),
            title=r.description,
            lines=(
                ("How it is managed", r.how_managed),
                ("Who agreed", r.agreed_by),
                ("A risk the person chooses to take", "Yes" if r.positive_risk else "No"),
            ),
        )
        for r in plan.risks.all()
    )
    circle = tuple(
        Entry(
            key=str(c.key),
            title=c.name,
            lines=(
                ("Relationship", c.get_relationship_display()),
                ("Their role", c.role or "Not said"),
                ("Named back-up", "Yes" if c.is_backup else "No"),
                ("Phone", c.phone or "Not given"),
                ("Email", c.email or "Not given"),
            ),
        )
        for c in plan.circle.all()
    )
    summary = Entry(
        key="summary",
        title="The plan",
        lines=(
            ("Version", str(plan.version)),
            ("State", plan.get_state_display()),
            ("Cost a year", format_pence(plan.yearly_cost_pence)),
            ("First review", _date(plan.first_review_on)),
            ("Reviews at least every", f"{plan.review_every_months} months"),
            ("Next review", _date(plan.next_review_on)),
        ),
    )
    return Document(
        title=f"Support plan for {plan.holder.name}",
        subtitle=f"Version {plan.version}: {plan.get_state_display().lower()}",
        sections=(
            Section("summary", "Summary", (summary,)),
            Section(
                "what_matters",
                "What matters to me",
                (Entry("what_matters", "In my own words", (("", plan.what_matters),)),),
            ),
            Section("outcomes", "What I want to achieve", outcomes),
            Section("items", "My support", items),
            Section("money", "How the money is managed", money),
            Section("risks", "Risks and how they are managed", risks),
            Section(
                "contingency",
                "If things go wrong",
                (
                    Entry(
                        "contingency",
                        "Contingency and emergency back-up",
                        (
                            ("If my support fails", plan.if_support_fails or "Not said"),
                            (
                                "If my family carer has an emergency",
                                plan.carer_emergency or "Not said",
                            ),
                        ),
                    ),
                ),
            ),
            Section("circle", "My circle of support", circle),
        ),
    )


# Comparing two versions ---------------------------------------------------------------------


@dataclass
class LineChange:
    label: str
    old: str
    new: str

    @property
    def changed(self) -> bool:
        return self.old != self.new

    def words(self) -> list[tuple[str, str]]:
        """The new value as (kind, text) runs: "same", "added" or "removed" words, so a
        page can highlight exactly what changed."""
        old, new = self.old.split(), self.new.split()
        runs: list[tuple[str, str]] = []
        matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
        for op, a1, a2, b1, b2 in matcher.get_opcodes():
            if op == "equal":
                runs.append(("same", " ".join(new[b1:b2])))
                continue
            if a2 > a1:
                runs.append(("removed", " ".join(old[a1:a2])))
            if b2 > b1:
                runs.append(("added", " ".join(new[b1:b2])))
        return runs


@dataclass
class EntryChange:
    key: str
    title: str
    status: str  # "same", "changed", "added", "removed"
    old_title: str = ""
    lines: list[LineChange] = field(default_factory=list)


@dataclass
class SectionChange:
    key: str
    title: str
    entries: list[EntryChange]

    @property
    def changed(self) -> bool:
        return any(e.status != "same" for e in self.entries)


def compare(old: Document, new: Document) -> list[SectionChange]:
    """What changed from ``old`` to ``new``, section by section, entry by entry."""
    result = []
    old_sections = {s.key: s for s in old.sections}
    for section in new.sections:
        before = (
            {e.key: e for e in old_sections[section.key].entries}
            if section.key in old_sections
            else {}
        )
        entries: list[EntryChange] = []
        for entry in section.entries:
            previous = before.pop(entry.key, None)
            if previous is None:
                entries.append(
                    EntryChange(
                        entry.key,
                        entry.title,
                        "added",
                        lines=[LineChange(label, "", value) for label, value in entry.lines],
                    )
                )
                continue
            old_lines = dict(previous.lines)
            lines = [
                LineChange(label, old_lines.get(label, ""), value) for label, value in entry.lines
            ]
            changed = previous.title != entry.title or any(line.changed for line in lines)
            entries.append(
                EntryChange(
                    entry.key,
                    entry.title,
                    "changed" if changed else "same",
                    old_title=previous.title,
                    lines=lines,
                )
            )
        for entry in before.values():
            entries.append(
                EntryChange(
                    entry.key,
                    entry.title,
                    "removed",
                    lines=[LineChange(label, value, "") for label, value in entry.lines],
                )
            )
        result.append(SectionChange(section.key, section.title, entries))
    return result
