"""Each kind of file the grader reads back from the submission's process is bounded before it is read."""

from __future__ import annotations

import io
import json
import os
import resource
import zipfile

import numpy as np
import pytest

from autograder.isolation import untrusted_files as uf


def _refused(match: str):
    return pytest.raises(uf.UntrustedFileError, match=match)


# ---------------------------------------------------------------- plain files


def test_a_file_within_its_limit_is_read(tmp_path):
    (tmp_path / "r.json").write_text('{"status": "ok"}')
    assert uf.read_json(tmp_path / "r.json") == {"status": "ok"}


def test_a_file_over_its_limit_is_refused_before_reading(tmp_path):
    (tmp_path / "r.json").write_bytes(b" " * 5000)
    with _refused(r"r\.json is 5,000 bytes, more than the 4,096"):
        uf.read_json(tmp_path / "r.json", limit=4096)


def test_a_symlink_is_not_followed(tmp_path):
    (tmp_path / "r.json").symlink_to("/dev/zero")
    with _refused(r"r\.json is a symbolic link"):
        uf.read_json(tmp_path / "r.json")


def test_a_symlinked_folder_is_not_followed(tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "r.json").write_text("{}")
    (tmp_path / "out").symlink_to(tmp_path / "real")
    with _refused(r"the folder of r\.json could not be opened"):
        uf.read_json(tmp_path / "out" / "r.json")


def test_a_fifo_does_not_hang_the_reader(tmp_path):
    os.mkfifo(tmp_path / "r.json")
    with _refused(r"r\.json is not a regular file"):
        uf.read_json(tmp_path / "r.json")


def test_deeply_nested_json_is_refused_like_bad_json(tmp_path):
    (tmp_path / "r.json").write_text("[" * 100_000 + "]" * 100_000)
    with _refused(r"r\.json is not valid JSON"):
        uf.read_json(tmp_path / "r.json")


# ---------------------------------------------------------------- .npz


def _zip(path, members: dict[str, bytes], compression=zipfile.ZIP_DEFLATED):
    with zipfile.ZipFile(path, "w", compression) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def _npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array)
    return buffer.getvalue()


def test_an_npz_of_the_expected_size_is_read(tmp_path):
    np.savez(tmp_path / "a.npz", returned_0=np.arange(20))
    arrays = uf.read_npz(tmp_path / "a.npz", uf.npz_member_limit({"y": np.zeros(20)}))
    np.testing.assert_array_equal(arrays["returned_0"], np.arange(20))


def test_an_npz_member_inflating_beyond_its_shape_is_refused(tmp_path):
    path = _zip(tmp_path / "a.npz", {"returned_0.npy": _npy(np.zeros(20, np.int64)) + b"\0" * (50 * 2**20)})
    assert path.stat().st_size < 2**20
    with _refused(r"returned_0\.npy in a\.npz is 52,429,\d+ bytes, more than the 1,048,\d+"):
        uf.read_npz(path, uf.npz_member_limit({"y": np.zeros(20)}))


def test_an_npz_header_claiming_more_than_its_bytes_is_refused(tmp_path):
    header = _npy(np.zeros(20, np.int64)).replace(b"(20,)", b"(10000000,)".ljust(5))
    path = _zip(tmp_path / "a.npz", {"returned_0.npy": header})
    with _refused(r"returned_0\.npy in a\.npz is not a valid array"):
        uf.read_npz(path, uf.npz_member_limit({"y": np.zeros(20)}))


def test_an_npz_of_many_members_is_refused_before_its_directory_is_parsed(tmp_path):
    path = _zip(tmp_path / "a.npz", {f"m{i}.npy": b"" for i in range(5000)}, zipfile.ZIP_STORED)
    with _refused(r"a\.npz holds 5,000 files; a correct answer holds at most 16"):
        uf.read_npz(path, uf.npz_member_limit({"y": np.zeros(20)}))


