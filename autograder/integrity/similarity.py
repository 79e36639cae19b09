"""How alike each pair of students' own code is: copydetect's fingerprints of normalised code, compared Dolos' way.

What is compared is each student's own code, read with nbformat: the solution cells and the cells they added
(``notebook_runner.plan_notebook``'s student cells; the provided and check cells are the course's). Each cell is
normalised with copydetect's ``filter_code`` (names, strings, comments and layout do not count) and cut into
copydetect's fingerprints: every run of ``NOISE_THRESHOLD`` characters of normalised code (about one statement),
hashed. Two kinds of code are nobody's own, and their fingerprints are removed before comparing:

* boilerplate: the release notebook's code (the stubs, the provided cells); the lecture's published code as the
  lecture prints it (``integrity/lecture_code.py``: ``width = 28``, ``input_dim=width*height``, the three recipes
  whole, and their lines as students write them into the release's functions); the kit's paraphrases of it
  (``grader/reference.py``'s solutions and ``course/examples.py``'s lecture-style answers), read as text so that
  no TensorFlow is imported; and the instructor's own files and folders (``similarity.boilerplate``: their
  slides' code, last year's solution);
* common code: a fingerprint that more than ``similarity.common_code_share`` of the class has (Dolos' common-code
  threshold): what many students write alike is the assignment's natural answer, not a copy. A fingerprint that
  only three students share (one source, two copiers) is never common, however small the class.

Each notebook is fingerprinted once; an inverted index from fingerprint to students gives the pairs that share
anything, and only those are compared (every other pair scores 0). A pair's score is the larger of:

* Dolos' similarity: the characters of both students' own code that the other has, over both students' own code
  (a student with little own code does not reach a high score from one small shared statement), counted in full
  only once they share ``FULL_FRAGMENT`` characters of own code each, in proportion below (two students who
  each copy the lecture and write little else share all of that little by chance: a split written the same way);
* the longest fragment they share (consecutive fingerprints, in the same order in both, small gaps allowed where
  common code was removed) against ``FULL_FRAGMENT`` characters: one copied function among original ones is a
  small share of the code, but a long shared fragment, which independent students do not write.

Exact duplicates (the same notebook file, or the same own code once normalised) are listed first; untouched or
lecture-only notebooks are not duplicates of each other, since nothing of their own is left to share.
"""

from __future__ import annotations

import ast
import bisect
import hashlib
import importlib.util
import itertools
import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import SimpleNamespace

import numpy as np
from copydetect import defaults
from copydetect.utils import filter_code, hashed_kgrams, highlight_overlap

from autograder.support.notebook_file import NotebookError, read_notebook
from autograder.engine.notebook_runner import STUDENT, plan_notebook
from autograder.submissions import NothingToGrade, Refused, Submission, find_submissions
from autograder.submissions.reading import MB

# copydetect's own default: a fingerprint spans 25 characters of normalised code (about one statement); every one
# is kept (no winnowing), since the class's notebooks are small.
NOISE_THRESHOLD = defaults.NOISE_THRESHOLD
# A fingerprint shared by three students is what one source and two copiers look like: never common code.
NEVER_COMMON = 3
# A shared fragment of this many characters of normalised code (about ten statements: most of a model function
# written one's own way) scores 1.0; shorter ones in proportion.
FULL_FRAGMENT = 240
# Within one fragment, matching fingerprints may be this far apart (in characters) on both sides: the gap
# a removed common statement leaves.
FRAGMENT_GAP = 2 * NOISE_THRESHOLD
# Between cells in the shown code.
CELL_BREAK = "\n\n"
PACKAGE = Path(__file__).resolve().parent.parent
RELEASE = PACKAGE.parent / "assignments"


class SimilarityError(ValueError):
    """The similarity report cannot start (no notebooks, no release notebook)."""


