"""Labels site-wide: every page's theorem ids and equation labels in one map, and every
reference checked against it (an unknown id is an error where it is written)."""

from __future__ import annotations

from collections.abc import Iterable

from qed.bodies import RenderedBody
from qed.body import Label
from qed.errors import Diagnostics, did_you_mean


def collect_labels(bodies: Iterable[RenderedBody], diagnostics: Diagnostics) -> dict[str, Label]:
    """Id → `Label` for the whole site; a duplicate id is an error at its second place."""
    bodies = list(bodies)
    labels: dict[str, Label] = {}
    for body in bodies:
        for label in body.labels:
            earlier = labels.get(label.id)
            if earlier is not None:
                diagnostics.error(f"duplicate id '{label.id}' (first defined at {earlier.location})", label.location)
                continue
            labels[label.id] = label
    for body in bodies:
        for label_id, location in body.references:
            if label_id not in labels:
                diagnostics.error(f"unknown reference '{label_id}': no theorem or equation has this id"
                                  f"{did_you_mean(label_id, labels)}", location)
    return labels
