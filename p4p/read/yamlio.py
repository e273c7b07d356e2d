"""YAML read exactly: a float scalar becomes the Decimal of its own text, never a double."""

from __future__ import annotations

from decimal import Decimal

import yaml


class ExactLoader(yaml.SafeLoader):
    pass


def _exact_float(loader, node):
    text = loader.construct_scalar(node).replace("_", "")
    try:
        return Decimal(text)
    except Exception:  # .inf / .nan: keep the text, validation reports it
        return text


ExactLoader.add_constructor("tag:yaml.org,2002:float", _exact_float)


def load_yaml(text: str):
    return yaml.load(text, Loader=ExactLoader)
