"""The accuracy check: a student's model, trained under the grading protocol, reaches the reference's level."""

from __future__ import annotations

from autograder.evidence.call_record import Call
from autograder.checks.architecture import model_as_built
from autograder.evidence.layer_rows import describe_layers
from autograder.checks.registry import rule
from autograder.messages.i18n import _


@rule("accuracy", needs_training=True)
def check_model_reaches_reference_accuracy(call: Call) -> None:
    """The model's test accuracy under the grading protocol is at least the calibrated threshold."""
    # Trained before anything is judged, whatever the verdict: the report shows every trained model's
    # curves, and a grader without a threshold says so before any other failure.
    outcome, threshold, reference_summary = call.train_under_protocol()
    # A model without an input shape is built for the lecture's input, as the grading protocol trains
    # it: the missing input costs only the architecture group.
    model, _note = model_as_built(call)
    output_shape = tuple(getattr(model, "output_shape", ()) or ())
    if output_shape[1:] != (1,):
        # Binary accuracy against 0/1 labels broadcasts over extra units and would look fine.
        raise AssertionError(_(
            "the model from {call} outputs shape {shape}, expected (None, 1): one probability "
            "per image. Its accuracy is not measured. Hint: end the model in Dense(1, activation='sigmoid')."
        ).format(call=call.text, shape=output_shape))
    layers = describe_layers(model)
    if not layers or "activation=sigmoid" not in layers[-1].settings:
        # A relu or linear output can still sort the classes on a lucky seed; its "accuracy" is not
        # that of a probability, so the verdict must not depend on the seed.
        raise AssertionError(_(
            "the model from {call} ends in {layer} ({settings}), not a sigmoid: its outputs are not "
            "probabilities, so its accuracy is not measured. Hint: end the model in Dense(1, activation='sigmoid')."
        ).format(call=call.text, layer=layers[-1].type if layers else "-", settings=layers[-1].settings if layers else ""))
    if outcome is None or outcome.error:
        raise AssertionError(_(
            "the model from {call} could not be trained under the grading protocol: {error}. "
            "Hint: the grader feeds it the reference inputs and 0/1 labels with binary cross-entropy; the "
            "model must take them and end in Dense(1, activation='sigmoid')."
        ).format(call=call.text, error=outcome.error if outcome else _("no model")))
    if outcome.accuracy >= threshold:
        return
    hint = _("compare the model with the lecture's; the layers check shows the first difference.")
    if outcome.accuracy < 0.6:
        hint = _("an accuracy near 50% means the model predicts one class for everything: check the output "
                 "layer (Dense(1, activation='sigmoid')) and that the layers are trainable.")
    raise AssertionError(_(
        "the model from {call} reached test accuracy {accuracy:.4f} under the grading protocol, "
        "below the threshold {threshold:.4f} ({reference}). Hint: {hint}"
    ).format(call=call.text, accuracy=outcome.accuracy, threshold=threshold, reference=reference_summary, hint=hint))
