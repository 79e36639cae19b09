"""The report's pictures, drawn as in the lecture and returned as base64 PNG data URIs.

Plot text is translated like the rest of the report; when no font with Hangul glyphs is
installed, plots fall back to English rather than drawing empty boxes.
"""

from __future__ import annotations

import base64
import io
from functools import lru_cache

import numpy as np

from autograder.messages.i18n import ENGLISH, Translator, _

_KOREAN_FONTS = ("NanumGothic", "NanumBarunGothic", "Noto Sans CJK KR", "Noto Sans KR", "UnDotum")


@lru_cache(maxsize=1)
def korean_font() -> str | None:
    """The name of an installed font with Hangul glyphs, or None."""
    from matplotlib import font_manager

    installed = {f.name for f in font_manager.fontManager.ttflist}
    return next((name for name in _KOREAN_FONTS if name in installed), None)


def plot_translator(translator: Translator) -> Translator:
    """The translator for plot text: English when Korean is asked for but no Hangul font exists."""
    return translator if translator.lang != "ko" or korean_font() else ENGLISH


def _figure(**kwargs):
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt.subplots(**kwargs)


def png_data_uri(fig) -> str:
    """The figure as a data: URI holding a PNG (and the figure closed)."""
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=80, bbox_inches="tight")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _font_kwargs(translator: Translator) -> dict:
    return {"fontfamily": korean_font()} if translator.lang == "ko" and korean_font() else {}


def _legend_font(font: dict) -> dict:
    return {"family": font["fontfamily"], "size": 8} if font else {"size": 8}


def training_curves(student, reference, title: str, translator: Translator) -> str:
    """Running loss (left axis) and accuracy (right axis) per step, the student's solid, the reference's dashed."""
    t = plot_translator(translator)
    font = _font_kwargs(t)
    fig, ax_loss = _figure(figsize=(6.4, 3.6))
    ax_acc = ax_loss.twinx()
    for outcome, style, who in ((reference, "--", t(_("reference"))), (student, "-", t(_("yours")))):
        history = outcome.history if outcome is not None else {}
        steps = history.get("step", [])
        if not steps:
            continue
        ax_loss.plot(steps, history["step_loss"], "y" + style, label=t(_("{who}: loss"), who=who))
        ax_acc.plot(steps, history["step_accuracy"], "b" + style, label=t(_("{who}: accuracy"), who=who))
    ax_loss.set_xlabel(t(_("training step")), **font)
    ax_loss.set_ylabel(t(_("loss")), **font)
    ax_acc.set_ylabel(t(_("accuracy")), **font)
    ax_acc.set_ylim(0, 1.02)
    ax_loss.legend(loc="upper left", prop=_legend_font(font))
    ax_acc.legend(loc="lower left", prop=_legend_font(font))
    ax_loss.set_title(title, **font)
    return png_data_uri(fig)


def _class_name(label: int, t: Translator) -> str:
    return t(_("odd")) if int(label) == 1 else t(_("even"))


def prediction_grid(images: np.ndarray, y_true: np.ndarray, probabilities: np.ndarray, translator: Translator) -> str:
    """A 5×5 grid of test digits titled with the real (R) and predicted (P) class, wrong ones in red."""
    t = plot_translator(translator)
    font = _font_kwargs(t)
    fig, axes = _figure(nrows=5, ncols=5, figsize=(7, 8))
    predicted = (probabilities > 0.5).astype(int)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i >= len(images):
            continue
        ax.imshow(images[i], cmap="gray")
        caption = t(_("R: {real} P: {predicted}"), real=_class_name(y_true[i], t), predicted=_class_name(predicted[i], t))
        ax.set_title(caption, fontsize=9, color="black" if predicted[i] == int(y_true[i]) else "red", **font)
    fig.tight_layout()
    return png_data_uri(fig)


def misclassified_strip(images: np.ndarray, y_true: np.ndarray, probabilities: np.ndarray, translator: Translator,
                        count: int = 10) -> str | None:
    """Up to ``count`` misclassified test digits in a row, with their predicted probability of 'odd'; None if none."""
    wrong = np.flatnonzero((probabilities > 0.5).astype(int) != y_true.astype(int))[:count]
    if len(wrong) == 0:
        return None
    t = plot_translator(translator)
    font = _font_kwargs(t)
    fig, axes = _figure(nrows=1, ncols=count, figsize=(1.2 * count, 1.8))
    for ax, index in zip(np.atleast_1d(axes), list(wrong) + [None] * count):
        ax.axis("off")
        if index is None:
            continue
        ax.imshow(images[index], cmap="gray")
        ax.set_title(t(_("R: {real}\np(odd)={p:.2f}"), real=_class_name(y_true[index], t), p=float(probabilities[index])),
                     fontsize=8, **font)
    return png_data_uri(fig)


def accuracy_comparison(builders: list[str], titles: dict[str, str], student: dict[str, float | None],
                        reference: dict[str, float | None], translator: Translator) -> str:
    """The three models' test accuracies under the grading protocol, the student's bars beside the reference's."""
    t = plot_translator(translator)
    font = _font_kwargs(t)
    fig, ax = _figure(figsize=(6.4, 3.4))
    x = np.arange(len(builders))
    for offset, values, color, label in ((-0.2, reference, "#9aa5b1", t(_("reference"))),
                                         (0.2, student, "#1f77b4", t(_("yours")))):
        heights = [values.get(b) or 0.0 for b in builders]
        bars = ax.bar(x + offset, heights, width=0.4, color=color, label=label)
        for bar, value in zip(bars, heights):
            ax.annotate(f"{value:.3f}", (bar.get_x() + bar.get_width() / 2, value), ha="center", va="bottom", fontsize=8)
    ax.set_xticks(x, [titles[b] for b in builders], **font)
    ax.set_ylim(0, 1.1)
    ax.set_ylabel(t(_("test accuracy")), **font)
    ax.legend(loc="lower right", prop=_legend_font(font))
    return png_data_uri(fig)
