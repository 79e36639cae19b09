"""Messages in English and Korean: lazy gettext messages, the Babel catalog, and the grader's language."""

from __future__ import annotations

import pytest

from autograder.dev.catalog import extract_msgids, placeholders, untranslated
from autograder.grader.grading import Grader
from autograder.messages.i18n import Message, Translator, _


def test_every_student_facing_message_has_a_korean_translation():
    missing = untranslated("ko")
    assert missing == [], (f"{len(missing)} message(s) lack a Korean translation (or its placeholders differ): "
                           f"run `python -m autograder update-catalog` and translate them in "
                           f"autograder/locale/ko/LC_MESSAGES/autograder.po: {missing[:5]}")


def test_extraction_finds_check_messages_template_text_and_check_rules():
    msgids = extract_msgids()

    assert any("has the classes inverted" in m for m in msgids)
    assert "Score by group" in msgids  # from the report template
    assert "relabel_odd_even(y) is 1 exactly where the digit is odd." in msgids  # a check's rule


def test_placeholders_are_named_with_their_format_specs_ignored():
    assert placeholders("{call} reached {accuracy:.4f}, {{literal}}") == {"call", "accuracy"}


def test_a_message_renders_in_english_by_default_and_in_korean_when_asked():
    message = _("{label}: all {total} checks passed.").format(label="relabel", total=3)

    assert str(message) == "relabel: all 3 checks passed."
    assert message.render(Translator("ko")) == "relabel: 검사 3개를 모두 통과했습니다."


def test_nested_messages_are_rendered_in_the_same_language():
    hint = _("divide by 255.")
    message = _("{diff}\nHint: {hint}").format(diff="x", hint=hint)

    assert message.render(Translator("ko")) == "x\n힌트: 255로 나누세요."


def test_an_unknown_language_is_refused_with_the_choices():
    with pytest.raises(ValueError, match=r"unknown language 'fr'; choose from en, ko"):
        Translator("fr")


def test_a_check_result_keeps_its_message_and_rule_lazy_and_renders_them_in_the_language_asked(sample_config,
                                                                                              probe_call):
    from autograder.hidden.every_check import checks_for

    check = next(c for c in checks_for(("relabel",)) if c.name.startswith("check_relabel_maps_odd"))
    calls = {check.probe_name: probe_call(lambda y: 1 - y % 2, check.probe_name)}

    result = Grader(sample_config, lang="ko").run_check(check, calls)

    assert isinstance(result.message, Message) and isinstance(result.rule, Message), (
        f"run_check renders nothing: the reader's language is chosen when the result is shown; got "
        f"{type(result.message).__name__} and {type(result.rule).__name__}")
    korean = result.message_text(Translator("ko"))
    assert "클래스가 뒤바뀌었습니다" in korean and "힌트:" in korean
    assert result.rule_text(Translator("ko")) == "relabel_odd_even(y)는 숫자가 홀수인 곳에서만 정확히 1입니다."
    english = result.message_text(Translator("en"))
    assert "has the classes inverted" in english and english == str(result.message)


def test_the_course_language_is_the_graders_default(sample_config):
    korean_course = sample_config.model_copy(update={"language": "ko"})

    assert Grader(korean_course).translator.lang == "ko"
    assert Grader(korean_course, lang="en").translator.lang == "en"