@dataclass
class NormalisedCell:
    """One cell as copydetect normalises it, and where it lies in the student's code (raw and normalised)."""

    raw_start: int
    start: int
    text: str
    offsets: np.ndarray = field(repr=False)

    def to_raw(self, position: int) -> int:
        """A position in the normalised cell, in the raw code (copydetect's own translation)."""
        local = position - self.start
        if len(self.offsets):
            local += int(self.offsets[:, 1][np.clip(np.searchsorted(self.offsets[:, 0], local), 0,
                                                     self.offsets.shape[0] - 1)])
        return self.raw_start + local


@dataclass
class StudentCode:
    """One student's own code and its fingerprints (boilerplate and common code removed): hash -> positions."""

    student: str
    path: Path
    sha256: str
    code: str
    cells: list[NormalisedCell] = field(repr=False)
    fingerprints: dict[int, list[int]] = field(repr=False)
    own_length: int = 0  # characters of normalised code their fingerprints cover

    @property
    def normalised(self) -> str:
        """The code as it is compared: names, strings and comments normalised, layout dropped."""
        return "\n".join(c.text for c in self.cells)

    @property
    def has_own_code(self) -> bool:
        return bool(self.fingerprints)

    def to_raw(self, position: int) -> int:
        starts = [c.start for c in self.cells]
        return self.cells[max(0, bisect.bisect_right(starts, position) - 1)].to_raw(position)


@dataclass(frozen=True)
class Pair:
    """Two students: how much of each one's own code is found in the other's, and their longest shared fragment."""

    first: str
    second: str
    share_of_first: float
    share_of_second: float
    shared_characters: int  # of both students' own code together
    longest_fragment: int = 0  # characters of normalised code
    own_characters: int = 0  # both students' own code together
    duplicate: bool = False  # an exact duplicate (the same file, or the same code once normalised): scores 1.0

    @property
    def similarity(self) -> float:
        """Dolos' similarity: the shared characters of both over both students' own code."""
        return self.shared_characters / self.own_characters if self.own_characters else 0.0

    @property
    def fragment_score(self) -> float:
        return min(1.0, self.longest_fragment / FULL_FRAGMENT)

    @property
    def similarity_score(self) -> float:
        """Dolos' similarity, counted in full once the two share ``FULL_FRAGMENT`` characters of own code each
        (on average), in proportion below: a student whose own code, the lecture removed, is a three-line split
        shares all of it with anyone who writes that split alike, and a share of a few lines is no evidence."""
        return self.similarity * min(1.0, self.shared_characters / (2 * FULL_FRAGMENT))

    @property
    def score(self) -> float:
        return 1.0 if self.duplicate else max(self.similarity_score, self.fragment_score)

    @property
    def students(self) -> tuple[str, str]:
        return self.first, self.second


@dataclass(frozen=True)
class DuplicateGroup:
    """Students whose submissions are the same: the same file, or the same code after normalisation."""

    students: tuple[str, ...]
    same_file: bool


@dataclass
class SimilarityReport:
    assignment: str
    threshold: float
    common_code_share: float
    students: list[StudentCode]
    pairs: list[Pair]  # every pair that shares a fingerprint, highest score first (all others score 0)
    duplicates: list[DuplicateGroup]
    unreadable: list[Refused]
    common_fingerprints: int  # fingerprints dropped as common code

    @property
    def flagged(self) -> list[Pair]:
        return [p for p in self.pairs if p.score >= self.threshold]

    @property
    def enough_students(self) -> bool:
        return len(self.students) >= 2

    @property
    def duplicated_pairs(self) -> set[frozenset[str]]:
        return {frozenset(p) for g in self.duplicates for p in itertools.combinations(g.students, 2)}

    def code_of(self, student: str) -> StudentCode:
        return next(s for s in self.students if s.student == student)


# ---------------------------------------------------------------- what is nobody's own code


def release_notebook_path(assignment: str, root: Path | None = None) -> Path:
    """The release notebook: the course's ``release/`` (nbgrader) or the kit's ``assignments/``."""
    for base in ([root / "release", root / "assignments"] if root else []) + [RELEASE]:
        path = base / assignment / f"{assignment}.ipynb"
        if path.is_file():
            return path
    raise SimilarityError(f"no release notebook {assignment}.ipynb under release/ or assignments/; the similarity "
                          f"report removes its code before comparing, so it needs it")


