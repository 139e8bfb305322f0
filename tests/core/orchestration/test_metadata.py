import json
import os
import subprocess

import pytest

from ryot.core.orchestration import metadata as checkpoint_metadata
from ryot.core.orchestration.coordinator import (
    CheckpointMetadataError,
    OptimizationOrchestrator,
)
from tests.tiny_models import orchestrator_with_history


@pytest.fixture
def orch():
    return orchestrator_with_history()


def test_metadata_has_provenance_and_statistics(orch):
    meta = orch.get_checkpoint_metadata()
    assert meta["hardware"]["kind"] in ("cpu", "cuda")
    assert meta["ryot_version"]
    assert meta["gate_statistics"] == {"checks": 1, "passed": 0, "violations": {
        "loss": 0, "grad_norm": 0, "compression_error": 1}}
    assert [a["param"] for a in meta["resolver_adjustments"]] == [
        "compression.block_size", "rlvr.kv_page_size"]
    assert meta["sha256"] == checkpoint_metadata.content_sha256(meta)
    json.dumps(meta, allow_nan=False)


def test_git_commit_is_recorded_inside_a_checkout(orch):
    inside = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True,
                            cwd=os.path.dirname(checkpoint_metadata.__file__)).returncode == 0
    commit = orch.get_checkpoint_metadata()["git_commit"]
    assert (commit is not None) == inside


def test_file_round_trip_restores_an_equal_orchestrator(orch, tmp_path):
    path = tmp_path / "deep" / "ckpt.meta.json"
    orch.save_checkpoint_metadata(path)
    restored = OptimizationOrchestrator.load_checkpoint_metadata(path)
    assert restored.state == orch.state
    assert restored.history == orch.history
    assert restored.resolver_adjustments == orch.resolver_adjustments
    assert restored.gate_violations == orch.gate_violations
    assert [p.name for p in path.parent.iterdir()] == ["ckpt.meta.json"]  # no temp file left


def test_a_flipped_byte_is_detected(orch, tmp_path):
    path = tmp_path / "m.json"
    orch.save_checkpoint_metadata(path)
    text = path.read_text().replace('"step": 300', '"step": 301')
    path.write_text(text)
    with pytest.raises(CheckpointMetadataError, match=r"sha256 mismatch at /sha256"):
        OptimizationOrchestrator.load_checkpoint_metadata(path)


@pytest.mark.parametrize("content, fragment", [
    ("{not json", "line 1, column 2"),
    ('{"a": NaN}', "NaN is not valid JSON"),
    ("[]", "invalid at / (document root)"),
    (b"\xff\xfe", "not UTF-8 text"),
])
def test_unreadable_files_name_the_file_and_position(tmp_path, content, fragment):
    path = tmp_path / "bad.json"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(CheckpointMetadataError) as info:
        checkpoint_metadata.load(path)
    assert str(path) in str(info.value) and fragment in str(info.value)


def test_schema_errors_carry_a_json_pointer(orch):
    meta = orch.get_checkpoint_metadata()
    meta["state"]["compression"]["bits"] = 3
    meta = checkpoint_metadata.seal(meta)
    with pytest.raises(CheckpointMetadataError, match=r"at /state/compression/bits"):
        OptimizationOrchestrator.from_checkpoint_metadata(meta)


def test_incompatible_state_is_refused_even_when_sealed(orch):
    meta = orch.get_checkpoint_metadata()
    meta["state"]["rlvr"]["kv_page_size"] = 100
    with pytest.raises(CheckpointMetadataError, match="incompatible"):
        OptimizationOrchestrator.from_checkpoint_metadata(checkpoint_metadata.seal(meta))


def test_an_interrupted_write_leaves_the_old_file(orch, tmp_path, monkeypatch):
    path = tmp_path / "m.json"
    orch.save_checkpoint_metadata(path)
    before = path.read_bytes()

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    orch.snapshot_configuration(4, 400)
    with pytest.raises(OSError, match="disk full"):
        orch.save_checkpoint_metadata(path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["m.json"]
