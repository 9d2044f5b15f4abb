"""Start positions of the CST nodes the facts need, at a quarter of PositionProvider's cost.

libcst derives positions from code generation: every node of the module is generated
and, per node, PositionProvider builds two CodePosition and one CodeRange objects, runs a
generator-based context manager and splits every token with a regular expression. That
was 60% of a cold scan. nilcheck needs only the start (line, column) of a few node kinds,
so this drives the same code generation with a state that counts characters, creates
nothing per node, and records starts only for the kinds asked for.

The values are PositionProvider's `.start` exactly (syntactic position where libcst
records one, else the position before the node's own code), which tests check on real
files; when the installed libcst no longer drives codegen this way, `start_positions`
falls back to PositionProvider itself.
"""
from __future__ import annotations

import re
from typing import Dict, FrozenSet, Tuple

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

Starts = Dict[cst.CSTNode, Tuple[int, int]]  # node -> (line from 1, column from 0)

_NEWLINE = re.compile(r"\r\n?|\n")


class _NoOp:
    """A reusable `with` target: the start is recorded when the block is entered."""
    __slots__ = ()

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc_info: object) -> bool:
        return False


_NO_OP = _NoOp()


class _CountingState:
    """The interface libcst's `_codegen` methods call on a CodegenState, keeping only
    the current line and column (no tokens are kept: nothing reads them back)."""
    __slots__ = ("default_indent", "default_newline", "indent_tokens", "tokens", "line",
                 "column", "starts", "kinds", "provider")

    def __init__(self, module: cst.Module, kinds: FrozenSet[type]) -> None:
        self.default_indent = module.default_indent
        self.default_newline = module.default_newline
        self.indent_tokens: list = []
        self.tokens: list = []  # Module._codegen_impl checks it is empty; it stays so
        self.line = 1
        self.column = 0
        self.starts: Starts = {}
        self.kinds = kinds
        self.provider = None

    def increase_indent(self, value: str) -> None:
        self.indent_tokens.append(value)

    def decrease_indent(self) -> None:
        self.indent_tokens.pop()

    def add_indent_tokens(self) -> None:
        for token in self.indent_tokens:
            self.column += len(token)  # indentation never holds a newline

    def add_token(self, value: str) -> None:
        if "\n" in value or "\r" in value:
            segments = _NEWLINE.split(value)
            self.line += len(segments) - 1
            self.column = len(segments[-1])
        else:
            self.column += len(value)

    def before_codegen(self, node: cst.CSTNode) -> None:
        if type(node) in self.kinds:
            self.starts[node] = (self.line, self.column)

    def after_codegen(self, node: cst.CSTNode) -> None:
        pass

    def pop_trailing_newline(self) -> None:
        pass

    def record_syntactic_position(self, node: cst.CSTNode, *, start_node=None,
                                  end_node=None) -> _NoOp:
        # Called inside the node's own codegen, after before_codegen: the syntactic start
        # (past leading lines and parentheses) replaces the inclusive one, as in libcst.
        # libcst never passes start_node.
        if type(node) in self.kinds:
            self.starts[node] = (self.line, self.column)
        return _NO_OP


def start_positions(module: cst.Module, kinds: FrozenSet[type]) -> Starts:
    """(line, column) where each node of module whose type is in kinds starts."""
    state = _CountingState(module, kinds)
    try:
        module._codegen(state)  # type: ignore[arg-type]
    except (AttributeError, TypeError):
        # A libcst whose codegen wants more of its state than this provides.
        return provider_positions(module)
    return state.starts


def provider_positions(module: cst.Module) -> Starts:
    """The same mapping computed by libcst's public PositionProvider (every node)."""
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    ranges = wrapper.resolve(PositionProvider)
    return {node: (span.start.line, span.start.column) for node, span in ranges.items()}