def _module_source(module: str) -> str:
    # Read as text, not imported: the reference imports Keras, and this report must not need TensorFlow.
    return Path(importlib.util.find_spec(module).origin).read_text(encoding="utf-8")


def reference_solutions() -> dict[str, str]:
    """The reference solution of each function (``grader/reference.py``), without nbgrader's markers."""
    text, found = _module_source("autograder.grader.reference"), {}
    for node in ast.parse(text).body:
        if isinstance(node, ast.FunctionDef):
            lines = ast.get_source_segment(text, node).splitlines()
            found[node.name] = "\n".join(line for line in lines if "### BEGIN SOLUTION" not in line
                                         and "### END SOLUTION" not in line)
    return found


def lecture_style_answers() -> dict[str, str]:
    """The lecture-style answers of ``course/examples.py`` (Sequential().add(...), as the lecture writes them)."""
    text = _module_source("autograder.course.examples")
    for node in ast.parse(text).body:
        if isinstance(node, ast.AnnAssign) and getattr(node.target, "id", None) == "LECTURE_STYLE":
            return dict(ast.literal_eval(node.value))
    raise SimilarityError("autograder/course/examples.py no longer defines LECTURE_STYLE; update lecture_style_answers")


def with_release_docstring(answer: str, stub: str) -> str:
    """A lecture answer as a student writes it into the release's cell: the stub's docstring under its def line."""
    stub_lines = stub.splitlines()
    start = next((i for i, line in enumerate(stub_lines) if line.startswith("def ")), None)
    docstring = [line for line in stub_lines[start + 1:] if "YOUR CODE HERE" not in line
                 and "NotImplementedError" not in line] if start is not None else []
    lines = answer.splitlines()
    def_line = next((i for i, line in enumerate(lines) if line.startswith("def ")), None)
    if def_line is None or not docstring:
        return answer
    return "\n".join(lines[:def_line + 1] + docstring + lines[def_line + 1:])


def lecture_code(release=None) -> list[str]:
    """The lecture's published code as the kit holds it: the lecture's recipes as printed, its lines in the
    release's functions, the reference solutions and the lecture-style answers (the answers also under the
    release's docstrings, as students write them)."""
    from autograder.integrity.lecture_code import LECTURE_ANSWERS, lecture_texts

    stubs = {(c.metadata.get("nbgrader") or {}).get("grade_id"): _cell_text(c) for c in (release.cells if release else ())
             if c.cell_type == "code" and (c.metadata.get("nbgrader") or {}).get("solution")}
    answers = [*lecture_style_answers().items(), *LECTURE_ANSWERS.items()]
    return [*lecture_texts(), *reference_solutions().values(), *(a for _, a in answers),
            *(with_release_docstring(a, stubs[f]) for f, a in answers if f in stubs)]


def instructor_boilerplate(paths: tuple[str, ...] | list[str], root: Path) -> list[str]:
    """The code of the instructor's boilerplate files and folders (``similarity.boilerplate``, relative to
    course.yml's folder): each ``.py`` file as text, each notebook's code cells; a folder's, recursively."""
    texts = []
    for entry in paths:
        path = (Path(root) / entry).resolve()
        if path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in BOILERPLATE_SUFFIXES)
        elif path.is_file():
            files = [path]
        else:
            raise SimilarityError(f"similarity.boilerplate names {entry!r}, but {path} is neither a file nor a folder; "
                                  f"fix the path in course.yml (relative to {Path(root).resolve()}) or remove it")
        for file in files:
            texts += _boilerplate_of(file, entry)
    return texts


# What a boilerplate folder's files are read as: Python source, or a notebook's code cells.
BOILERPLATE_SUFFIXES = (".py", ".ipynb")


