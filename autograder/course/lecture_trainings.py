"""The lecture's three models, trained once by a trusted step: ``python -m autograder warm-training-cache``.

Most of a class builds exactly the lecture's models. nbgrader's kernels are untrusted, so none of them may file a
training; this step trains the lecture's models (the kit's lecture-style code, ``course.examples.LECTURE_STYLE``)
in the instructor's own process, before ``nbgrader autograde``, and files them in the class's training cache
(``grader.training_cache``): for ``grade`` and ``grade-all``, and, with their weights, in the cache's lecture folder,
which the kernels read, bound read-only (``course.sandboxed_kernel``, ``grader.in_kernel``).
"""

from __future__ import annotations

from autograder.course.examples import LECTURE_STYLE
from autograder.evidence.training_outcome import BUILDERS
from autograder.grader.training_cache import (TrainingCache, cache_folder, lecture_folder, lookup_outcome,
                                              store_with_weights, training_context)


def train_the_lecture_models(config, log=lambda message: None) -> dict[str, str]:
    """Train the lecture's three models (the kit's lecture-style code, ``course.examples.LECTURE_STYLE``) under
    the grading protocol in this trusted process, and file each in the class's cache (for ``grade-all`` and
    ``grade``) and, with its weights, in its lecture folder, which nbgrader's kernels read: by builder, what
    happened ("trained", "already there" or why not). Run it as ``python -m autograder warm-training-cache``
    before ``nbgrader autograde``; a kernel never writes the cache, and no student's model is ever filed here."""
    from autograder.engine.check_session import CheckSession, training_key
    from autograder.engine.training import train_and_evaluate

    session = CheckSession(config, log=log)
    main = cache_folder(config.root, config.assignment)
    context = training_context(config, session.data)
    caches = TrainingCache(main, context), TrainingCache(lecture_folder(main), context)
    namespace: dict = {}
    exec(compile("import numpy as np\n" + "\n\n".join(LECTURE_STYLE[b] for b in BUILDERS), "<lecture>", "exec"),
         namespace)
    done = {}
    for builder in BUILDERS:
        model = namespace[builder]()
        key = training_key(model, builder)
        if key is None:
            done[builder] = "its config cannot be read"
            continue
        if lookup_outcome(caches[1], key, with_weights=True) is not None and caches[0].lookup(key) is not None:
            done[builder] = "already there"
            continue
        log(f"  training the lecture's {builder} under the grading protocol ...")
        outcome = train_and_evaluate(model, builder, session.data, config.grading, config.grading.seed,
                                     timeout_s=config.limits.training_timeout_s, keep_weights=True)
        outcome.key = key
        if outcome.error is not None:
            done[builder] = f"not filed: {outcome.error}"
            continue
        caches[0].store(outcome)
        store_with_weights(caches[1], outcome)
        problem = caches[0].write_problem or caches[1].write_problem
        done[builder] = f"not filed: {problem}" if problem else f"trained in {outcome.seconds:.1f} s"
    return done
