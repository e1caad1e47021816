"""Priority groups (đối tượng ưu tiên): who may go first, named so the ticket records which
group and the reports count each. The law's five groups are every office's default; an office
file may rename them, add its own or give a group its own place in the calling order
(`[[priority_groups]]`, docs in README "Priority groups").

Calling order (server/engine/queue.py): priority tickets before normal ones, but never more
than the office's `priority_cap` in a row while a normal ticket waits; among priority tickets,
a group with a lower `order` first, and the same order by arrival."""
from __future__ import annotations

from dataclasses import dataclass

from server.engine.officefile import CODE, Checker

ORDER_MIN, ORDER_MAX, ORDER_DEFAULT = 1, 9, 5


@dataclass(frozen=True)
class Group:
    code: str
    name: str
    name_en: str
    order: int = ORDER_DEFAULT  # lower: called before other priority groups

    def as_dict(self) -> dict:
        return {"code": self.code, "name": self.name, "name_en": self.name_en, "order": self.order}


# Nghị định / Luật: người cao tuổi, người khuyết tật, phụ nữ có thai, người nuôi con nhỏ dưới
# 6 tuổi, người có công với cách mạng. `elderly` is the group the ID card's age grants.
DEFAULT_GROUPS = (
    Group("elderly", "Người cao tuổi", "Elderly people"),
    Group("disabled", "Người khuyết tật", "People with disabilities"),
    Group("pregnant", "Phụ nữ có thai", "Pregnant women"),
    Group("young_child", "Người nuôi con nhỏ dưới 6 tuổi", "Parents of a child under 6"),
    Group("merit", "Người có công với cách mạng", "People with meritorious service"),
)
ELDERLY = "elderly"
GROUPS_MAX = 12


def groups_of(stored: list | None) -> tuple[Group, ...]:
    """The office's groups from its row (None: the defaults)."""
    if not stored:
        return DEFAULT_GROUPS
    return tuple(Group(**g) for g in stored)


def find(groups: tuple[Group, ...], code: str | None) -> Group | None:
    return next((g for g in groups if g.code == code), None)


def check_groups(c: Checker, node) -> list[dict] | None:
    """`[[priority_groups]]`: None when absent (the defaults). Codes unique; `elderly` must
    stay (the ID card's age grants it), though it may be renamed."""
    if node is None:
        return None
    if not isinstance(node, list) or not node or len(node) > GROUPS_MAX:
        c.fail("priority_groups", "bad_priority_groups", most=GROUPS_MAX)
        return None
    result, seen = [], set()
    for i, g in enumerate(node):
        where = f"priority_groups[{i}]"
        if not isinstance(g, dict):
            c.fail(where, "not_tables", name="priority_groups")
            continue
        code = c.text(g, "code", where, max_len=16)
        if code and not CODE.match(code):
            c.fail(f"{where}.code", "bad_code")
        elif code in seen:
            c.fail(f"{where}.code", "duplicate", value=code)
        seen.add(code)
        name = c.text(g, "name", where, max_len=80) or ""
        name_en = c.text(g, "name_en", where, required=False, max_len=80) or name
        order = c.integer(g, "order", where, ORDER_DEFAULT, ORDER_MIN, ORDER_MAX)
        result.append(Group(code or "", name, name_en, order).as_dict())
    if seen and ELDERLY not in seen:
        c.fail("priority_groups", "elderly_group_needed")
    return result


def export_groups(stored: list | None) -> list[dict] | None:
    return [Group(**g).as_dict() for g in stored] if stored else None
