"""List, get, create, update and (soft-)delete routes, generated for each resource.

(No ``from __future__ import annotations`` here: FastAPI must see the per-resource model
classes that the annotations below close over, not their names.)

Handlers are thin: validate (pydantic), call :mod:`rms.repo.crud` inside one unit of
work, and convert rows to response models before the session closes. Read-only resources
get the two read routes; resources without soft delete and version (the CUSIP cache) get
no ``include_deleted`` or ``version`` parameters, and their delete removes the row.
"""

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, status
from pydantic import BaseModel
from pydantic_core import to_json
from sqlalchemy.orm import Session

from rms.api.deps import app_settings, database, reference_cache
from rms.api.schemas import FILTERS, PageOut
from rms.db.database import Database
from rms.errors import InvalidInputError, NotFoundError
from rms.http.cache import ReferenceCache
from rms.http.models import MODELS, ReadOnlyModels, ResourceModels
from rms.http.problems import problem_responses
from rms.http.values import NO_NUL_PATTERN
from rms.repo import crud
from rms.repo.resources import RESOURCES, ResourceSpec
from rms.settings import Settings

__all__ = ["resource_routers"]

CacheDep = Annotated[ReferenceCache, Depends(reference_cache)]
SettingsDep = Annotated[Settings, Depends(app_settings)]
KeyPath = Annotated[str, Path(min_length=1, max_length=200, pattern=NO_NUL_PATTERN)]


def _router(
    spec: ResourceSpec, models: ResourceModels | ReadOnlyModels, filters_model: Any
) -> APIRouter:
    router = APIRouter(
        prefix=f"/api/{spec.name}",
        tags=[spec.name],
        responses=problem_responses(400, 404, 409, 422, 503),
    )
    read_model: Any = models.read

    def out(row: Any) -> BaseModel:
        return read_model.model_validate(row)  # type: ignore[no-any-return]

    def cached(cache: ReferenceCache, key: Any, load: Any) -> Any:
        """Reference data is served from memory (see rms.http.cache); the rest is not."""
        return cache.get_or_load(spec.name, key, load) if spec.reference_data else load()

    @router.get("", response_model=PageOut[read_model], summary=f"List {spec.name}")
    def list_rows(
        query: Annotated[filters_model, Query()],
        db: Annotated[Database, Depends(database)],
        cache: CacheDep,
    ) -> dict[str, Any]:
        def work(session: Session) -> dict[str, Any]:
            page = crud.list_rows(
                session,
                spec,
                filters=query.conditions(),
                include_deleted=getattr(query, "include_deleted", False),
                limit=query.limit,
                offset=query.offset,
            )
            return {
                "items": [out(row) for row in page.items],
                "total": page.total,
                "limit": page.limit,
                "offset": page.offset,
            }

        return cached(cache, ("list", query.model_dump_json()), lambda: db.run(work))  # type: ignore[no-any-return]

    def get_one(db: Database, cache: ReferenceCache, key: str, include_deleted: bool) -> BaseModel:
        return cached(  # type: ignore[no-any-return]
            cache,
            ("get", key, include_deleted),
            lambda: db.run(
                lambda s: out(crud.get_row(s, spec, key, include_deleted=include_deleted))
            ),
        )

    if spec.soft_delete:

        @router.get("/{key}", response_model=read_model, summary=f"Get one {spec.label}")
        def get_row(
            key: KeyPath,
            db: Annotated[Database, Depends(database)],
            cache: CacheDep,
            include_deleted: bool = False,
        ) -> BaseModel:
            return get_one(db, cache, key, include_deleted)

    else:

        @router.get("/{key}", response_model=read_model, summary=f"Get one {spec.label}")
        def get_plain_row(
            key: KeyPath, db: Annotated[Database, Depends(database)], cache: CacheDep
        ) -> BaseModel:
            return get_one(db, cache, key, False)

    if isinstance(models, ResourceModels) and spec.writable:
        _write_routes(router, spec, models, out)
    return router


def _write_routes(router: APIRouter, spec: ResourceSpec, models: ResourceModels, out: Any) -> None:
    read_model: Any = models.read
    create_model: Any = models.create
    update_model: Any = models.update

    @router.post(
        "",
        response_model=read_model,
        status_code=status.HTTP_201_CREATED,
        summary=f"Create a {spec.label}",
    )
    def create_row(
        body: create_model,
        db: Annotated[Database, Depends(database)],
        cache: CacheDep,
        settings: SettingsDep,
    ) -> BaseModel:
        values = body.model_dump()
        _check_value_size(spec, values, settings.api_max_setting_value_bytes)
        if values.get(spec.key) is None:
            values[spec.key] = crud.new_id()  # before the first attempt: retries reuse it
        with cache.writing(spec.name):
            created: BaseModel = db.run(lambda s: out(crud.create_row(s, spec, values)), write=True)
        return created

    @router.patch("/{key}", response_model=read_model, summary=f"Update a {spec.label}")
    def update_row(
        key: KeyPath,
        body: update_model,
        db: Annotated[Database, Depends(database)],
        cache: CacheDep,
        settings: SettingsDep,
    ) -> BaseModel:
        changes = body.model_dump(exclude_unset=True)
        _check_value_size(spec, changes, settings.api_max_setting_value_bytes)
        version = changes.pop("version", None)
        with cache.writing(spec.name):
            updated: BaseModel = db.run(
                lambda s: out(crud.update_row(s, spec, key, version, changes)), write=True
            )
        return updated

    if not spec.soft_delete:

        @router.delete("/{key}", response_model=read_model, summary=f"Delete a {spec.label}")
        def hard_delete_row(
            key: KeyPath, db: Annotated[Database, Depends(database)], cache: CacheDep
        ) -> BaseModel:
            with cache.writing(spec.name):
                return _delete_once(db, lambda s: out(crud.delete_row(s, spec, key, None)))

        return

    @router.delete("/{key}", response_model=read_model, summary=f"Soft-delete a {spec.label}")
    def delete_row(
        key: KeyPath,
        db: Annotated[Database, Depends(database)],
        cache: CacheDep,
        version: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
    ) -> BaseModel:
        with cache.writing(spec.name):
            deleted: BaseModel = db.run(
                lambda s: out(crud.delete_row(s, spec, key, version)), write=True
            )
        return deleted


def _check_value_size(spec: ResourceSpec, values: dict[str, Any], limit: int) -> None:
    """A setting's value is kept whole in memory by the reference cache: bound its size."""
    if spec.name != "settings" or "value" not in values:
        return
    size = len(to_json(values["value"]))
    if size > limit:
        raise InvalidInputError(
            f"value is {size} bytes of JSON; a setting's value may have at most {limit} "
            "(API_MAX_SETTING_VALUE_BYTES)",
            field="value",
        )


def _delete_once(db: Database, delete: Callable[[Session], BaseModel]) -> BaseModel:
    """A hard delete, safe to replay: when an attempt removed the row but its COMMIT was
    not acknowledged, the retry finds no row; the row the first attempt saw is the answer.
    """
    seen: list[BaseModel] = []

    def work(session: Session) -> BaseModel:
        try:
            result: BaseModel = delete(session)
        except NotFoundError:
            if seen:
                return seen[0]
            raise
        seen[:] = [result]
        return result

    return db.run(work, write=True)


def resource_routers() -> list[APIRouter]:
    """One router per resource of :data:`rms.repo.resources.RESOURCES`."""
    return [_router(spec, MODELS[name], FILTERS[name]) for name, spec in RESOURCES.items()]
