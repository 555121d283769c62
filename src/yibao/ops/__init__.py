"""Operating the platform's database: the application's restricted role, backups, restores.

The operator's commands (``yibao db grant-app-role``, ``yibao backup``, ``yibao restore``)
run as the owner of the schema (``YIBAO_MIGRATION_DATABASE_URL``); see docs/operations.md.
"""
