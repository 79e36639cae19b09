"""Results stay lazy until they are shown: one grading renders in English and in Korean, a check result
crosses a process boundary as JSON with its messages intact, and untrusted JSON is refused."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from autograder.report.gradescope_style import gradescope_json, gradescope_results
from autograder.messages.i18n import Message, Translator, _
from autograder.report.protections import protections_text
from autograder.report.text import result_text
from autograder.engine.results import CheckResult, GradeResult, GroupResult

EN, KO = Translator("en"), Translator("ko")
FULL = {"network": "off", "hidden": True, "cgroups": ["memory", "pids"], "capabilities_dropped": True,
        "pid_namespace": True, "uid": 64190, "user_namespaces": "refused"}


@pytest.fixture(scope="module")
def relabel_graded_once(sample_grader, probe_call):
    """The relabel group graded once, on a relabel_odd_even with the classes inverted, with the protections."""
    from autograder.hidden.every_check import checks_for

    checks = checks_for(("relabel",))
    calls = {c.probe_name: probe_call(lambda y: 1 - y % 2, c.probe_name) for c in checks}
    result = sample_grader.evaluate("student.ipynb", checks, calls)
    result.problems = [_("the submission printed {printed:,} bytes; only the first {kept:,} were kept").format(
        printed=2_000_000, kept=1_000_000)]
    # As the grader records them: the jail's report for each process.
    result.isolation = {"submission": FULL, "models": {"memory_limit_mb": 2048, "hidden": True, "cgroups": [],
                                                      "network": "off", "capabilities_dropped": True,
                                                      "pid_namespace": True, "uid": 64191,
                                                      "user_namespaces": "refused"}}
    return result


def test_one_grading_renders_in_english_and_in_korean_without_grading_again(relabel_graded_once):
    result = relabel_graded_once

    english, korean = result_text(result, translator=EN), result_text(result, translator=KO)

    assert "has the classes inverted" in english and "클래스가 뒤바뀌었습니다" not in english
    assert "클래스가 뒤바뀌었습니다" in korean and "has the classes inverted" not in korean, korean
    assert "규칙: relabel_odd_even(y)는 숫자가 홀수인 곳에서만 정확히 1입니다." in korean
    assert "the submission printed 2,000,000 bytes; only the first 1,000,000 were kept" in english
    assert "제출물이 2,000,000바이트를 출력했습니다. 처음 1,000,000바이트만 남겼습니다" in korean
    assert "Protections in force:" in english and "적용된 보호 조치:" in korean
    gradescope = gradescope_results(result, KO)
    failed = [t["output"] for t in gradescope["tests"] if t["status"] == "failed"]
    assert failed and all("클래스가 뒤바뀌었습니다" in output for output in failed), failed
    assert "제출물이 2,000,000바이트를 출력했습니다" in gradescope["output"]
    assert json.loads(gradescope_json(result, EN))["tests"][0]["output"].startswith(("passed: relabel_odd_even", "relabel"))


def test_the_result_records_the_protections_and_every_rendering_says_them(relabel_graded_once):
    result = relabel_graded_once

    assert gradescope_results(result)["extra_data"]["isolation"] == result.isolation
    text = result_text(result, translator=EN)
    assert text.endswith(protections_text(result.isolation, EN)), text[-600:]
    assert protections_text(result.isolation, EN).splitlines() == [
        "Protections in force: memory, file-size, time and output limits, no network, the course's private files "
        "hidden, memory and process limits by cgroup, no capabilities, no other process in sight, not run as root, "
        "no user namespaces of its own.",
        "Your models were loaded and trained in a bounded process of the grader's own: a memory limit of 2,048 MB, "
        "no network, the course's private files hidden, no capabilities, no other process in sight, not run as root, "
        "no user namespaces of its own.",
        "Not available to that process on this machine: cgroup limits."]
    # A result recorded before the jail reported user namespaces says nothing of them, rather than call them missing.
    recorded_before = {role: {k: v for k, v in report.items() if k != "user_namespaces"}
                       for role, report in result.isolation.items() if isinstance(report, dict)}
    assert "user namespaces" not in protections_text(recorded_before, EN)
    refused_nowhere = {role: {**report, "user_namespaces": "allowed"} for role, report in recorded_before.items()}
    assert "refusing user namespaces of its own" in protections_text(refused_nowhere, EN)
    assert "채점기 자신의 제한된 프로세스" in protections_text(result.isolation, KO)


def test_a_result_without_a_protections_record_says_nothing_about_them_and_the_renderer_says_none_was_made():
    check = CheckResult(check="c", probe="", group="relabel", rule="rule", hidden=False, passed=True)
    result = GradeResult("kernel", [GroupResult("relabel", 1.0, [check])])

    assert "rotections" not in result_text(result), "in-process results (self-check, nbgrader cells) have no jail"
    assert protections_text({}, EN) == "Protections: the submission's process did not report them."
    assert protections_text({"models": FULL}, EN).startswith("Protections: the submission's process did not")
    assert protections_text({"submission": {}}, EN).startswith("Protections: the submission's process did not")


@pytest.mark.slow  # the report trains the reference models for its curves
def test_the_report_renders_the_same_result_in_both_languages_with_the_protections(relabel_graded_once, sample_grader):
    from autograder.report import attach_report_data, render_report

    result = attach_report_data(sample_grader, relabel_graded_once)
    english, korean = render_report(result, EN, show_hidden=True), render_report(result, KO, show_hidden=True)

    assert "has the classes inverted" in english and "클래스가 뒤바뀌었습니다" in korean
    assert "has the classes inverted" not in korean
    assert 'id="protections"' in english and "적용된 보호 조치:" in korean
    assert "제출물이 2,000,000바이트를 출력했습니다" in korean


# ---------------------------------------------------------------- across a process boundary


def _nested_result() -> CheckResult:
    hint = _("divide by 255.")
    summary = _("reference under the same protocol: mean {mean:.4f}, worst {worst:.4f} over {n} seeds").format(
        mean=np.float32(0.98766), worst=np.float64(0.97), n=np.int64(3))
    message = _("{diff}\nHint: {hint}").format(diff=summary, hint=hint)
    return CheckResult(check="check_x", probe="probe", group="relabel",
                       rule=Message("relabel_odd_even(y) is 1 exactly where the digit is odd."), hidden=False,
                       passed=False, message=message, subject="relabel_odd_even(y)", see="check_y")


def test_a_check_result_round_trips_through_json_with_its_messages_still_lazy():
    result = _nested_result()

    back = CheckResult.from_dict(json.loads(json.dumps(result.to_dict())))

    assert back == result
    assert isinstance(back.message, Message) and isinstance(back.rule, Message)
    assert back.message_text(EN) == result.message_text(EN)
    assert back.message_text(EN).startswith("reference under the same protocol: mean 0.9877, worst 0.9700 over 3")
    assert back.message_text(KO) == result.message_text(KO) and "힌트:" in back.message_text(KO)
    data = result.to_dict()["message"]["kwargs"]["diff"]["kwargs"]
    assert (type(data["mean"]), type(data["n"])) == (float, int), "numpy scalars become Python numbers"


def test_plain_text_and_arguments_that_are_neither_text_nor_numbers_travel_as_their_text():
    result = CheckResult(check="c", probe="", group="g", rule="a rule", hidden=False, passed=False,
                         message=_("shape {shape}").format(shape=(10, 784)))

    data = result.to_dict()

    assert data["rule"] == "a rule" and data["message"] == {"msgid": "shape {shape}", "kwargs": {"shape": "(10, 784)"}}
    assert CheckResult.from_dict(data).message_text(EN) == "shape (10, 784)"


def _with(**changes) -> dict:
    return {**_nested_result().to_dict(), **changes}


@pytest.mark.parametrize("data, why", [
    ([], "must be a mapping"),
    (_with(passed="yes"), "wrong types"),
    (_with(check=7), "wrong types"),
    (_with(probe=None), "wrong types"),
    (_with(name="check_x[probe]"), "both a name and a check or probe"),
    (_with(subject="x" * 5000), "more than 2,000 characters"),
    (_with(extra=1), "unknown fields: extra"),
    (_with(message={"msgid": "x"}), "exactly the keys msgid and kwargs"),
    (_with(message={"msgid": "x" * 30_000, "kwargs": {}}), "at most 20,000"),
    (_with(message={"msgid": "{a.__class__}", "kwargs": {"a": "s"}}), "names no argument"),
    (_with(message={"msgid": "{0}", "kwargs": {}}), "names no argument"),
    (_with(message={"msgid": "{a:>999999999}", "kwargs": {"a": "s"}}), "format spec the kit never writes"),
    (_with(message={"msgid": "{a:{b}}", "kwargs": {"a": "s", "b": "9"}}), "format spec the kit never writes"),
    (_with(message={"msgid": "{a!x}", "kwargs": {"a": "s"}}), "format spec the kit never writes"),
    (_with(message={"msgid": "{a", "kwargs": {"a": "s"}}), "not a format string"),
    (_with(message={"msgid": "{a}", "kwargs": {"a": [1, 2]}}), "arguments are messages, strings, numbers"),
    (_with(message={"msgid": "{a}", "kwargs": {"not an identifier": 1, "a": 1}}), "must be an identifier"),
    (_with(rule=3), "must be a string or a mapping"),
])
def test_check_result_data_from_an_untrusted_process_is_refused_with_the_reason(data, why):
    with pytest.raises(ValueError, match=why):
        CheckResult.from_dict(data)


def test_a_message_nested_past_the_limit_is_refused_before_it_is_rendered():
    deep: dict | str = "x"
    for _n in range(300):
        deep = {"msgid": "{a}", "kwargs": {"a": deep}}

    with pytest.raises(ValueError, match="nests more than 200 deep"):
        CheckResult.from_dict(_with(message=deep))


# ---------------------------------------------------------------- the sandbox's limits, as data and in words


def _watch(tmp_path, command: list[str], current: str | None, call_timeout_s: float = 60):
    import subprocess
    import time

    from autograder.support.config import Limits
    from autograder.isolation.sandbox import _watch

    (tmp_path / "out").mkdir()
    if current:
        (tmp_path / "out" / "current.json").write_text(json.dumps({"probe": current}))
    limits = Limits(call_timeout_s=call_timeout_s, startup_timeout_s=60)
    proc = subprocess.Popen(command)
    try:
        return _watch(proc, tmp_path, limits, time.monotonic() + 60, {})
    finally:
        proc.kill()
        proc.wait()


def test_a_call_past_its_time_limit_is_a_timeout_by_kind_and_says_so_in_the_readers_language(tmp_path):
    from autograder.isolation.sandbox import Ended

    ending = _watch(tmp_path, ["sleep", "30"], current="relabel", call_timeout_s=0.3)

    assert (ending.how, ending.status) == (Ended.CALL_TIME_LIMIT, "timeout")
    assert str(ending.message) == "it ran past the time limit of 0.3 s and was stopped"
    assert ending.message.render(KO) == "제한 시간 0.3초를 넘겨 중지되었습니다"


def test_a_process_that_exits_mid_call_crashed_and_its_exit_code_is_an_argument_not_text(tmp_path):
    from autograder.isolation.sandbox import Ended

    ending = _watch(tmp_path, ["sh", "-c", "exit 3"], current="relabel")

    assert (ending.how, ending.status) == (Ended.EXITED, "crashed")
    assert ending.message == Message("the process exited with code {code}", {"code": 3})


def test_a_check_quoting_a_limit_message_renders_it_in_the_readers_language(sample_grader, probe_call):
    from autograder.hidden.every_check import checks_for
    from autograder.isolation.sandbox import Ended, Ending

    check = checks_for(("relabel",))[0]
    ending = Ending(Ended.CALL_TIME_LIMIT,
                    _("it ran past the time limit of {seconds:g} s and was stopped").format(seconds=60))
    call = dataclasses.replace(probe_call(lambda y: y % 2, check.probe_name), status="timeout",
                               error={"message": ending.message})

    result = sample_grader.run_check(check, {check.probe_name: call})

    assert "did not finish within the time limit (it ran past the time limit of 60 s and was stopped)" in \
        result.message_text(EN)
    assert "제한 시간 60초를 넘겨 중지되었습니다" in result.message_text(KO), result.message_text(KO)


def test_every_message_the_kit_writes_passes_the_checks_on_untrusted_messages():
    from autograder.dev.catalog import extract_msgids, placeholders
    from autograder.messages.i18n import text_from_data

    refused = {}
    for msgid in extract_msgids():
        try:
            text_from_data({"msgid": msgid, "kwargs": {name: 1 for name in placeholders(msgid)}})
        except ValueError as exc:
            refused[msgid] = str(exc)
    assert refused == {}, (f"{len(refused)} of the kit's own messages would be refused when read back from a process "
                           f"(widen i18n._SAFE_SPEC or simplify the message): {list(refused.items())[:3]}")
