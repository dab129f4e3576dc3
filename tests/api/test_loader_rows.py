"""Loaders read rows as named tuples of their statement's columns, values untouched."""

from sqlalchemy import literal, select

from resolvers.loader_kinds import Reader


async def test_rows_keep_every_column_by_name_and_position(app):
    db = app.state.db
    statement = select(literal(7).label("n"), literal("x").label("name"), literal(None).label("missing"))
    (row,) = await db.fetch(statement)
    (record,) = await Reader(db, None).fetch(statement)
    assert (record.n, record.name, record.missing) == (7, "x", None)
    assert tuple(record) == tuple(row) and record._fields == row._fields


async def test_columns_that_cannot_be_attribute_names_keep_the_database_rows(app):
    db = app.state.db
    statement = select(literal(1).label("_private"), literal(2).label("class"))
    (record,) = await Reader(db, None).fetch(statement)
    assert tuple(record) == (1, 2) and record._mapping["class"] == 2
    assert await Reader(db, None).fetch(select(literal(1).label("n")).where(literal(False))) == []
