"""A site's electrical topology, always written through one path: a whole Pleevi site-configuration document,
parsed and validated as a whole (app.domain), then upserted by name in the caller's transaction.

The granular mutations (create/update/delete a collector or a device) edit the site's current document and
apply it, so every rule of the tree is checked the same way whichever door the change comes through.
Names are the identity: a collector or device that keeps its name keeps its id (and later its history).
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.auth import Principal, Role
from app.domain.devices import ChargingPole
from app.domain.ocpp_station import OcppStationMapping
from app.domain.site_configuration import SiteConfiguration, parse_site_configuration
from app.errors import ErrorCode, Issue, NotFound, ValidationFailed
from app.events import EventKind, notify
from app.models import Collector, Device, Site
from app.phases import phases_of
from app.services.common import get_owned
from app.services.sites import refresh_site_status
from app.services.stations import apply_document_stations
from app.vocabulary import DeviceType

Document = dict[str, Any]
DEVICE_FIELDS = (
    "line_current",
    "forecast_type",
    "should_be_aggregated",
    "charging_efficiency",
    "discharging_efficiency",
    "maximum_charging_power",
    "maximum_discharging_power",
    "operational_battery_capacity",
    "charging_priority",
    "discharging_priority",
    "supports_phase_switching",
    "bidirectional",
    "maximum_power",
    "conversion_efficiency",
    "minimum_power",
)


async def site_document(session: AsyncSession, site_id: uuid.UUID) -> Document:
    """The site's topology as Pleevi's document (snake_case), in configuration order."""
    collectors = (
        (
            await session.execute(
                select(Collector).where(col(Collector.site_id) == site_id).order_by(col(Collector.position))
            )
        )
        .scalars()
        .all()
    )
    devices = (
        (await session.execute(select(Device).where(col(Device.site_id) == site_id).order_by(col(Device.position))))
        .scalars()
        .all()
    )
    return document_of(collectors, devices)


def document_of(collectors: Any, devices: Any) -> Document:
    names = {c.id: c.name for c in collectors}
    children: dict[uuid.UUID, list[str]] = {c.id: [] for c in collectors}
    for c in collectors:
        if c.parent_id is not None:
            children[c.parent_id].append(c.name)
    return {
        "collector_list": [_collector_entry(c, children[c.id]) for c in collectors],
        "device_list": [_device_entry(d, names.get(d.collector_id, "")) for d in devices],
    }


def _collector_entry(c: Any, children: list[str]) -> Document:
    entry: Document = {
        "name": c.name,
        "children": children,
        "line_current": c.line_current,
        "phase_voltage": c.phase_voltage,
        "line_voltage": c.line_voltage,
        "commodity": c.commodity,
        "1P_3P": c.phase_type,
        "nb_of_phases": c.nb_of_phases,
        "phase": c.phase,
        "phase_permutations": c.phase_permutations,
    }
    return {k: v for k, v in entry.items() if v is not None}


def _device_entry(d: Any, collector: str) -> Document:
    entry: Document = {"name": d.name, "collector": collector, "type": d.type}
    entry.update({f: getattr(d, f) for f in DEVICE_FIELDS if getattr(d, f) is not None})
    if d.pin_list is not None and d.type != DeviceType.DC_CHARGING_POLE.value:
        entry["pin_to_phase_mapping"] = {"pin_list": list(d.pin_list), "phase_list": list(d.phase_list)}
    if d.policies is not None:
        entry["policies"] = d.policies
    return entry


async def apply_site_configuration(session: AsyncSession, caller: Principal, site_id: uuid.UUID, document: Any) -> Site:
    """Replaces the site's whole topology with `document`, or refuses it whole, naming every broken rule."""
    caller.require(Role.OPERATOR)
    site = await get_owned(session, caller, Site, site_id, lock=True)
    await _write(session, site, parse_site_configuration(document))
    return site


