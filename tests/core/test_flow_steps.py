"""Every flow declares its steps: each declared step has a handler, each handler is declared,
every step a flow goes to is declared, and each flow is started by its own parameters."""

from __future__ import annotations

import ast
import inspect
import typing

import pytest
from sqlalchemy import func, select

from bot.app import routers
from bot.core.effects import body
from bot.core.engine import Engine
from bot.core.flow import Flow, FlowStart, step
from bot.core.i18n import Translator
from bot.core.router import Routes
from storage.models import FlowSession, InboundMessage
from tests.driver import Hotline

FLOWS = Routes(routers()).flows


def _own_source(flow: Flow[typing.Any, typing.Any]) -> str:
    classes = [k for k in type(flow).__mro__ if issubclass(k, Flow) and k is not Flow]
    return "\n".join(inspect.getsource(k) for k in classes)


def _start_params(flow: Flow[typing.Any, typing.Any]) -> object:
    """The parameters type a flow class binds Flow[...] to, through its bases."""
    for klass in type(flow).__mro__:
        for base in getattr(klass, "__orig_bases__", ()):
            for arg in typing.get_args(base):
                if isinstance(arg, type) and issubclass(arg, FlowStart):
                    return arg
    return None


@pytest.mark.parametrize("name", sorted(FLOWS))
def test_every_handler_is_declared_and_every_declared_step_has_one(name: str) -> None:
    flow = FLOWS[name]
    assert flow.handlers, f"{name} declares no step"
    for step_name, handler in flow.handlers.items():
        assert callable(handler)
        assert step_name in handler.flow_steps  # type: ignore[attr-defined]
    # No method named like a step handler is left undeclared (it could never run).
    for attr in dir(type(flow)):
        value = getattr(type(flow), attr)
        if attr.startswith("on_") and inspect.iscoroutinefunction(value):
            assert getattr(value, "flow_steps", ()), f"{name}.{attr} is not declared"


@pytest.mark.parametrize("name", sorted(FLOWS))
def test_every_step_gone_to_is_declared(name: str) -> None:
    """`turn.goto("x")` with a literal: x is one of the flow's declared steps."""
    flow = FLOWS[name]
    tree = ast.parse(_own_source(flow))
    targets = [
        node.args[0].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "goto"
        and node.args
        and isinstance(node.args[0], ast.Constant)
    ]
    assert targets, name
    assert set(targets) <= set(flow.handlers), name


@pytest.mark.parametrize("name", sorted(FLOWS))
def test_each_flow_is_started_by_parameters_naming_it(name: str) -> None:
    flow = FLOWS[name]
    params = _start_params(flow)
    assert isinstance(params, type) and issubclass(params, FlowStart), name
    assert params.flow == name


def test_the_stored_step_names_are_kept() -> None:
    """Positions stored by earlier versions name these steps: they must stay readable."""
    stored = {
        "framework": {"ack"},
        "report": {"category", "what", "who", "since", "tried", "urgency"},
        "talk": {"message"},
        "caseans": {"message"},
        "case_reply": {"message"},
        "plan_check": {
            "status", "eval_goal", "eval_results", "eval_difficulties", "eval_continue",
            "blocked_reason", "blocked_coach", "new_date", "confirm_date",
        },
        "plan_edit": {
            "title", "what", "where", "how", "deliverables", "owner", "due", "due_confirm",
            "more", "confirm",
        },
        "cedit": {"value", "pick", "confirm"},
    }  # fmt: skip
    assert {name: set(flow.handlers) for name, flow in FLOWS.items()} == stored


def test_a_step_is_declared_once_per_flow() -> None:
    class Twice(Flow[FlowStart, dict[str, object]]):
        name = "twice"

        @step("a")
        async def first(self, turn: typing.Any) -> None:
            return None

        @step("b", "c")
        async def second(self, turn: typing.Any) -> None:
            return None

    assert set(Twice.handlers) == {"a", "b", "c"}
    assert Twice.handlers["c"] is Twice.handlers["b"]


async def test_a_stored_step_no_longer_declared_ends_the_flow_politely(
    engine: Engine, hotline: Hotline
) -> None:
    """A position stored by an older version at a step since removed: the flow ends with its
    polite words, instead of failing on every message of the chat."""
    t = Translator("fr")
    amina = hotline.newcomer("amina")
    await amina.says("Bonjour")
    await amina.taps("framework:ack")
    await amina.says("je veux signaler un problème")
    async with engine.db.transaction() as session:
        state = await session.scalar(select(FlowSession))
        assert state is not None and state.flow == "report"
        state.step = "a_step_since_removed"
    answer = await amina.says("le maire bloque notre projet depuis des mois")
    assert [body(e) for e in answer] == [t.gettext(FLOWS["report"].left_text)]
    async with engine.db.transaction() as session:
        assert await session.scalar(select(func.count(FlowSession.chat_id))) == 0
        errors = await session.scalars(select(InboundMessage.error))
        assert [e for e in errors if e] == []
