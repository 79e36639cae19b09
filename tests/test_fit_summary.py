"""The self-check's summary "will this fit the grader?": figures against the grader's limits, flagged above half."""

from __future__ import annotations

import json

import numpy as np
import pytest

from autograder.support.config import Limits
from autograder.fit_summary import (Caps, CallsFit, ModelFit, PeakMemory, TrainingRecord, flags, measure_calls,
                                    measure_model, render_summary, summary_lines)
from autograder.evidence.call_record import Call
from autograder.messages.i18n import Translator
from autograder.support.model_caps import MAX_LAYER_VALUES, MAX_PARAMS, MAX_TOTAL_VALUES
from autograder.evidence.probes import VISIBLE_PROBES_BY_NAME

CAPS = Caps.of(Limits())  # the defaults: 60 s a call, 120 s a training, 2,048 MB, 300 s for all calls
EN = Translator("en")


def lecture_like(builder: str, **figures) -> ModelFit:
    base = dict(params=214_881, largest_values=21_632, total_values=40_000, slowest_call_s=0.4, training_s=6.0,
                memory_mb=120.0, trained_images=5000, grading_images=5000)
    return ModelFit(builder, **{**base, **figures})


def test_the_caps_are_the_graders_own():
    from autograder.isolation import untrusted_files

    assert (CAPS.params, CAPS.layer_values, CAPS.total_values) == (
        untrusted_files.MAX_PARAMS, untrusted_files.MAX_LAYER_VALUES, untrusted_files.MAX_TOTAL_VALUES)
    assert (CAPS.call_s, CAPS.training_s, CAPS.memory_mb, CAPS.submission_s) == (60, 120, 2048, 300)


def test_a_model_above_half_a_limit_is_flagged_with_its_fix_one_below_is_not_and_one_not_built_has_no_figures():
    big = lecture_like("build_cnn", largest_values=43_264)  # 26x26x64: above half of 65,536, below it
    small = lecture_like("build_mlp")
    missing = ModelFit("build_deep_cnn", no_model=measure_model("build_deep_cnn", {"x": _raised("build_deep_cnn")},
                                                                None).no_model)

    assert [(f.figure, f.over) for f in flags(big, CAPS)] == [("largest", False)]
    assert flags(small, CAPS) == [] and flags(missing, CAPS) == []
    lines = render_summary([small, big, missing], None, CAPS, EN)
    text = "\n".join(lines)

    header, limits, mlp, cnn, deep = lines[:5]
    assert header.split() == ["model", "parameters", "largest", "layer", "all", "layers", "slowest", "call",
                              "training", "memory"]
    assert limits.split()[-9:] == ["3,328,010", "65,536", "500,000", "60", "s", "120", "s", "2,048", "MB"]
    assert "!" not in mlp and "332,801" not in mlp and "21,632" in mlp
    assert "43,264 !" in cnn and "!!" not in cnn
    assert deep.startswith("build_deep_cnn") and "no model: build_deep_cnn() raised NotImplementedError" in deep
    assert not any(ch.isdigit() for ch in deep.replace("build_deep_cnn", ""))  # no figures for a model not built
    assert ("build_cnn: its largest layer's output (values per image) is 43,264, above half of the grader's limit "
            "of 65,536. To stay clear of it: pool earlier") in text
    assert "build_mlp:" not in text.split("\n", 5)[-1]  # no advice for the model below every half
    assert "Every figure measured is below half" not in text


def test_a_figure_over_its_limit_says_grading_would_fail_it():
    huge = lecture_like("build_mlp", params=4_000_000, training_s=130.0, memory_mb=1500.0)

    assert [(f.figure, f.over) for f in flags(huge, CAPS)] == [("params", True), ("training", True),
                                                               ("memory", False)]
    text = "\n".join(render_summary([huge], None, CAPS, EN))
    assert "4,000,000 !!" in text and "130 s !!" in text and "1,500 MB !" in text
    assert ("build_mlp: its parameter count is 4,000,000, over the grader's limit of 3,328,010, so grading would "
            "fail it. Fix: use a smaller Dense layer") in text
    assert "build_mlp: the memory its training took is 1,500 MB, above half" in text


def test_nothing_flagged_says_so_and_the_memory_figure_says_what_it_measured():
    text = "\n".join(render_summary([lecture_like("build_mlp")], CallsFit("prepare_cnn_input(x)", 0.01, 3.2), CAPS, EN))

    assert "Every figure measured is below half of its limit." in text
    assert ("Other calls: the slowest, prepare_cnn_input(x), took 0.01 s (limit 60 s per call); all calls "
            "together 3.2 s (limit 300 s).") in text
    assert "memory: how much this process's memory grew while the model trained" in text


def test_calls_and_training_records_become_figures():
    mlp = VISIBLE_PROBES_BY_NAME["build_mlp"]
    calls = {"build_mlp": Call(mlp, {}, {}, "ok", model=None, seconds=0.3),
             "relabel_digits": Call(VISIBLE_PROBES_BY_NAME["relabel_digits"], {}, {}, "ok", seconds=0.002),
             "split_default_n_val": Call(VISIBLE_PROBES_BY_NAME["split_default_n_val"], {}, {}, "ok", seconds=0.05)}

    fit = measure_model("build_mlp", calls, None)
    assert fit.no_model is not None and "build_mlp() returned no Keras model" in str(fit.no_model)
    calls_fit = measure_calls(calls)
    assert (calls_fit.slowest_call, calls_fit.slowest_s) == ("split_train_val(x, y)", 0.05)
    assert calls_fit.total_s == pytest.approx(0.352)