async def _write(
    session: AsyncSession, site: Site, config: SiteConfiguration, renamed: dict[str, str] | None = None
) -> None:
    """Upserts by name; `renamed` (old name -> new name) lets a renamed collector or device keep its row."""
    renamed = renamed or {}
    old_collectors = {
        renamed.get(c.name, c.name): c
        for c in (await session.execute(select(Collector).where(col(Collector.site_id) == site.id))).scalars()
    }
    old_devices = {
        renamed.get(d.name, d.name): d
        for d in (await session.execute(select(Device).where(col(Device.site_id) == site.id))).scalars()
    }

    collectors: dict[str, Collector] = {}
    for position, spec in enumerate(config.collector_list):
        row = old_collectors.pop(spec.name, None) or Collector(
            account_id=site.account_id, site_id=site.id, name=spec.name, line_current=spec.line_current
        )
        row.name = spec.name
        row.line_current, row.phase_voltage, row.line_voltage = (
            spec.line_current,
            spec.phase_voltage,
            spec.line_voltage,
        )
        row.commodity, row.phase_type = spec.commodity, spec.phase_type
        row.nb_of_phases = spec.nb_of_phases or (1 if spec.phase_type == "1P" else 3)
        row.phase = spec.phase
        row.phase_permutations = (
            {child: parent for child, parent in spec.phase_permutations.items()} if spec.phase_permutations else None
        )
        row.position, row.parent_id = position, None
        collectors[spec.name] = row
        session.add(row)
    await session.flush()
    for spec in config.collector_list:
        collectors[spec.name].parent_id = collectors[spec.parent].id if spec.parent else None
    await session.flush()
    # Only now, with every kept collector re-parented, can the dropped ones go without cascading.
    if old_collectors:
        await session.execute(delete(Collector).where(col(Collector.id).in_([c.id for c in old_collectors.values()])))

    stations: list[tuple[int, Device, OcppStationMapping]] = []
    for position, device_spec in enumerate(config.device_list):
        device = old_devices.pop(device_spec.name, None) or Device(
            account_id=site.account_id,
            system_id=site.system_id,
            site_id=site.id,
            name=device_spec.name,
            type=device_spec.type,
        )
        device.name = device_spec.name
        _fill_device(device, device_spec.model_dump(mode="json"), collectors[device_spec.collector].id, position)
        if device_spec.type == DeviceType.DC_CHARGING_POLE.value:
            # A DC pole loads every phase of its collector: its pins are those phases, so sessions and OCPP
            # address it like an AC pole.
            phases = phases_of(config.collector(device_spec.collector))
            device.pin_list, device.phase_list = [f"pin{k + 1}" for k in range(len(phases))], list(phases)
        session.add(device)
        if isinstance(device_spec, ChargingPole) and device_spec.ocpp_station is not None:
            stations.append((position, device, device_spec.ocpp_station))
    if old_devices:
        await session.execute(delete(Device).where(col(Device.id).in_([d.id for d in old_devices.values()])))
    await session.flush()
    await apply_document_stations(session, stations)
    await refresh_site_status(session, site)
    await notify(session, EventKind.SITE_CHANGED, site.id)


def _fill_device(row: Device, spec: Document, collector_id: uuid.UUID, position: int) -> None:
    row.type, row.collector_id, row.position = spec["type"], collector_id, position
    for field in DEVICE_FIELDS:
        setattr(row, field, spec.get(field))
    mapping = spec.get("pin_to_phase_mapping")
    row.pin_list = mapping["pin_list"] if mapping else None
    row.phase_list = mapping["phase_list"] if mapping else None
    row.policies = spec.get("policies") if spec["type"] == "battery_energy_storage_system" else None


async def _edit(
    session: AsyncSession,
    caller: Principal,
    site_id: uuid.UUID,
    edit: Any,
    entry_path: str | None,
    renamed: dict[str, str] | None = None,
) -> Site:
    """Applies `edit(document)` to the site's current document; issues about the edited entry (at
    `entry_path`, e.g. 'collector_list[2]') are reported against the mutation's `input` in its own terms."""
    caller.require(Role.OPERATOR)
    site = await get_owned(session, caller, Site, site_id, lock=True)
    document = await site_document(session, site.id)
    index = edit(document)
    path = None if entry_path is None or index is None else f"{entry_path}[{index}]"
    try:
        config = parse_site_configuration(document)
    except ValidationFailed as exc:
        raise ValidationFailed([_as_input(issue, path) for issue in exc.issues]) from exc
    await _write(session, site, config, renamed)
    return site


_SNAKE = re.compile(r"_([a-z0-9])")


def _as_input(issue: Issue, entry_path: str | None) -> Issue:
    if entry_path is None or issue.field is None or not issue.field.startswith(entry_path):
        return issue
    rest = issue.field[len(entry_path) :].lstrip(".")
    rest = rest.replace("1P_3P", "phaseType").replace("collector", "collectorId") if rest else rest
    camel = _SNAKE.sub(lambda m: m.group(1).upper(), rest)
    return Issue(issue.code, f"input.{camel}" if camel else "input", issue.message)


def _find(entries: list[Document], name: str, kind: str) -> int:
    for index, entry in enumerate(entries):
        if entry["name"] == name:
            return index
    raise NotFound(f"no {kind} named {name!r} on this site")


