"""On PostgreSQL, a GIN index for the library's full-text search (SQLite has its FTS5 table)."""

from django.db import migrations

from library.search import gin_index


def add_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.add_index(apps.get_model("studio", "Take"), gin_index())


def remove_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.remove_index(apps.get_model("studio", "Take"), gin_index())


class Migration(migrations.Migration):
    dependencies = [("library", "0006_trash_purge"), ("studio", "0007_budgets")]

    operations = [migrations.RunPython(add_index, remove_index, elidable=False)]
