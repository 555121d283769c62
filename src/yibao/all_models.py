"""Every concept's models, imported once so ``Base.metadata`` knows all tables.

Alembic's env and the tests import this module. Add one line per concept.
"""
