"""One page of a list with the true count: no list view cuts its rows silently.

``paginate(query, request.args)`` counts the query's rows, clamps the asked page into range (an id
beyond 64 bits, ``-3`` or ``abc`` give the first or last page, never an error) and fetches that page.
``templates/macros/pager.html`` shows "N rows · page p/n" and the links.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from app.core.db import db


@dataclass
class Page:
    rows: list
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def page_number(args, name: str = "page") -> int:
    raw = args.get(name, "")
    try:
        n = int(str(raw).strip() or "1")
    except ValueError:
        return 1
    return max(1, min(n, 10 ** 9))


def paginate(query, args, per_page: int = 50, name: str = "page") -> Page:
    """``query``: an ordered ``select`` of one entity."""
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    page = min(page_number(args, name), max(1, -(-total // per_page)))
    rows = list(db.session.scalars(query.offset((page - 1) * per_page).limit(per_page)))
    return Page(rows, total, page, per_page)