def _boilerplate_of(file: Path, entry: str) -> list[str]:
    try:
        if file.suffix == ".ipynb":
            return [_cell_text(c) for c in read_notebook(file).cells if c.cell_type == "code"]
        return [file.read_text(encoding="utf-8")]
    except (NotebookError, OSError, UnicodeDecodeError) as exc:
        raise SimilarityError(f"the boilerplate file {file} (similarity.boilerplate: {entry!r}) cannot be read: "
                              f"{getattr(exc, 'strerror', None) or exc}; fix or remove it") from None


def _cell_text(cell) -> str:
    return "".join(cell.source) if isinstance(cell.source, list) else cell.source


def release_code(release) -> list[str]:
    return [_cell_text(c) for c in release.cells if c.cell_type == "code"]


class Normaliser:
    """copydetect's ``filter_code`` of each distinct cell, once per report: many students hand in the same cells."""

    def __init__(self):
        self._done: dict[str, tuple[str, np.ndarray]] = {}

    def __call__(self, text: str) -> tuple[str, np.ndarray]:
        if text not in self._done:
            self._done[text] = filter_code(text, "cell.py", language="python")
        return self._done[text]


def kgram_hashes(normalised: str) -> list[int]:
    """copydetect's fingerprints of one normalised cell: every k-gram, hashed (no fingerprint spans two cells)."""
    return hashed_kgrams(normalised, NOISE_THRESHOLD).tolist() if len(normalised) >= NOISE_THRESHOLD else []


def boilerplate_fingerprints(texts: list[str], normalise: Normaliser | None = None) -> set[int]:
    """Every fingerprint of the boilerplate."""
    normalise = normalise or Normaliser()
    return {h for text in texts for h in kgram_hashes(normalise(text.strip())[0])}


# ---------------------------------------------------------------- reading each student's own code


class CellKinds:
    """``plan_notebook``'s verdict on each distinct cell, once per report: most cells are the release's, alike
    in every notebook, and a cell's kind depends on that cell alone."""

    def __init__(self, release):
        self.release = release
        self._kinds: dict[tuple, str] = {}

    def kind(self, cell) -> str:
        meta = json.dumps((cell.get("metadata") or {}).get("nbgrader"), sort_keys=True, default=str)
        key = (cell.get("cell_type"), meta, _cell_text(cell))
        if key not in self._kinds:
            plan = plan_notebook(SimpleNamespace(cells=[cell]), self.release)
            self._kinds[key] = plan[0].kind if plan else ""
        return self._kinds[key]


def own_cells(nb, kinds: CellKinds) -> list[tuple[int, str]]:
    """The student's solution cells and added cells (number, source), as ``plan_notebook`` tells them apart."""
    return [(number, _cell_text(cell).strip()) for number, cell in enumerate(nb.cells, start=1)
            if cell.get("cell_type") == "code" and _cell_text(cell).strip() and kinds.kind(cell) == STUDENT]


def read_student(submission: Submission, kinds: CellKinds, boilerplate: set[int],
                 normalise: Normaliser) -> StudentCode | Refused:
    try:
        nb = read_notebook(submission.path)
        cells = own_cells(nb, kinds)
    except NotebookError as exc:
        return Refused(submission.student, str(exc))
    except Exception as exc:  # a notebook nbformat reads but whose cells are malformed
        return Refused(submission.student, f"{submission.path}: its cells cannot be read ({type(exc).__name__}: {exc})")
    code, normalised, fingerprints, start = "", [], {}, 0
    for number, source in cells:
        code += (CELL_BREAK if code else "") + f"# cell {number}\n"
        text, offsets = normalise(source)
        normalised.append(NormalisedCell(len(code), start, text, offsets))
        code += source
        for i, h in enumerate(kgram_hashes(text)):
            if h not in boilerplate:
                fingerprints.setdefault(h, []).append(start + i)
        start += len(text) + 1  # the cells' normalised code is joined by a newline, which filter_code never leaves
    return StudentCode(submission.student, submission.path, submission.sha256, code, normalised, fingerprints)


