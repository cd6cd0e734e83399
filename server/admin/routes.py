"""Imports over HTTP (thin: authorise, read the upload, call, render)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated

from litestar import Response, Router, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.params import MultipartBody, QueryParameter
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts import guard
from server.accounts.scope import MANAGERS, Actor
from server.admin import household_import
from server.errors import Conflict, DomainError
from server.sites.models import Estate

MAX_UPLOAD_BYTES = 32 * 1024 * 1024  # a 100,000-row CSV with long names stays well below this


@dataclass
class ImportUpload:
    """The form: one file part named ``file``. Declared as a form, not as a bare ``UploadFile``: for a
    bare one Litestar looks for the first file part itself and fails with StopIteration (a 500) when
    the body has none."""

    file: UploadFile | None = None


async def _estate(session: AsyncSession, actor: Actor, estate_id: uuid.UUID | None) -> uuid.UUID:
    actor.require_role(*MANAGERS)
    target = estate_id or actor.estate_id
    if target is None:
        raise DomainError("estate_required", "name the estate to import into (?estate_id=…)", status=422)
    await guard.in_scope(session, actor, Estate, target)
    return target


@post("/households", request_max_body_size=MAX_UPLOAD_BYTES)
async def import_households(
    data: MultipartBody[ImportUpload],
    actor: NamedDependency[Actor],
    db: NamedDependency[AsyncSession],
    tx: NamedDependency[AsyncSession],
    estate_id: Annotated[uuid.UUID | None, QueryParameter(name="estate_id")] = None,
    dry_run: Annotated[bool, QueryParameter(name="dry_run")] = False,
) -> Response:
    """Upload one CSV or XLSX file (multipart field ``file``). All rows are imported, or none.

    The file is read before the write transaction starts: on SQLite that transaction holds the
    database's write lock, and parsing a large XLSX takes seconds.
    """
    target = await _estate(db, actor, estate_id)
    if not isinstance(data.file, UploadFile):
        raise DomainError("file_required", "请选择要导入的文件（表单字段 file）", status=400)
    table = await household_import.parse_upload(await data.file.read())
    session = db if dry_run else tx
    plan = await household_import.plan_import(session, target, table)
    summary = {"rows": plan.rows, "buildings_created": len(plan.buildings), "units_created": len(plan.units)}
    if dry_run:
        return Response(
            {
                "dry_run": True,
                "valid": plan.error_count == 0,
                "households": len(plan.households),
                **summary,
                **plan.report(),
            },
            status_code=200,
        )
    if plan.error_count:
        raise DomainError(
            "import_invalid",
            f"{plan.error_count} 处错误，未导入任何数据；请修改后重新上传",
            status=422,
            details=plan.report(),
        )
    try:
        await household_import.write(tx, plan)
        await tx.commit()
    except IntegrityError:
        await tx.rollback()
        raise Conflict("import_conflict", "另一项导入同时写入了相同的楼栋或房号，请重新上传") from None
    return Response({"dry_run": False, "imported": len(plan.households), **summary}, status_code=201)


admin_router = Router(path="/api/admin/import", route_handlers=[import_households], tags=["admin"])
