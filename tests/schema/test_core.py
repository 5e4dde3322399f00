"""The ORM classes are mapped onto the Core tables of rms.schema.core, not copies of them."""

from __future__ import annotations

import rms.schema.core as core
import rms.schema.tables as tables


def test_the_orm_module_shares_the_core_metadata_and_constants() -> None:
    assert tables.metadata is core.metadata
    assert tables.Base.metadata is core.metadata
    assert tables.NAMING is core.NAMING
    assert tables.SERVICE_STATE_TABLES is core.SERVICE_STATE_TABLES
    assert tables.CUSIP_CACHE_SOURCES is core.CUSIP_CACHE_SOURCES


def test_every_orm_class_is_mapped_onto_the_core_table_of_its_name() -> None:
    mapped = {m.class_.__name__: m.class_ for m in tables.Base.registry.mappers}
    classes = {n for n in tables.__all__ if isinstance(getattr(tables, n), type)}
    assert set(mapped) == classes - {"Base", "Row"}
    by_table: dict[str, type[tables.Base]] = {}
    for cls in mapped.values():
        table = cls.__table__
        assert table is core.metadata.tables[table.name]
        assert cls.__tablename__ == table.name
        assert [name for name in core.__all__ if getattr(core, name) is table] != []
        by_table[table.name] = cls
    # Every Core table has its class, so nothing is left unmapped.
    assert set(by_table) == set(core.metadata.tables)


def test_every_mapped_attribute_is_a_column_of_the_table() -> None:
    for mapper in tables.Base.registry.mappers:
        table = mapper.local_table
        assert sorted(p.key for p in mapper.column_attrs) == sorted(table.c.keys())
        annotated = {
            k
            for klass in mapper.class_.__mro__
            for k in getattr(klass, "__annotations__", {})
            if not k.startswith("_")
        }
        assert set(table.c.keys()) - {"createdAt", "updatedAt", "deletedAt", "version"} <= (
            annotated
        )