async def create_collector(
    session: AsyncSession, caller: Principal, site_id: uuid.UUID, entry: Document, parent: Collector | None
) -> Collector:
    def edit(document: Document) -> int:
        collectors = document["collector_list"]
        if parent is not None:
            collectors[_find(collectors, parent.name, "collector")]["children"].append(entry["name"])
        collectors.append({**entry, "children": []})
        return len(collectors) - 1

    await _edit(session, caller, site_id, edit, "collector_list")
    return await _collector_named(session, site_id, entry["name"])


async def update_collector(
    session: AsyncSession,
    caller: Principal,
    collector_id: uuid.UUID,
    changes: Document,
    parent: Collector | None,
) -> Collector:
    """`changes` holds the fields to set (None clears an optional one); `parent` moves the collector."""
    current = await get_owned(session, caller, Collector, collector_id)
    new_name = changes.get("name", current.name)

    def edit(document: Document) -> int:
        collectors = document["collector_list"]
        index = _find(collectors, current.name, "collector")
        entry = {k: v for k, v in {**collectors[index], **changes}.items() if v is not None}
        collectors[index] = entry
        for other in collectors:
            other["children"] = [new_name if c == current.name else c for c in other["children"]]
        for device in document["device_list"]:
            if device["collector"] == current.name:
                device["collector"] = new_name
        if parent is not None:
            for other in collectors:
                other["children"] = [c for c in other["children"] if c != new_name]
            collectors[_find(collectors, parent.name, "collector")]["children"].append(new_name)
        return index

    await _edit(session, caller, current.site_id, edit, "collector_list", {current.name: new_name})
    return await _collector_named(session, current.site_id, new_name)


async def delete_collector(session: AsyncSession, caller: Principal, collector_id: uuid.UUID) -> None:
    """Refused while devices or child collectors hang on it: removing wiring is never implicit."""
    current = await get_owned(session, caller, Collector, collector_id)

    def edit(document: Document) -> None:
        collectors = document["collector_list"]
        index = _find(collectors, current.name, "collector")
        if collectors[index]["children"] or any(d["collector"] == current.name for d in document["device_list"]):
            raise ValidationFailed.one(ErrorCode.CONFLICT, "id", "devices or collectors still hang on this collector")
        del collectors[index]
        for other in collectors:
            other["children"] = [c for c in other["children"] if c != current.name]

    await _edit(session, caller, current.site_id, edit, None)


async def create_device(session: AsyncSession, caller: Principal, collector_id: uuid.UUID, entry: Document) -> Device:
    collector = await get_owned(session, caller, Collector, collector_id)

    def edit(document: Document) -> int:
        document["device_list"].append({**entry, "collector": collector.name})
        return len(document["device_list"]) - 1

    await _edit(session, caller, collector.site_id, edit, "device_list")
    return await _device_named(session, collector.site_id, entry["name"])


async def update_device(
    session: AsyncSession,
    caller: Principal,
    device_id: uuid.UUID,
    changes: Document,
    collector: Collector | None,
) -> Device:
    current = await get_owned(session, caller, Device, device_id)
    if current.site_id is None:
        raise ValidationFailed.one(ErrorCode.CONFLICT, "id", "the device is detached from a deleted site")
    if collector is not None and collector.site_id != current.site_id:
        raise ValidationFailed.one(ErrorCode.INVALID, "input.collectorId", "the collector belongs to another site")
    if changes.get("type", current.type) != current.type:
        raise ValidationFailed.one(ErrorCode.INVALID, "id", f"the device is a {current.type}")
    site_id = current.site_id

    def edit(document: Document) -> int:
        devices = document["device_list"]
        index = _find(devices, current.name, "device")
        entry = {**devices[index], **changes}
        if collector is not None:
            entry["collector"] = collector.name
        devices[index] = {k: v for k, v in entry.items() if v is not None}
        return index

    new_name = changes.get("name", current.name)
    await _edit(session, caller, site_id, edit, "device_list", {current.name: new_name})
    return await _device_named(session, site_id, new_name)


async def delete_device(session: AsyncSession, caller: Principal, device_id: uuid.UUID) -> None:
    current = await get_owned(session, caller, Device, device_id, lock=True)
    if current.site_id is None:
        await session.delete(current)
        await session.flush()
        return

    def edit(document: Document) -> None:
        del document["device_list"][_find(document["device_list"], current.name, "device")]

    await _edit(session, caller, current.site_id, edit, None)


async def _collector_named(session: AsyncSession, site_id: uuid.UUID, name: str) -> Collector:
    return (
        await session.execute(select(Collector).where(col(Collector.site_id) == site_id, col(Collector.name) == name))
    ).scalar_one()


async def _device_named(session: AsyncSession, site_id: uuid.UUID, name: str) -> Device:
    return (
        await session.execute(select(Device).where(col(Device.site_id) == site_id, col(Device.name) == name))
    ).scalar_one()
