"""construction.py on its own: what a constructor run with its default arguments leaves
in each attribute."""
from __future__ import annotations

from nilcheck.linter.analysis import Analysis
from nilcheck.linter.construction import default_construction
from nilcheck.linter.resolve import Resolver

from tests.test_stages import project


def built(source: str, cls: str = "pkg.mod.C"):
    index = project(**{"pkg.mod": source})
    analysis = Analysis(index, Resolver(index))
    return default_construction(index, cls, analysis._self_callee)


def test_none_default_prunes_the_branch_that_needs_the_argument():
    result = built("""
        class C:
            def __init__(self, app=None, name="x"):
                self.name = name
                if app is not None:
                    self.init_app(app)

            def init_app(self, app):
                self.bp = app
    """)
    assert "bp" not in result.present
    assert result.deciding["bp"] == ("app",)
    assert "name" in result.present and "name" not in result.none


def test_a_stored_none_default_is_none_unless_rebound():
    result = built("""
        class C:
            def __init__(self, app=None, sock=None, flag=None):
                self.app = app
                if sock is None:
                    sock = make()
                self.sock = sock
                self.flag = flag or 3
    """)
    assert result.none == {"app"}
    assert result.deciding == {"app": ("app",)}


def test_arguments_passed_to_self_methods_keep_what_is_known():
    result = built("""
        class Base:
            def __init__(self, conn=None, size=1):
                self.conn = conn
                self.size = size

        class C(Base):
            def __init__(self, conn=None):
                super().__init__(conn, size=2)
                self.other = None
    """)
    assert result.none == {"conn", "other"}


def test_undecided_branches_are_not_certain():
    result = built("""
        import sys

        class C:
            def __init__(self):
                if sys.platform == "win32":
                    self.loop = None
                else:
                    self.loop = make()
                self.x = None
    """)
    assert "loop" in result.present and "loop" not in result.none
    assert result.none == {"x"}


def test_handing_out_the_object_or_a_bound_method_gives_no_answer():
    assert built("""
        class C:
            def __init__(self, host=None):
                self.host = host
                registry.add(self)
    """) is None
    assert built("""
        class C:
            def __init__(self, host=None):
                self.host = host
                schedule(self.attach)

            def attach(self):
                self.host = 1
    """) is None


def test_recursion_and_unknown_bases_give_no_answer():
    assert built("""
        class C:
            def __init__(self):
                self.setup()

            def setup(self):
                self.setup()
    """) is None
    assert built("""
        import framework

        class C(framework.Component):
            def __init__(self):
                self.x = None
    """) is None
