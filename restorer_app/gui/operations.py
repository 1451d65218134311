"""The steps of a restoration in the order a restorer works: restore the whole photo, then
detect the damage, then repair it.

The tool panel and the Repair menu are laid out from :data:`WORK_ORDER`. A step is offered
when an installed model can do it; repairing always can, since the classical fills need no
model. Models of the ``generate`` kind belong to the repair step (variations of a fill)
rather than to a step of their own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from restorer_app.engine.registry import ModelEntry, ModelKind, ModelRegistry


@dataclass(frozen=True)
class Step:
    #: The value of the ModelKind whose models do this step.
    kind: str
    title: str
    needs_model: bool = True


RESTORE = Step("restore", "Restore photo")
DETECT = Step("detect", "Detect damage")
REPAIR = Step("inpaint", "Repair damage", needs_model=False)
WORK_ORDER: tuple[Step, ...] = (RESTORE, DETECT, REPAIR)


def model_kind(value: str) -> ModelKind | None:
    """The engine's kind called ``value``; None when the engine does not know that kind, which
    means no model of it can be installed."""
    try:
        return ModelKind(value)
    except ValueError:
        return None


def installed_models(registry: ModelRegistry, kind_value: str) -> list[ModelEntry]:
    kind = model_kind(kind_value)
    return registry.entries(kind) if kind is not None else []


def model_labels(registry: ModelRegistry) -> dict[str, list[str]]:
    """Per step kind, the installed models' names with their versions."""
    return {step.kind: [f"{entry.name} {entry.version}" for entry in installed_models(registry, step.kind)]
            for step in WORK_ORDER}


def offered_steps(models: Mapping[str, Sequence[str]]) -> list[Step]:
    """The steps to show, in the order of work."""
    return [step for step in WORK_ORDER if not step.needs_model or models.get(step.kind)]
