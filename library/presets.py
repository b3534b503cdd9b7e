"""Presets: save a shot (a new version each time), use it, export and import them as JSON.

Personal presets are their owner's; shared ones belong to the workspace. Editors
and owners may change shared presets; viewers may use them but not change them.
"""

from django.db import IntegrityError, transaction
from django.db.models import F, Max

from studio.models import Membership
from studio.prompts import SHOT_FIELDS

from .models import Preset, PresetVersion

SETTING_KEYS = ("provider", "model", "size", "seconds")
FORMAT = "slate-presets"
MAX_NAME = 80
MAX_FIELD = 4000
MAX_IMPORT = 200  # presets in one file
MAX_VERSIONS = 50  # versions of one preset in a file
MAX_IMPORT_VERSIONS = 1000  # versions in one file
FORMAT_VERSION = 1


class PresetRefused(ValueError):
    """Something a preset can't be; the message is a sentence to show."""


def can_change(membership: Membership, preset: Preset) -> bool:
    if preset.shared:
        return membership.can_edit
    return preset.owner_id == membership.user_id and membership.can_edit


def _clean(values: dict) -> tuple[dict, dict]:
    fields = {k: str(values.get(k) or "").strip() for k in SHOT_FIELDS if values.get(k)}
    for key, text in fields.items():
        if len(text) > MAX_FIELD:
            raise PresetRefused(f"The {key} field is over {MAX_FIELD:,} characters.")
    if not fields:
        raise PresetRefused("There's nothing to save yet: write at least the Subject.")
    settings = {k: str(values[k]) for k in SETTING_KEYS if values.get(k)}
    return fields, settings


def save(membership: Membership, name: str, values: dict, *, shared: bool) -> PresetVersion:
    """Save ``values`` under ``name``: version 1 of a new preset, or the next version."""
    name = " ".join(str(name).split())
    if not name:
        raise PresetRefused("Give the preset a name.")
    if len(name) > MAX_NAME:
        raise PresetRefused(f"Keep the name under {MAX_NAME} characters.")
    if not membership.can_edit:
        raise PresetRefused("Viewers can use shared presets but not save them.")
    fields, settings = _clean(values)
    with transaction.atomic():
        preset = _find_or_create(membership, name, shared)
        number = (preset.versions.aggregate(top=Max("number"))["top"] or 0) + 1
        version = PresetVersion.objects.create(
            preset=preset,
            number=number,
            fields=fields,
            render_settings=settings,
            created_by=membership.user,
        )
        preset.save(update_fields=["updated_at"])
    return version


def _find_or_create(membership: Membership, name: str, shared: bool) -> Preset:
    visible = Preset.objects.visible_to(membership.user, membership.workspace)
    preset = visible.filter(name=name, shared=shared).first()
    if preset is not None:
        if not can_change(membership, preset):
            raise PresetRefused(f"“{name}” is someone else's; save it under another name.")
        return preset
    try:
        with transaction.atomic():
            return Preset.objects.create(
                workspace=membership.workspace, owner=membership.user, name=name, shared=shared
            )
    except IntegrityError as error:
        kind = "personal" if shared else "shared"
        raise PresetRefused(f"You already have a {kind} preset called “{name}”.") from error


def count_use(preset: Preset) -> None:
    Preset.objects.filter(pk=preset.pk).update(uses=F("uses") + 1)


def values_of(version: PresetVersion) -> dict:
    return {**version.fields, **version.render_settings}


def export(presets) -> dict:
    return {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "presets": [
            {
                "name": preset.name,
                "shared": preset.shared,
                "versions": [
                    {
                        "number": v.number,
                        "fields": v.fields,
                        "settings": v.render_settings,
                        "created_at": v.created_at.isoformat(),
                    }
                    for v in preset.versions.order_by("number")
                ],
            }
            for preset in presets
        ],
    }


def import_presets(membership: Membership, data) -> list[Preset]:
    """Add the presets in an export as new versions of the importer's presets. All or nothing.

    The whole file is checked before anything is written, and it is bounded (presets,
    versions per preset, versions in all), so the one short transaction that writes it
    never holds the database long enough to make anyone else wait."""
    if not membership.can_edit:
        raise PresetRefused("Viewers can't import presets.")
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise PresetRefused("That isn't a Slate presets file (it has no “slate-presets” format).")
    if data.get("version") != FORMAT_VERSION:
        raise PresetRefused(
            f"This Slate reads presets files of version {FORMAT_VERSION}, not "
            f"{str(data.get('version'))[:12]}."
        )
    entries = data.get("presets")
    if not isinstance(entries, list) or not entries:
        raise PresetRefused("The file holds no presets.")
    if len(entries) > MAX_IMPORT:
        raise PresetRefused(
            f"At most {MAX_IMPORT} presets at a time; this file has {len(entries):,}."
        )
    planned = [_planned(index, entry) for index, entry in enumerate(entries, start=1)]
    total = sum(len(versions) for _, _, versions in planned)
    if total > MAX_IMPORT_VERSIONS:
        raise PresetRefused(
            f"At most {MAX_IMPORT_VERSIONS:,} versions in one file; this one has {total:,}. "
            "Export fewer presets at a time."
        )
    imported = []
    with transaction.atomic():
        for index, (name, shared, versions) in enumerate(planned, start=1):
            try:
                preset = _find_or_create(membership, name, shared)
            except PresetRefused as error:
                raise PresetRefused(f"Preset {index}: {error}") from error
            top = preset.versions.aggregate(top=Max("number"))["top"] or 0
            PresetVersion.objects.bulk_create(
                PresetVersion(
                    preset=preset,
                    number=top + n,
                    fields=fields,
                    render_settings=settings,
                    created_by=membership.user,
                )
                for n, (fields, settings) in enumerate(versions, start=1)
            )
            preset.save(update_fields=["updated_at"])
            imported.append(preset)
    return list(dict.fromkeys(imported))


def _planned(index: int, entry) -> tuple[str, bool, list[tuple[dict, dict]]]:
    """One preset of a file, checked whole: its name, whether shared, its versions' values."""
    if not isinstance(entry, dict) or not isinstance(entry.get("versions"), list):
        raise PresetRefused(f"Preset {index} in the file is malformed.")
    name = " ".join(str(entry.get("name", "")).split())
    if not name:
        raise PresetRefused(f"Preset {index}: Give the preset a name.")
    if len(name) > MAX_NAME:
        raise PresetRefused(f"Preset {index}: Keep the name under {MAX_NAME} characters.")
    if len(entry["versions"]) > MAX_VERSIONS:
        raise PresetRefused(
            f"Preset {index} has {len(entry['versions']):,} versions; at most {MAX_VERSIONS} "
            "are imported per preset."
        )
    versions = []
    for version in entry["versions"] or [None]:
        if not isinstance(version, dict) or not isinstance(version.get("fields"), dict):
            raise PresetRefused(f"A version of preset {index} has no fields.")
        settings = version.get("settings") or {}
        parts = [
            *version["fields"].values(),
            *(settings.values() if isinstance(settings, dict) else [None]),
        ]
        if not all(isinstance(part, str | int) for part in parts):
            raise PresetRefused(f"A version of preset {index} holds something other than text.")
        try:
            versions.append(_clean({**settings, **version["fields"]}))
        except PresetRefused as error:
            raise PresetRefused(f"Preset {index}: {error}") from error
    return name, bool(entry.get("shared")), versions
