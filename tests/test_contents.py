"""What a local display holds at a literal key, while nothing can have changed it
(linter/contents.py, used by facts.py): a read there is written as the stored value."""
from __future__ import annotations

import textwrap

import libcst as cst
import pytest

from nilcheck.linter.facts import extract
from nilcheck.linter.ir import Call, Name, Subscript, walk_nodes


def called(source: str):
    """What each call of the module body calls, in order."""
    module = extract(cst.parse_module(textwrap.dedent(source)), "m", "m.py", False)
    return [node.func for node in walk_nodes(module.toplevel.body) if isinstance(node, Call)]


def test_a_store_at_a_literal_key_is_what_the_next_read_gives():
    assert called("""
        d = {"a": f}
        d["a"] = g
        d["a"]()
        """) == [Name("g")]


def test_nested_displays_and_lists_by_position():
    assert called("""
        d = {"a": {"b": f}}
        d["a"]["b"] = g
        d["a"]["b"]()
        ls = [f, g]
        ls[1]()
        """) == [Name("g"), Name("g")]


def test_update_with_literal_keys_stores_them_and_keeps_the_others():
    for key, stored in (("a", "g"), ("b", "h")):
        assert called(f"""
            d = {{"a": f, "b": h}}
            d.update({{"a": g}})
            d["{key}"]()
            """)[1:] == [Name(stored)]


@pytest.mark.parametrize("between", [
    "change(d)",              # a call may change it
    "e = d\ne['a'] = h",      # a store into an alias
    "obj.attr = 1",           # a setter may run
    "d[key] = h",             # any key may be the one
    "x = obj.attr",           # a property may run
    "del d['b']",
    "x = -d['b']",            # an operator may run code
    "x = {key: 1}",           # so may hashing a key
])
def test_anything_that_may_run_code_or_reach_the_container_forgets(between):
    lines = textwrap.indent(between, "        ")
    funcs = called(f"""
        d = {{"a": f, "b": h}}
        d["a"] = g
{lines}
        d["a"]()
        """)
    assert isinstance(funcs[-1], Subscript)


def test_a_branch_or_loop_boundary_forgets():
    funcs = called("""
        d = {"a": f}
        if cond:
            d["a"] = g
        d["a"]()
        for x in y:
            d["a"]()
        """)
    assert all(isinstance(func, Subscript) for func in funcs if func != Name("cond"))


def test_only_values_that_mean_the_same_when_read_again_are_kept():
    funcs = called("""
        d = {"a": f}
        d["a"] = make()
        d["a"]()
        """)
    assert funcs[0] == Name("make") and isinstance(funcs[1], Subscript)


def test_the_flow_calls_only_what_was_stored_last():
    from tests.test_valueflow import call_site, invoked, program

    resolver = program(m="""
        def f():
            pass

        def g():
            pass

        d = {"a": f}
        d["a"] = g
        d["a"]()
        e = {"a": f}
        e["a"] = g
        change(e)
        e["a"]()
        """)
    assert invoked(call_site(resolver, "m.<module>", "g")) == ["m.g"]
    # After a call the stored values are the flow's: either function, as before.
    assert invoked(call_site(resolver, "m.<module>", "e[...]")) == ["m.f", "m.g"]
