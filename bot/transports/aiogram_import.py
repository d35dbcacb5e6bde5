"""aiogram, imported with its pydantic validators built when a model is first used.

aiogram declares its types `defer_build=True`, then rebuilds every one of them (some 300,
each with the types it nests inlined) when `aiogram.types` is imported: about 100 MiB of
validators, most for types and methods the hotline never meets, and a second of start-up.
Here that rebuild loop is made to record the names it resolves forward references with,
instead of building; each model is built by pydantic on first use with those names (the
few the adapter uses: Update, Message, the methods it calls and their responses).
"""

from __future__ import annotations

import sys
from typing import Any, Literal, Optional, Union

from pydantic import BaseModel


def _types_namespace() -> dict[str, Any]:
    import aiogram.types as types
    from aiogram.client.default import Default

    names: dict[str, Any] = {
        "List": list,
        "Optional": Optional,
        "Union": Union,
        "Literal": Literal,
        "Default": Default,
    }
    names.update((name, getattr(types, name)) for name in types.__all__)
    return names


def import_aiogram() -> None:
    """Import aiogram (once, before anything else does) without building its validators."""
    if "aiogram" in sys.modules:
        return
    rebuild: Any = BaseModel.__dict__["model_rebuild"].__func__
    deferred: list[type[BaseModel]] = []

    def record(cls: type[BaseModel], /, **kwargs: Any) -> bool | None:
        if kwargs.get("_types_namespace") is not None and cls.__module__.startswith("aiogram."):
            deferred.append(cls)
            return None
        return rebuild(cls, **kwargs)

    BaseModel.model_rebuild = classmethod(record)  # type: ignore[assignment,method-assign]
    try:
        import aiogram
        import aiogram.methods as methods
        from aiogram.methods.base import Response
    finally:
        BaseModel.model_rebuild = classmethod(rebuild)  # type: ignore[assignment,method-assign]
    assert aiogram.__version__
    names = _types_namespace()
    models = [*deferred, Response, *(getattr(methods, name) for name in methods.__all__)]
    for model in models:
        if isinstance(model, type) and issubclass(model, BaseModel):
            # What pydantic resolves forward references with when it builds the model (and
            # a generic response, Response[Message], inherits it).
            # One dict shared by all (a copy each would cost some 7 MiB).
            parent = model.__dict__.get("__pydantic_parent_namespace__")
            model.__pydantic_parent_namespace__ = {**parent, **names} if parent else names