def test_a_truncated_npz_is_refused(tmp_path):
    np.savez(tmp_path / "a.npz", returned_0=np.arange(20))
    data = (tmp_path / "a.npz").read_bytes()
    (tmp_path / "a.npz").write_bytes(data[: len(data) // 2])
    with _refused(r"a\.npz is not a complete zip archive"):
        uf.read_npz(tmp_path / "a.npz", uf.npz_member_limit({"y": np.zeros(20)}))


# ---------------------------------------------------------------- .keras


@pytest.fixture(scope="module")
def saved_mlp(tmp_path_factory):
    from autograder.grader import reference

    path = tmp_path_factory.mktemp("keras") / "build_mlp.keras"
    reference.build_mlp().save(path)
    with zipfile.ZipFile(path) as zf:
        return {info.filename: zf.read(info) for info in zf.infolist()}


def _unbuilt(saved: dict) -> dict:
    # The config without each layer's recorded input shape, so that its sizes can be changed.
    config = json.loads(saved["config.json"])
    for layer in config["config"]["layers"]:
        layer.pop("build_config", None)
    return config


def test_a_keras_file_is_read_and_sized_like_the_lecture_model(tmp_path, saved_mlp):
    keras_file = uf.read_keras(_zip(tmp_path / "m.keras", saved_mlp))
    size = uf.model_size(keras_file.config)
    assert (size.layers, size.params) == (len(keras_file.config["config"]["layers"]), 332_801)
    uf.refuse_oversized_weights(keras_file, size)


def test_a_model_with_float64_weights_is_read_not_refused_as_oversized(tmp_path):
    # A correct model may hold its weights in float64 (8 bytes each): grade-all refused its weights as a bomb,
    # while nbgrader's kernel graded it (issue 33's goal class, h3).
    import keras

    model = keras.Sequential([keras.Input((784,)), keras.layers.Dense(256, activation="relu", dtype="float64"),
                              keras.layers.Dense(1, activation="sigmoid")])
    model.save(tmp_path / "wide.keras")
    keras_file = uf.read_keras(tmp_path / "wide.keras")
    uf.refuse_oversized_weights(keras_file, uf.model_size(keras_file.config))


def test_a_keras_member_with_path_traversal_is_refused(tmp_path, saved_mlp):
    path = _zip(tmp_path / "m.keras", {**saved_mlp, "../../escaped.txt": b"x"})
    with _refused(r"not a file saved by Keras: it holds .*'\.\./\.\./escaped\.txt'"):
        uf.read_keras(path)


def test_a_config_bomb_is_refused_at_its_cap(tmp_path, saved_mlp):
    bomb = saved_mlp["config.json"][:-1] + b" " * (200 * 2**20) + b"}"
    path = _zip(tmp_path / "m.keras", {**saved_mlp, "config.json": bomb})
    with _refused(r"config\.json in m\.keras is 209,7\d\d,\d+ bytes, more than the 1,048,576"):
        uf.read_keras(path)


def test_a_weights_bomb_is_refused_by_the_parameters_its_config_declares(tmp_path, saved_mlp):
    bomb = saved_mlp["model.weights.h5"] + b"\0" * (20 * 2**20)
    keras_file = uf.read_keras(_zip(tmp_path / "m.keras", {**saved_mlp, "model.weights.h5": bomb}))
    with _refused(r"model\.weights\.h5 in m\.keras is 22,\d+,\d+ bytes, more than the 2,8\d\d,\d+"):
        uf.refuse_oversized_weights(keras_file, uf.model_size(keras_file.config))


def test_a_config_declaring_a_huge_model_is_counted_without_allocating_it(tmp_path, saved_mlp):
    import keras

    config = _unbuilt(saved_mlp)
    dense = [layer for layer in config["config"]["layers"] if layer["class_name"] == "Dense"]
    dense[0]["config"]["units"] = 10**6  # 1.04 billion parameters: 4 GB of weights if built
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with _refused(r"larger than any model of this exercise could be: it has 1,041,\d+,\d+ parameters"):
        uf.model_size(config)
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 200 * 1024  # KB: less than 200 MB
    # Nothing was left for Keras to initialise later.
    keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 200 * 1024


def test_a_config_of_too_many_layers_is_refused_before_keras_builds_it(saved_mlp):
    config = json.loads(saved_mlp["config.json"])
    dense = next(layer for layer in config["config"]["layers"] if layer["class_name"] == "Dense")
    config["config"]["layers"] += [dense] * 100
    with _refused(r"it has 10\d layers \(at most 64\)"):
        uf.model_size(config)


def test_a_model_of_huge_activations_is_refused():
    import keras

    # Few parameters (88,000) but 86,528 values per image out of one layer: a lot of memory to train on.
    model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Conv2D(128, 3), keras.layers.Flatten(),
                              keras.layers.Dense(1)])
    with _refused(r"its layers output 86,528 values per image in one layer"):
        uf.model_size(keras.saving.serialize_keras_object(model))


def test_a_keras_zip_of_thousands_of_members_is_refused(tmp_path, saved_mlp):
    path = _zip(tmp_path / "m.keras", {**saved_mlp, **{f"assets/{i}": b"" for i in range(5000)}}, zipfile.ZIP_STORED)
    with _refused(r"m\.keras holds 5,003 files; a correct answer holds at most 16"):
        uf.read_keras(path)


def test_a_truncated_keras_file_is_refused(tmp_path, saved_mlp):
    data = _zip(tmp_path / "m.keras", saved_mlp).read_bytes()
    (tmp_path / "m.keras").write_bytes(data[: len(data) // 2])
    with _refused(r"m\.keras is not a complete zip archive"):
        uf.read_keras(tmp_path / "m.keras")


def test_a_model_without_an_input_shape_is_sized_on_the_input_it_is_trained_on():
    import keras

    # Lecture-sized as an MLP on (784,): 4,000 units; on images Dense acts per pixel, 3.1 million values per image.
    config = keras.saving.serialize_keras_object(keras.Sequential([keras.layers.Dense(4000), keras.layers.Dense(1)]))
    assert uf.model_size(config, (784,)).params == 784 * 4000 + 4000 + 4001
    with _refused(r"its layers output 3,136,000 values per image in one layer"):
        uf.model_size(config, (28, 28, 1))
    with _refused(r"its layers output 3,136,000 values per image"):
        uf.model_size(config)  # input unknown: the largest of the lecture's inputs counts
