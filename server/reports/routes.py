"""The analysis report over HTTP (thin): JSON, printable HTML, XLSX and PDF of the same figures; the
orders behind any figure; the estate's response-speed baseline period."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Literal
from urllib.parse import quote

import msgspec
from litestar import Response, Router, get, put
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody, QueryParameter
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts.models import Role
from server.accounts.scope import Actor
from server.board.summaries import summaries
from server.errors import DomainError, NotFound
from server.orders import kpi
from server.orders.models import Category, Channel, Kind, Order
from server.reports import analysis, pdf, render, xlsx
from server.sites.models import Estate
from server.web import dates
from server.web.context import AppContext

Q = QueryParameter
Period = Literal["month", "quarter", "year"]
Lang = Literal["zh", "en"]
PRIVATE = {"Cache-Control": "no-store"}


def _period(period: str, year: int | None, number: int | None, ctx: AppContext) -> tuple[int, int]:
    today = ctx.clock.now().astimezone(kpi.CHINA).date()
    year = year or today.year
    if number is None:
        number = today.month if period == "month" else (today.month - 1) // 3 + 1 if period == "quarter" else 1
    top = {"month": 12, "quarter": 4, "year": 1}[period]
    if not 1 <= number <= top:
        raise DomainError(
            "validation_error",
            f"number: must lie between 1 and {top} for a {period}",
            status=400,
            details={"errors": [{"key": "number", "message": f"1 … {top}"}]},
        )
    return year, number


YEAR = Q(name="year", ge=2000, le=2100)
NUMBER = Q(name="number", ge=1, le=12, description="month 1–12 or quarter 1–4; ignored for a year")


async def provide_report(
    actor: NamedDependency[Actor],
    db: NamedDependency[AsyncSession],
    ctx: NamedDependency[AppContext],
    estate_id: Annotated[uuid.UUID | None, Q(name="estate_id", description="absent: the company")] = None,
    period: Annotated[Period, Q(name="period")] = "month",
    year: Annotated[int | None, YEAR] = None,
    number: Annotated[int | None, NUMBER] = None,
) -> dict:
    """The query every form of the report shares (who, which estate, which period), resolved once."""
    y, n = _period(period, year, number, ctx)
    return await analysis.report(db, actor, estate_id, period, y, n, ctx.clock.now())


REPORT = {"report": Provide(provide_report)}


@get("/analysis", dependencies=REPORT)
async def analysis_json(report: NamedDependency[dict]) -> dict:
    return report


def _filename(r: dict, ext: str) -> str:
    name = f"{r['estates'][0]['name'] if r['scope'] == 'estate' else '公司'}-{r['label']}-服务分析报告.{ext}"
    return f"attachment; filename=\"report.{ext}\"; filename*=UTF-8''{quote(name)}"


@get("/analysis.html", media_type="text/html", dependencies=REPORT)
async def analysis_html(report: NamedDependency[dict], lang: Annotated[Lang, Q(name="lang")] = "zh") -> Response:
    headers = {**PRIVATE, "Content-Security-Policy": render.REPORT_CSP}
    return Response(render.page(report, lang), media_type="text/html; charset=utf-8", headers=headers)


@get("/analysis.xlsx", dependencies=REPORT)
async def analysis_xlsx(report: NamedDependency[dict], lang: Annotated[Lang, Q(name="lang")] = "zh") -> Response:
    return Response(
        xlsx.workbook(report, lang),
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={**PRIVATE, "Content-Disposition": _filename(report, "xlsx")},
    )


@get("/analysis.pdf", dependencies=REPORT)
async def analysis_pdf(report: NamedDependency[dict], lang: Annotated[Lang, Q(name="lang")] = "zh") -> Response:
    data = await pdf.to_pdf(render.page(report, lang))
    return Response(
        data, media_type="application/pdf", headers={**PRIVATE, "Content-Disposition": _filename(report, "pdf")}
    )


def _uuids(text: str | None) -> list[uuid.UUID] | None:
    if not text:
        return None
    try:
        return [uuid.UUID(p) for p in text.split(",")[:200]]
    except ValueError:
        raise DomainError(
            "validation_error",
            "order_ids: comma-separated order ids",
            status=400,
            details={"errors": [{"key": "order_ids", "message": "uuid,uuid,…"}]},
        ) from None


@get("/orders")
async def report_orders(
    actor: NamedDependency[Actor],
    db: NamedDependency[AsyncSession],
    ctx: NamedDependency[AppContext],
    estate_id: Annotated[uuid.UUID | None, Q(name="estate_id")] = None,
    period: Annotated[Period, Q(name="period")] = "month",
    year: Annotated[int | None, YEAR] = None,
    number: Annotated[int | None, NUMBER] = None,
    kind: Annotated[Kind | None, Q(name="kind")] = None,
    category: Annotated[Category | None, Q(name="category")] = None,
    channel: Annotated[Channel | None, Q(name="channel")] = None,
    department: Annotated[str | None, Q(name="department", max_length=20)] = None,
    weekday: Annotated[int | None, Q(name="weekday", ge=0, le=6, description="0 = Monday")] = None,
    hour: Annotated[int | None, Q(name="hour", ge=0, le=23)] = None,
    shift: Annotated[Literal["office", "after_hours"] | None, Q(name="shift")] = None,
    assignee_id: Annotated[uuid.UUID | None, Q(name="assignee_id")] = None,
    order_ids: Annotated[str | None, Q(name="order_ids", max_length=8000)] = None,
    late: Annotated[int | None, Q(name="late", ge=0, le=1)] = None,
    limit: Annotated[int, Q(ge=1, le=2000)] = 500,
) -> dict:
    """The orders behind a figure of the report (the figure's link carries these parameters)."""
    estates = await analysis.estates_for(db, actor, estate_id)
    y, n = _period(period, year, number, ctx)
    start, end = analysis.bounds(period, y, n)
    where = analysis.drill_where(
        [e.id for e in estates],
        start,
        end,
        db.bind.dialect.name,
        kind=kind,
        category=category,
        channel=channel,
        department=department,
        weekday=weekday,
        hour=hour,
        shift=shift,
        assignee_id=assignee_id,
        order_ids=_uuids(order_ids),
        late=bool(late),
    )
    total = await db.scalar(select(func.count()).select_from(Order).where(where)) or 0
    rows = (await db.scalars(select(Order).where(where).order_by(Order.created_at.desc(), Order.id).limit(limit))).all()
    return {"count": total, "orders": await summaries(db, list(rows), ctx.clock.now()), "truncated": total > len(rows)}


class Baseline(msgspec.Struct, forbid_unknown_fields=True):
    from_day: date = msgspec.field(name="from")
    to_day: date = msgspec.field(name="to")


@put("/estates/{estate_id:uuid}/response-baseline", status_code=200)
async def set_baseline(
    estate_id: FromPath[uuid.UUID],
    data: JSONBody[Baseline],
    actor: NamedDependency[Actor],
    tx: NamedDependency[AsyncSession],
    ctx: NamedDependency[AppContext],
) -> dict:
    """The period (China-time days, inclusive) the estate's response speed is compared with."""
    actor.require_role(Role.admin, Role.supervisor)
    estate = await tx.get(Estate, estate_id)
    if estate is None or estate.company_id != actor.company_id or not actor.sees_estate(estate.id):
        raise NotFound("estate")
    dates.day(data.from_day, "from")
    dates.day(data.to_day, "to")
    today = ctx.clock.now().astimezone(kpi.CHINA).date()
    if data.from_day > data.to_day or data.to_day > today:
        raise DomainError(
            "invalid_baseline",
            "基准期的开始日期不能晚于结束日期，结束日期不能晚于今天",
            status=422,
            details={"errors": [{"key": "to", "message": "from ≤ to ≤ today"}]},
        )
    estate.response_baseline_from, estate.response_baseline_to = data.from_day, data.to_day
    await tx.commit()
    return {"estate_id": str(estate.id), "from": data.from_day.isoformat(), "to": data.to_day.isoformat()}


reports_router = Router(
    path="/api/reports",
    route_handlers=[analysis_json, analysis_html, analysis_xlsx, analysis_pdf, report_orders],
    tags=["reports"],
)
baseline_router = Router(path="/api", route_handlers=[set_baseline], tags=["reports"])
