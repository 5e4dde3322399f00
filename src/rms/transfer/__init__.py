"""Moving rows between the two engines: what ``rms db migrate`` (SQLite into PostgreSQL) and
``rms db export`` (PostgreSQL into SQLite) share.

Modules are named by what they hold, and by engine where an engine is the point:

* :mod:`rms.transfer.spec` - what each table is (column kinds, keys, load order), from the
  models; one description both directions read and write by.
* :mod:`rms.transfer.digest` - the canonical rendering of a row and the content checksum of
  a table, in Python and in PostgreSQL's SQL.
* :mod:`rms.transfer.sqlite` - a SQLite file: read-only open, checksum of the file, the files
  SQLite keeps beside it.
* :mod:`rms.transfer.postgresql` - a PostgreSQL table's checksum and rendered rows, computed
  by the server.
* :mod:`rms.transfer.diff` - the first values that differ between two sides, merged in key
  order.

The errors of both directions are :class:`rms.errors.TransferError`\\ s.
"""
