"""The older YAML loader (a float scalar becomes the Decimal of its own text, never a double),
kept for the statements' display of archived rulesets. Input files (period.yaml) are read by
the strict p4p/model/yamldoc.py instead: every value the text written, duplicates, anchors,
aliases and tags refused."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import yaml


class ExactLoader(yaml.SafeLoader):
    pass


def _exact_float(loader: ExactLoader, node: yaml.ScalarNode) -> Any:
    text = loader.construct_scalar(node).replace("_", "")
    try:
        return Decimal(text)
    except Exception:  # .inf / .nan: keep the text, validation reports it
        return text


ExactLoader.add_constructor("tag:yaml.org,2002:float", _exact_float)


def load_yaml(text: str) -> Any:
    return yaml.load(text, Loader=ExactLoader)