def covered(starts) -> list[tuple[int, int]]:
    """The characters that fingerprints starting at ``starts`` cover, as (start, end) slices."""
    slices: list[list[int]] = []
    for s in sorted(starts):
        if slices and s <= slices[-1][1]:
            slices[-1][1] = max(slices[-1][1], s + NOISE_THRESHOLD)
        else:
            slices.append([s, s + NOISE_THRESHOLD])
    return [(a, b) for a, b in slices]


def coverage(starts) -> int:
    return sum(b - a for a, b in covered(starts))


def common_fingerprints(students: list[StudentCode], share: float) -> set[int]:
    """The fingerprints more than ``share`` of the class has (and always more than three students)."""
    counts: dict[int, int] = {}
    for s in students:
        for h in s.fingerprints:
            counts[h] = counts.get(h, 0) + 1
    limit = max(share * len(students), NEVER_COMMON)
    return {h for h, n in counts.items() if n > limit}


def drop_fingerprints(student: StudentCode, dropped: set[int]) -> None:
    """Remove the common fingerprints from one student's, and measure how much own code is left."""
    if dropped:
        student.fingerprints = {h: p for h, p in student.fingerprints.items() if h not in dropped}
    student.own_length = coverage(p for positions in student.fingerprints.values() for p in positions)


# ---------------------------------------------------------------- comparing


def matches(a: StudentCode, b: StudentCode, shared=None) -> list[tuple[int, int]]:
    """Every (position in a, position in b) of a fingerprint both have."""
    shared = a.fingerprints.keys() & b.fingerprints.keys() if shared is None else shared
    return [(pa, pb) for h in shared for pa in a.fingerprints[h] for pb in b.fingerprints[h]]


def longest_fragment(found: list[tuple[int, int]]) -> int:
    """The longest fragment both share, in characters of own code: shared fingerprints in the same order and at
    the same distances in both (one offset between the two), consecutive ones at most ``FRAGMENT_GAP`` apart (the
    gap that removed lecture or common code leaves); what counts is the own code its fingerprints cover."""
    by_offset: dict[int, list[int]] = {}
    for pa, pb in found:
        by_offset.setdefault(pa - pb, []).append(pa)
    longest = 0
    for starts in by_offset.values():
        if len(starts) * NOISE_THRESHOLD <= longest:
            continue
        starts.sort()
        chain = [starts[0]]
        for s in starts[1:]:
            if s - chain[-1] > FRAGMENT_GAP:
                longest = max(longest, coverage(chain))
                chain = []
            chain.append(s)
        longest = max(longest, coverage(chain))
    return longest


def compare(a: StudentCode, b: StudentCode, shared=None) -> Pair:
    found = matches(a, b, shared)
    if not found:
        return Pair(a.student, b.student, 0.0, 0.0, 0, 0, a.own_length + b.own_length)
    in_a, in_b = coverage({pa for pa, _ in found}), coverage({pb for _, pb in found})
    return Pair(a.student, b.student, in_a / a.own_length if a.own_length else 0.0,
                in_b / b.own_length if b.own_length else 0.0, in_a + in_b, longest_fragment(found),
                a.own_length + b.own_length)


def compare_class(students: list[StudentCode]) -> list[Pair]:
    """Every pair, highest score first: the pairs that share a fingerprint (found through an inverted index from
    fingerprint to students) compared, every other pair scored 0 without comparing."""
    index: dict[int, list[int]] = {}
    for i, s in enumerate(students):
        for h in s.fingerprints:
            index.setdefault(h, []).append(i)
    shared: dict[tuple[int, int], list[int]] = {}
    for h, holders in index.items():
        for i, j in itertools.combinations(holders, 2):
            shared.setdefault((i, j), []).append(h)
    pairs = [compare(students[i], students[j], shared[(i, j)]) if (i, j) in shared else
             Pair(students[i].student, students[j].student, 0.0, 0.0, 0, 0,
                  students[i].own_length + students[j].own_length)
             for i, j in itertools.combinations(range(len(students)), 2)]
    return sorted(pairs, key=_rank)


def _rank(p: Pair) -> tuple:
    return -p.score, -p.similarity, p.first, p.second


