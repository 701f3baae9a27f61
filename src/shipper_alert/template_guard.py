"""Custom templates rendered within a time budget and an output-size cap.

Two layers, because neither alone is enough:
- a sandbox (Jinja2's `SandboxedEnvironment`, https://jinja.palletsprojects.com/en/stable/sandbox/)
  that refuses the single operations which allocate without bound in one C call, where no
  watchdog can interrupt them: `'x' * 10**9`, `2 ** 10**8`, `'%1000000000d' % 1`, a filter or
  method given a huge width or count, `range` past `MAX_RANGE`;
- a watchdog: the template renders in a worker thread; at the budget the worker gets an
  asynchronous `RenderBudgetExceeded` (CPython's `PyThreadState_SetAsyncExc`, delivered at
  the next bytecode, so nested loops stop) and the caller falls back at once.
A subprocess would bound memory too, but costs a fork per part and cannot share the
compiled templates; the sandbox caps keep every step small instead.
Output is consumed from `Template.generate()` and cut at `MAX_OUTPUT` characters.
"""

from __future__ import annotations

import ctypes
import re
import threading
from collections.abc import Callable, Sized
from typing import Any

from jinja2.sandbox import SandboxedEnvironment, SecurityError

# A message part is at most a few tens of KB (the largest channel limit, email, is 1 MB).
MAX_OUTPUT = 256 * 1024
MAX_RANGE = 10_000
MAX_POWER_BITS = 4096
RENDER_SECONDS = 1.0
_WIDE = re.compile(r"\d{6,}")  # a width or precision of a million or more in a format


class RenderBudgetExceeded(Exception):
    """A custom template ran past its time budget or output cap."""


class GuardedEnvironment(SandboxedEnvironment):
    """A sandbox whose operators, calls, filters and `range` cannot allocate without bound."""

    intercepted_binops = frozenset({"*", "**", "%", "+"})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.globals["range"] = _range

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "*":
            _check_repeat(left, right)
            _check_repeat(right, left)
        elif operator == "**":
            _check_power(left, right)
        elif operator == "%" and isinstance(left, str):
            _check_format(left)
        elif operator == "+" and _total_length(left, right) > MAX_OUTPUT:
            raise SecurityError(f"a concatenation longer than {MAX_OUTPUT}")
        return super().call_binop(context, operator, left, right)

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        _check_arguments(args, kwargs)
        # The sandbox hands str.format over wrapped (functools.update_wrapper).
        method = getattr(__obj, "__wrapped__", __obj)
        if getattr(method, "__name__", "") in ("format", "format_map"):
            _check_format(getattr(method, "__self__", ""))
        return super().call(__context, __obj, *args, **kwargs)

    def guard_filters(self) -> None:
        """Wrap every filter so that its arguments are checked like a call's."""
        for name, function in list(self.filters.items()):
            self.filters[name] = _guarded(function)


def _guarded(function: Callable[..., Any]) -> Callable[..., Any]:
    def guarded(*args: Any, **kwargs: Any) -> Any:
        _check_arguments(args[1:], kwargs)
        return function(*args, **kwargs)

    for marker in ("jinja_pass_arg",):  # pass_context / pass_environment survive the wrap
        if hasattr(function, marker):
            setattr(guarded, marker, getattr(function, marker))
    return guarded


def _check_arguments(args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    for value in (*args, *kwargs.values()):
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_OUTPUT:
            raise SecurityError(f"an argument of {value}, more than {MAX_OUTPUT}")


def _total_length(left: Any, right: Any) -> int:
    sized = isinstance(left, Sized) and isinstance(right, Sized)
    return len(left) + len(right) if sized else 0


def _check_repeat(sequence: Any, count: Any) -> None:
    repeats = isinstance(sequence, (str, bytes, list, tuple)) and isinstance(count, int)
    if repeats and len(sequence) * count > MAX_OUTPUT:
        raise SecurityError(f"a repetition longer than {MAX_OUTPUT}")


def _check_power(base: Any, exponent: Any) -> None:
    integers = isinstance(base, int) and isinstance(exponent, int) and exponent > 0
    if integers and max(abs(base), 2).bit_length() * exponent > MAX_POWER_BITS:
        raise SecurityError(f"a power of more than {MAX_POWER_BITS} bits")


def _check_format(text: Any) -> None:
    if isinstance(text, str) and _WIDE.search(text):
        raise SecurityError("a format width or precision of a million or more")


def _range(*args: int) -> range:
    values = range(*args)
    if len(values) > MAX_RANGE:
        raise SecurityError(f"a range of {len(values)} items, more than {MAX_RANGE}")
    return values


def render_within(template: Any, context: dict[str, Any], seconds: float = RENDER_SECONDS) -> str:
    """`template` rendered with `context` in at most `seconds` and `MAX_OUTPUT` characters.

    Raises what the template raises, or `RenderBudgetExceeded`.
    """
    outcome: dict[str, Any] = {}
    done = threading.Event()

    def work() -> None:
        try:
            try:
                parts: list[str] = []
                size = 0
                for chunk in template.generate(**context):
                    size += len(chunk)
                    if size > MAX_OUTPUT:
                        raise RenderBudgetExceeded(f"output longer than {MAX_OUTPUT} characters")
                    parts.append(chunk)
                outcome["text"] = "".join(parts)
            except BaseException as exc:  # handed to the waiting caller
                outcome["error"] = exc
            finally:
                done.set()
        except RenderBudgetExceeded:  # the watchdog's exception, arriving late
            pass

    worker = threading.Thread(target=work, name="shipper-alert render", daemon=True)
    worker.start()
    if not done.wait(seconds):
        _interrupt(worker)
        raise RenderBudgetExceeded(f"did not finish within {seconds:.1f}s")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["text"]


def _interrupt(worker: threading.Thread) -> None:
    """Raise `RenderBudgetExceeded` in `worker` at its next bytecode."""
    if worker.ident is not None and worker.is_alive():
        ctypes.pythonapi.PyThreadState_SetAsyncExc(
            ctypes.c_ulong(worker.ident), ctypes.py_object(RenderBudgetExceeded)
        )
