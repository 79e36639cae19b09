"""The call record: what one probe's call of a student function did, as the checks see it.

A ``Call`` holds the probe (``autograder.evidence.probes``), its inputs, the outcome as plain data (what it returned,
or the error it raised, as ``autograder.messages.error_text.describe_exception`` put it) and the returned model,
safely loaded. ``autograder.engine.in_process`` makes one in the student's own process; ``autograder.isolation``
reads one back from the jailed child's files.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from autograder.messages.error_text import hint_for_error
from autograder.messages.i18n import Message, _

if TYPE_CHECKING:
    from autograder.evidence.probes import Probe


@dataclass
class Call:
    """What one probe's call did, as the grader sees it (plain data and safely loaded models)."""

    probe: Probe
    inputs: dict[str, np.ndarray]
    kwargs: dict[str, int]
    status: str  # ok | raised | returned_other | missing | crashed | timeout | unreadable
    error: dict | None = None
    returned: dict = field(default_factory=dict)
    values: tuple[np.ndarray, ...] = ()
    inputs_after: tuple[np.ndarray, ...] = ()
    model: Any = None
    compile_config: dict | None = None
    # Seconds the call took (the function and saving its model), where it was timed: the self-check's calls.
    seconds: float | None = None
    # The returned model's training under the grading protocol, with the bar it must reach (a
    # ``training_outcome.ProtocolTraining``): given by the session that applies the checks, since training is its
    # work on its data, and run when a check asks for it (the accuracy check). None outside a session.
    train_under_protocol: Callable[[], Any] | None = field(default=None, repr=False, compare=False)

    @property
    def text(self) -> str:
        parts = list(self.probe.args) + [f"{k}={v}" for k, v in self.kwargs.items()]
        return f"{self.probe.function}({', '.join(parts)})"

    def failure_reason(self) -> Message | None:
        """Why the call produced nothing to check (None when it returned normally)."""
        if self.status == "ok":
            return None
        fn = self.probe.function
        if self.status == "missing":
            if self.error and self.error.get("reason"):  # why the runner found no function (notebook_runner.why_missing)
                return self.error["message"]
            if self.error:  # the name is bound, but not to a function
                return _("{detail}. Hint: keep {fn} a function with the name and arguments the stub has.").format(
                    fn=fn, detail=self.error["message"])
            return _("{name} is not defined in the notebook. Hint: keep the function's name and arguments as the stub "
                     "has them.").format(name=fn)
        if self.status == "returned_other":
            err = self.error or {}
            returned = err.get("type", "?")
            # Written by the submission's process: taken only in the form calling.call_for_probe writes it.
            position = err.get("position")
            if not (isinstance(position, list) and len(position) == 2 and all(type(p) is int for p in position)):
                position = None
            if isinstance(err.get("items"), dict):
                return self._ragged_reason(err["items"], returned, position)
            if position:
                return _("{call} returned {returned} as value {position} of {count}, not a numeric array. "
                         "Hint: each of the {count} values {fn} returns is one numeric array.").format(
                    call=self.text, returned=returned, position=position[0], count=position[1], fn=fn)
            if returned == "NoneType":
                hint = _("{fn} returns nothing: end it with `return` and the result (a function without "
                         "`return` gives None).").format(fn=fn)
            else:
                hint = _("return the numpy array itself (np.asarray(...) turns a list of numbers into one).")
            return _("{call} returned {returned}, not a numeric array. Hint: {hint}").format(
                call=self.text, returned=returned, hint=hint)
        if self.status == "raised":
            err = self.error or {}
            where = ("\n" + "\n".join(err.get("where", []))) if err.get("where") else ""
            hint = hint_for_error(err.get("type", ""), fn, err.get("message", ""))
            message = f": {err['message']}" if err.get("message") else ""
            return _("{call} raised {error}{message}{where}\nHint: {hint}").format(
                call=self.text, error=err.get("type"), message=message, where=where, hint=hint)
        if self.status == "timeout":
            return _("{call} did not finish within the time limit ({detail}). "
                     "Hint: look for an endless loop or training inside {fn}.").format(
                call=self.text, detail=self.error["message"], fn=fn)
        if self.status == "crashed":
            return _("the submission's process ended while running {call} ({detail}). "
                     "Hint: don't call exit() or kill the process inside {fn}.").format(
                call=self.text, detail=self.error["message"], fn=fn)
        return _("{call} produced a result the grader cannot read: {detail}").format(
            call=self.text, detail=self.error["message"])

    def _ragged_reason(self, items: dict, returned: str, position) -> Message:
        # The function returned: numpy could not make one array of a list (or tuple) whose items differ in shape.
        what = _("a {type} of {length} arrays of different shapes ({shapes})") if items.get("arrays") else _(
            "a {type} of {length} values of different shapes ({shapes})")
        shapes = list(items.get("shapes") or [])
        length = items.get("length") if type(items.get("length")) is int else len(shapes)
        what = what.format(type=returned, length=length,
                           shapes=", ".join(map(str, shapes)) + (", ..." if length > len(shapes) else ""))
        if position:
            return _("{call} returned {what} as value {position} of {count}; expected each of the {count} values to "
                     "be one numeric array. Hint: numpy cannot make one array of parts of different shapes: return "
                     "each part as an array of its own.").format(
                call=self.text, what=what, position=position[0], count=position[1])
        # A multi-value function's list is several values (calling.returned_values): only one array is expected here.
        return _("{call} returned {what}; expected one numeric array. Hint: numpy cannot make one array of parts "
                 "of different shapes: return one array holding every value (np.asarray of equal-shaped parts, or "
                 "np.concatenate).").format(call=self.text, what=what)

    def require_ok(self) -> None:
        """Raise AssertionError with the reason when the call did not return normally."""
        reason = self.failure_reason()
        if reason:
            raise AssertionError(reason)
