"""Every event and aggregate class is registered by domain.catalog, so a process that
imports only the mapper can decode every stored event."""

from __future__ import annotations

import importlib
import pkgutil

import domain
from domain.aggregate import Aggregate
from domain.catalog import EVENT_MODULES
from domain.envelope import AggregateEvent


def all_domain_modules() -> list[str]:
    return [m.name for m in pkgutil.walk_packages(domain.__path__, "domain.")]


def test_every_event_and_aggregate_module_is_in_the_catalog() -> None:
    catalogued = {m.__name__ for m in EVENT_MODULES}
    defining = set()
    for name in all_domain_modules():
        module = importlib.import_module(name)
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and value.__module__ == name
                and issubclass(value, AggregateEvent | Aggregate)
                and value not in (AggregateEvent, Aggregate)
                and getattr(value, "TOPIC", None)
            ):
                defining.add(name)
    assert defining - {"domain.envelope", "domain.aggregate"} <= catalogued
