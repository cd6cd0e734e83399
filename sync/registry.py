"""The mutation registry: the single list of what a device may do (PROTOCOL.md §4).

A mutation is a name, an args Struct and an async handler ``handler(ctx, args)``. ``ctx`` is whatever
the server passes to :func:`sync.engine.apply_push` (its session, actor, clock); the engine never
looks inside it. Metadata of the mutation being applied (seq, client time, clock offset) is
available to a handler through :func:`sync.engine.current_mutation`.

How a handler refuses: raise :class:`PermanentError`, or any exception type listed in
``Registry(permanent_errors=...)`` (the server lists its own ``DomainError`` there). Those are
*permanent* refusals: the mutation is rejected, its writes are rolled back, and its seq advances.
Every other exception is *transient*: it propagates, the server rolls the whole batch back and the
device retries later. The list is explicit rather than duck-typed on ``code``/``message`` because
misclassifying a transient database error as permanent would drop a technician's work for good.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import msgspec

from sync.text import refuse_control_characters


class Args(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Base for mutation args: unknown fields and control characters in text are a ``validation_error``
    rejection."""

    def __post_init__(self) -> None:
        refuse_control_characters(self)


A = TypeVar("A", bound=msgspec.Struct)
Handler = Callable[[Any, A], Awaitable[object]]
#: ``prepare(ctx, [args, ...])``: called once per push batch, before any handler, with the args of every
#: new mutation of this name in the batch (seq order). It may only *read* (warm the server's per-batch
#: caches: one query for a hundred mutations instead of one each); whatever it raises is transient.
Prepare = Callable[[Any, list[A]], Awaitable[object]]


class PermanentError(Exception):
    """A refusal that retrying cannot fix (validation, permission, illegal state transition).

    ``transient = True`` on an exception instance or class vetoes the permanent classification, for
    the rare domain error type that wraps something worth retrying.
    """

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class MutationSpec(Generic[A]):
    name: str
    args_type: type[A]
    handler: Handler[A]
    prepare: Prepare[A] | None = None


class Registry:
    """Maps mutation names to (args type, handler)."""

    def __init__(self, *, permanent_errors: tuple[type[BaseException], ...] = ()) -> None:
        self._specs: dict[str, MutationSpec[Any]] = {}
        self.permanent_errors: tuple[type[BaseException], ...] = (PermanentError, *permanent_errors)

    def mutation(
        self, name: str, args_type: type[A], *, prepare: Prepare[A] | None = None
    ) -> Callable[[Handler[A]], Handler[A]]:
        """Decorator: ``@registry.mutation("order.accept", OrderAcceptArgs)``."""

        def decorate(handler: Handler[A]) -> Handler[A]:
            self.register(name, args_type, handler, prepare=prepare)
            return handler

        return decorate

    def register(
        self, name: str, args_type: type[A], handler: Handler[A], *, prepare: Prepare[A] | None = None
    ) -> None:
        if name in self._specs:
            raise ValueError(f"mutation {name!r} is already registered")
        if not (isinstance(args_type, type) and issubclass(args_type, msgspec.Struct)):
            raise TypeError(f"args of {name!r} must be a msgspec Struct type")
        if not args_type.__struct_config__.forbid_unknown_fields:
            raise TypeError(f"args of {name!r} must forbid unknown fields (subclass sync.registry.Args)")
        if not inspect.iscoroutinefunction(handler):
            raise TypeError(f"handler of {name!r} must be an async function")
        if prepare is not None and not inspect.iscoroutinefunction(prepare):
            raise TypeError(f"prepare of {name!r} must be an async function")
        self._specs[name] = MutationSpec(name, args_type, handler, prepare)

    def names(self) -> list[str]:
        return sorted(self._specs)

    def get(self, name: str) -> MutationSpec[Any] | None:
        return self._specs.get(name)

    def __contains__(self, name: object) -> bool:
        return name in self._specs

    def decode(self, name: str, args: dict[str, Any]) -> tuple[MutationSpec[Any], msgspec.Struct]:
        """Find the handler and convert ``args``; raises :class:`PermanentError` on either failure."""
        spec = self._specs.get(name)
        if spec is None:
            raise PermanentError("unknown_mutation", f"unknown mutation {name!r}")
        try:
            return spec, msgspec.convert(args, spec.args_type)
        except msgspec.ValidationError as exc:
            raise PermanentError("validation_error", str(exc)) from None

    def is_permanent(self, exc: BaseException) -> bool:
        return isinstance(exc, self.permanent_errors) and not getattr(exc, "transient", False)
