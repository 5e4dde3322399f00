"""List, get, create, update and soft-delete routes, generated for each resource.

(No ``from __future__ import annotations`` here: FastAPI must see the per-resource model
classes that the annotations below close over, not their names.)

Handlers are thin: validate (pydantic), call :mod:`rms.repo.crud` inside one unit of
work, and convert rows to response models before the session closes.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, status
from pydantic import BaseModel
from sqlalchemy.orm import Session

from rms.api.cache import TTLCache
from rms.api.deps import database, reference_cache
from rms.api.schemas import FILTERS, MODELS, PageOut, ResourceModels, problem_responses
from rms.db.database import Database
from rms.repo import crud
from rms.repo.resources import RESOURCES, ResourceSpec

__all__ = ["resource_routers"]

CacheDep = Annotated[TTLCache, Depends(reference_cache)]
KeyPath = Annotated[str, Path(min_length=1, max_length=200, pattern=r"^[^\x00]+$")]


def _router(spec: ResourceSpec, models: ResourceModels, filters_model: Any) -> APIRouter:
    router = APIRouter(
        prefix=f"/api/{spec.name}",
        tags=[spec.name],
        responses=problem_responses(400, 404, 409, 422, 503),
    )
    read_model: Any = models.read
    create_model: Any = models.create
    update_model: Any = models.update

    def out(row: Any) -> BaseModel:
        return read_model.model_validate(row)  # type: ignore[no-any-return]

    def cached(cache: TTLCache, key: Any, load: Any) -> Any:
        """Reference data is served from memory (see rms.api.cache); the rest is not."""
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
                include_deleted=query.include_deleted,
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

    @router.get("/{key}", response_model=read_model, summary=f"Get one {spec.label}")
    def get_row(
        key: KeyPath,
        db: Annotated[Database, Depends(database)],
        cache: CacheDep,
        include_deleted: bool = False,
    ) -> BaseModel:
        return cached(  # type: ignore[no-any-return]
            cache,
            ("get", key, include_deleted),
            lambda: db.run(
                lambda s: out(crud.get_row(s, spec, key, include_deleted=include_deleted))
            ),
        )

    @router.post(
        "",
        response_model=read_model,
        status_code=status.HTTP_201_CREATED,
        summary=f"Create a {spec.label}",
    )
    def create_row(
        body: create_model, db: Annotated[Database, Depends(database)], cache: CacheDep
    ) -> BaseModel:
        cache.invalidate(spec.name)
        values = body.model_dump()
        if values.get(spec.key) is None:
            values[spec.key] = crud.new_id()  # before the first attempt: retries reuse it
        return db.run(lambda s: out(crud.create_row(s, spec, values)))

    @router.patch("/{key}", response_model=read_model, summary=f"Update a {spec.label}")
    def update_row(
        key: KeyPath,
        body: update_model,
        db: Annotated[Database, Depends(database)],
        cache: CacheDep,
    ) -> BaseModel:
        cache.invalidate(spec.name)
        changes = body.model_dump(exclude_unset=True)
        version = changes.pop("version")
        return db.run(lambda s: out(crud.update_row(s, spec, key, version, changes)))

    @router.delete("/{key}", response_model=read_model, summary=f"Soft-delete a {spec.label}")
    def delete_row(
        key: KeyPath,
        db: Annotated[Database, Depends(database)],
        cache: CacheDep,
        version: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
    ) -> BaseModel:
        cache.invalidate(spec.name)
        return db.run(lambda s: out(crud.delete_row(s, spec, key, version)))

    return router


def resource_routers() -> list[APIRouter]:
    return [_router(spec, MODELS[name], FILTERS[name]) for name, spec in RESOURCES.items()]
