"""YAML from users, read with a budget: a few hundred bytes of aliases must not expand to
gigabytes, and an impossible date or a 5,000-digit number is a message, not a traceback."""

from __future__ import annotations

import yaml

from .limits import MAX_NUMBER_DIGITS, MAX_YAML_ALIASES


class _LimitedLoader(yaml.SafeLoader):
    """PyYAML's safe loader that counts ``*alias`` references and checks scalars it converts."""

    aliases_seen = 0

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            self.aliases_seen += 1
            if self.aliases_seen > MAX_YAML_ALIASES:
                raise yaml.MarkedYAMLError(
                    problem=f"more than {MAX_YAML_ALIASES} aliases (*name); refused",
                    problem_mark=self.peek_event().start_mark)
        return super().compose_node(parent, index)

    def construct_yaml_int(self, node):
        digits = sum(ch.isdigit() for ch in node.value)
        if digits > MAX_NUMBER_DIGITS:
            raise yaml.MarkedYAMLError(problem=f"a number of {digits} digits; at most {MAX_NUMBER_DIGITS} "
                                               "are read", problem_mark=node.start_mark)
        return super().construct_yaml_int(node)

    def construct_yaml_timestamp(self, node):
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError:
            raise yaml.MarkedYAMLError(problem=f"'{node.value}' is not a real date",
                                       problem_mark=node.start_mark) from None


_LimitedLoader.add_constructor("tag:yaml.org,2002:int", _LimitedLoader.construct_yaml_int)
_LimitedLoader.add_constructor("tag:yaml.org,2002:timestamp", _LimitedLoader.construct_yaml_timestamp)


def load_yaml(text: str):
    """The data in ``text``; raises ``yaml.YAMLError`` (with a mark) on a limit or bad value."""
    return yaml.load(text, Loader=_LimitedLoader)  # noqa: S506 - a SafeLoader subclass


def load_yaml_with_nodes(text: str):
    """(the node tree, the data) of ``text``, parsed once: the tree gives line numbers."""
    loader = _LimitedLoader(text)
    try:
        node = loader.get_single_node()
        return node, (loader.construct_document(node) if node is not None else None)
    finally:
        loader.dispose()