def test_a_training_on_the_sample_data_is_scaled_to_the_graders_images_and_marked(monkeypatch):
    # The figures of a built model, with the model's size counted on a stand-in (no Keras needed here).
    monkeypatch.setattr("autograder.fit_summary._size_of", lambda call: (1000, 100, 300))
    calls = {"build_cnn": Call(VISIBLE_PROBES_BY_NAME["build_cnn"], {}, {}, "ok", model=object(), seconds=0.2)}

    scaled = measure_model("build_cnn", calls, TrainingRecord(10.0, 2500, 5000, 80.0))
    assert (scaled.training_s, scaled.training_estimated, scaled.memory_mb) == (20.0, True, 80.0)
    text = "\n".join(render_summary([scaled], None, CAPS, EN))
    assert "≈20 s" in text and "the sample data's 2,500 images" in text and "the 5,000 that grading trains on" in text

    failed = measure_model("build_cnn", calls, TrainingRecord(0.1, 5000, 5000, 5.0, error="ValueError: bad shape"))
    assert failed.training_s is None and failed.memory_mb is None
    assert "build_cnn: training and memory not measured: its training under the grading protocol failed " \
           "(ValueError: bad shape)" in "\n".join(render_summary([failed], None, CAPS, EN))

    stopped = measure_model("build_cnn", calls, TrainingRecord(121.0, 5000, 5000, 300.0, timed_out=True,
                                                               error="training ran past the time limit of 120 s"))
    assert stopped.training_s == 121.0 and [f.figure for f in flags(stopped, CAPS)] == ["training"]


def test_the_korean_summary_is_translated_and_its_columns_line_up():
    from autograder.fit_summary import _width

    lines = render_summary([lecture_like("build_mlp"), lecture_like("build_cnn", largest_values=43_264)], None,
                           CAPS, Translator("ko"))
    assert not any("largest layer" in line or "above half" in line for line in lines)
    table = lines[:4]
    ends = {_width(line) for line in table}
    assert len(ends) == 1, table  # right-aligned columns end together, wide Korean characters counted twice


def test_peak_memory_sees_an_allocation_inside_the_block():
    with PeakMemory() as memory:
        block = np.ones(64 * 2**20 // 8)  # 64 MB, touched
        block.sum()
    assert memory.growth_mb is not None and 48 < memory.growth_mb < 512


@pytest.mark.filterwarnings("ignore")
def test_a_real_model_is_counted_as_the_grader_counts_it(sample_config, tmp_path):
    # One counting for both wings: the self-check's figures equal the grader's untrusted_files.model_size.
    import keras

    from autograder.engine.in_process import call_here
    from autograder.isolation.untrusted_files import model_size

    def build_cnn():
        return keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Conv2D(8, 3, activation="relu"),
                                 keras.layers.MaxPooling2D(), keras.layers.Flatten(),
                                 keras.layers.Dense(1, activation="sigmoid")])

    call = call_here(build_cnn, VISIBLE_PROBES_BY_NAME["build_cnn"], {}, {})
    assert call.model is not None and 0 < call.seconds < CAPS.call_s
    record = TrainingRecord(1.5, 5000, 5000, 42.0)
    fit = measure_model("build_cnn", {"build_cnn": call}, record)
    grader_size = model_size(json.loads(call.model.to_json()), (28, 28, 1))
    assert (fit.params, fit.largest_values, fit.total_values) == (
        grader_size.params, grader_size.largest_output, grader_size.all_outputs)
    assert fit.largest_values == 26 * 26 * 8 and fit.params == 8 * 9 + 8 + 13 * 13 * 8 + 1
    assert fit.largest_values < MAX_LAYER_VALUES and fit.total_values < MAX_TOTAL_VALUES and fit.params < MAX_PARAMS

    lines = summary_lines(sample_config, {"build_cnn": call}, {"build_cnn": record}, EN)
    assert any(line.startswith("build_cnn") and f"{fit.params:,}" in line for line in lines)
    assert any(line.startswith("build_mlp") and "no model: build_mlp was not called" in line for line in lines)


def _raised(builder: str) -> Call:
    return Call(VISIBLE_PROBES_BY_NAME[builder], {}, {}, "raised",
                {"type": "NotImplementedError", "message": "", "where": []}, seconds=0.001)


def test_where_memory_cannot_be_read_it_shows_no_figure_and_says_why(monkeypatch):
    monkeypatch.setattr("autograder.fit_summary.rss_bytes", lambda: None)
    with PeakMemory() as memory:
        pass
    assert memory.growth_mb is None

    text = "\n".join(render_summary([lecture_like("build_mlp", memory_mb=memory.growth_mb)], None, CAPS, EN))
    mlp = next(line for line in text.splitlines() if line.startswith("build_mlp"))
    assert mlp.endswith("–") and "memory: not measured, as this machine's memory use could not be read" in text
    assert "how much this process's memory grew" not in text
