"""Hostile-proof YAML for job and dataset files: capped size and alias expansion, text keys, no duplicates.

PyYAML's safe loader already refuses Python objects; it still accepts a duplicated key (the last one
wins silently), an impossible date such as ``2023-02-30`` (a Python ValueError, not a YAML error), any
key type, and anchors whose expansion is exponential (a 430-byte "billion laughs" file). This loader
turns each of those into one line naming the line of the file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

MAX_FILE_BYTES = 1_000_000  # job and dataset files are a few kB; /dev/zero and huge files stop here
MAX_EXPANDED_NODES = 200_000  # the built-in datasets expand to under 5,000 nodes


class YamlProblem(ValueError):
    """The file is not acceptable YAML; the message is one line naming where and why."""


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicated and non-text keys and keeps impossible dates as text."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[str] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":  # '<<: *base' keys may be overridden
                continue
            key = self.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            if not isinstance(key, str):
                raise YamlProblem(f"key {_short(key)} at line {line} must be text; allowed: names such as start_date")
            if key in seen:
                raise YamlProblem(f"key '{_short(key, 60)}' at line {line} is given twice; allowed: each key once")
            seen.add(key)
        return super().construct_mapping(node, deep=deep)

    def construct_yaml_timestamp(self, node: yaml.ScalarNode) -> Any:
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError:  # 2023-02-30: leave it as text for the field's own check to name
            return self.construct_scalar(node)


_StrictLoader.add_constructor("tag:yaml.org,2002:timestamp", _StrictLoader.construct_yaml_timestamp)


def _short(value: Any, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _expanded_size(node: yaml.Node, sizes: dict[int, int]) -> int:
    """Nodes the document has once every alias is expanded (memoised: aliases share node objects)."""
    if id(node) not in sizes:
        sizes[id(node)] = 0  # a recursive alias counts once more below, then the cap applies
        children: list[yaml.Node] = []
        if isinstance(node, yaml.SequenceNode):
            children = node.value
        elif isinstance(node, yaml.MappingNode):
            children = [part for pair in node.value for part in pair]
        total = 1
        for child in children:
            total = min(total + _expanded_size(child, sizes), MAX_EXPANDED_NODES + 1)
        sizes[id(node)] = total
    return sizes[id(node)]


def load_yaml(text: str) -> Any:
    """Parse one YAML document strictly (see module doc).

    Raises:
        YamlProblem: syntax, duplicated or non-text keys, or alias expansion over MAX_EXPANDED_NODES.
    """
    loader = _StrictLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        if _expanded_size(node, {}) > MAX_EXPANDED_NODES:
            raise YamlProblem(
                f"aliases expand to over {MAX_EXPANDED_NODES:,} values; allowed: files whose anchors and aliases "
                "expand to a reasonable size"
            )
        return loader.construct_document(node)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise YamlProblem(f"not valid YAML{where}; fix the file's syntax") from None
    except RecursionError:
        raise YamlProblem("nested too deeply; allowed: plain mappings and lists") from None
    finally:
        loader.dispose()


def read_yaml_file(path: str | Path) -> Any:
    """Read and parse a YAML file of at most MAX_FILE_BYTES of UTF-8 text.

    Raises:
        OSError: the file cannot be read (callers name it).
        YamlProblem: too large, not UTF-8 text, or not acceptable YAML.
    """
    with open(path, "rb") as stream:
        data = stream.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise YamlProblem(f"file is larger than {MAX_FILE_BYTES:,} bytes; allowed: YAML files up to that size")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise YamlProblem(f"not UTF-8 text (byte {exc.start}); allowed: a UTF-8 YAML file") from None
    if "\x00" in text:
        raise YamlProblem("contains NUL bytes (a binary file?); allowed: a UTF-8 YAML file")
    return load_yaml(text)