def exact_duplicates(students: list[StudentCode], release_sha256: str) -> list[DuplicateGroup]:
    """Groups of students with the same notebook file, or the same own code after normalisation."""
    groups = []
    by_file: dict[str, list[str]] = {}
    for s in students:
        if s.sha256 != release_sha256:  # the untouched release, handed in twice, is no copy
            by_file.setdefault(s.sha256, []).append(s.student)
    same_file = [tuple(g) for g in by_file.values() if len(g) > 1]
    groups += [DuplicateGroup(g, True) for g in same_file]
    in_file_group = {frozenset(g) for g in same_file}
    by_code: dict[str, list[str]] = {}
    for s in students:
        if s.has_own_code:  # lecture-only notebooks are alike by design
            by_code.setdefault(s.normalised, []).append(s.student)
    groups += [DuplicateGroup(tuple(g), False) for g in by_code.values()
               if len(g) > 1 and frozenset(g) not in in_file_group]
    return sorted(groups, key=lambda g: (not g.same_file, -len(g.students), g.students))


def side_by_side(a: StudentCode, b: StudentCode) -> tuple[str, str]:
    """Both students' code as HTML (escaped), the fragments they share in ``<mark>``."""
    found = matches(a, b)
    return (_highlighted(a, covered({pa for pa, _ in found})), _highlighted(b, covered({pb for _, pb in found})))


def _highlighted(student: StudentCode, slices: list[tuple[int, int]]) -> str:
    from markupsafe import escape

    if not slices:
        return str(escape(student.code))
    raw = np.array([[student.to_raw(s) for s, _ in slices], [student.to_raw(e) for s, e in slices]], dtype=int)
    html, _ = highlight_overlap(student.code, raw, "<mark>", "</mark>", escape_html=True)
    return html


def similarity_report(submissions: list[Submission], refused: list[Refused], release_path: Path, assignment: str,
                      threshold: float, common_code_share: float, boilerplate: list[str] = ()) -> SimilarityReport:
    """Every pair of the class compared; unreadable notebooks listed with the reason, never left out.
    ``boilerplate``: more code that is nobody's own (the instructor's, ``instructor_boilerplate``)."""
    try:
        release = read_notebook(release_path)
        release_sha256 = hashlib.sha256(Path(release_path).read_bytes()).hexdigest()
    except NotebookError as exc:
        raise SimilarityError(f"the release notebook cannot be read: {exc}") from None
    normalise, kinds = Normaliser(), CellKinds(release)
    boilerplate = boilerplate_fingerprints(release_code(release) + lecture_code(release) + list(boilerplate),
                                         normalise)
    students, unreadable = [], list(refused)
    for submission in submissions:
        read = read_student(submission, kinds, boilerplate, normalise)
        (unreadable if isinstance(read, Refused) else students).append(read)
    common = common_fingerprints(students, common_code_share)
    for s in students:
        drop_fingerprints(s, common)
    duplicates = exact_duplicates(students, release_sha256)
    same = {frozenset(p) for g in duplicates for p in itertools.combinations(g.students, 2)}
    # An exact duplicate scores 1.0 however little own code it holds: the same code is no coincidence of a
    # few lines, the whole notebook is alike.
    pairs = sorted((replace(p, duplicate=True) if frozenset(p.students) in same else p for p in compare_class(students)),
                   key=_rank)
    return SimilarityReport(assignment, threshold, common_code_share, students, pairs, duplicates,
                            sorted(unreadable, key=lambda r: r.student), len(common))


def class_similarity(path: Path, config) -> SimilarityReport:
    """The similarity report of the class under ``path`` (a course root or a folder of notebooks)."""
    try:
        submissions, refused = find_submissions(Path(path), config.assignment,
                                                config.limits.notebook_size_limit_mb * MB)
    except NothingToGrade as exc:
        raise SimilarityError(str(exc)) from None
    return similarity_report(submissions, refused, release_notebook_path(config.assignment, config.root),
                             config.assignment, config.similarity.threshold, config.similarity.common_code_share,
                             instructor_boilerplate(config.similarity.boilerplate, config.root))
