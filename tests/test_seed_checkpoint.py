"""The seed's Lightning checkpoint, read without its package and without running pickled code (rows 55, 56)."""

import argparse
import builtins
import io
import os
import pickle
import sys
import types

import pytest
import torch
from safetensors.torch import save as safetensors_bytes

from sksurv_ecg._seed_checkpoint import load_into, read_seed_checkpoint
from sksurv_ecg.nn import DualAttentionAutoencoder, ProjectionHead
from sksurv_ecg.nn._seed_keys import _SEED_TIME_KEYS


def to_seed_layout(state_dict):
    """Invert convert_seed_state_dict: unstack ``time_blocks.<name>`` into the seed's 12 per-lead modules."""
    seed_name = {name: template for template, name in _SEED_TIME_KEYS.items()}
    out = {}
    for key, value in state_dict.items():
        prefix, _, name = key.rpartition("time_blocks.")
        if prefix and name in seed_name:
            for i in range(value.shape[0]):
                out[prefix + seed_name[name].format(i=i)] = value[i].clone()
        else:
            out[key] = value
    return out


def write_seed_checkpoint(path, autoencoder, ecg_head, text_head, monkeypatch):
    """A checkpoint in the layout of the seed's ``checkpoint_best_loss-v2.ckpt`` (Lightning 2.0)."""
    fake = types.ModuleType("multi_modal_heart.model.ecg_net_attention")

    class ECGAttentionAE:  # stands for the seed's network class, referenced by its hyper-parameters
        def __init__(self):
            self.num_leads = 12

    ECGAttentionAE.__module__ = fake.__name__
    ECGAttentionAE.__qualname__ = "ECGAttentionAE"
    fake.ECGAttentionAE = ECGAttentionAE
    state = {f"network.{k}": v for k, v in to_seed_layout(autoencoder.state_dict()).items()}
    state.update({f"ecg_projector.{k.removeprefix('net.')}": v for k, v in ecg_head.state_dict().items()})
    state.update({f"text_projector.{k.removeprefix('net.')}": v for k, v in text_head.state_dict().items()})
    state["classifier.fc.weight"] = torch.zeros(5, 128)
    state["train_rmse.sum_squared_error"] = torch.tensor(0.0)
    hparams = argparse.Namespace(ae_type="ECG_attention_512", ECG2Text=True, use_median_wave=True, lr=1e-3)
    checkpoint = {
        "epoch": 299,
        "global_step": 10200,
        "pytorch-lightning_version": "2.0.3",
        "state_dict": state,
        "hyper_parameters": {"hparams": hparams, "network": ECGAttentionAE(), "network_cls": ECGAttentionAE},
        "optimizer_states": [{"state": {}, "param_groups": [{"lr": 1e-3, "betas": (0.9, 0.95)}]}],
        "lr_schedulers": [],
        "callbacks": {},
        "loops": {},
    }
    with monkeypatch.context() as m:  # the package exists only while writing, as on the authors' machine
        for name in ("multi_modal_heart", "multi_modal_heart.model", fake.__name__):
            m.setitem(sys.modules, name, fake if name == fake.__name__ else types.ModuleType(name))
        torch.save(checkpoint, path)
    assert "multi_modal_heart" not in sys.modules


@pytest.fixture(scope="module")
def paper_models():
    torch.manual_seed(0)
    return DualAttentionAutoencoder().eval(), ProjectionHead(512), ProjectionHead(768)


def test_reads_lightning_checkpoint_without_the_seed_package(tmp_path, monkeypatch, paper_models):
    autoencoder, ecg_head, text_head = paper_models
    path = tmp_path / "checkpoint_best_loss-v2.ckpt"
    write_seed_checkpoint(path, autoencoder, ecg_head, text_head, monkeypatch)
    with pytest.raises(pickle.UnpicklingError):  # what a new user meets with torch alone
        torch.load(path, weights_only=True)

    ckpt = read_seed_checkpoint(path)
    assert ckpt.unused == ["classifier.fc.weight", "train_rmse.sum_squared_error"]
    assert ckpt.hyper_parameters["hparams"]["__class__"] == "argparse.Namespace"
    assert ckpt.hyper_parameters["hparams"]["ae_type"] == "ECG_attention_512"
    assert ckpt.hyper_parameters["network"] == {
        "__class__": "multi_modal_heart.model.ecg_net_attention.ECGAttentionAE",
        "num_leads": 12,
    }
    restored = DualAttentionAutoencoder().eval()
    load_into(restored, ckpt.autoencoder, what="autoencoder", source=path)
    x = torch.randn(1, 12, 608)
    with torch.no_grad():
        z, recon = autoencoder(x)
        z2, recon2 = restored(x)
    torch.testing.assert_close(z2, z, rtol=0, atol=0)
    torch.testing.assert_close(recon2, recon, rtol=0, atol=0)
    for name, head, width in (("ecg_projector", ecg_head, 512), ("text_projector", text_head, 768)):
        fresh = ProjectionHead(width)
        load_into(fresh, ckpt.projectors[name], what=name, source=path)
        u = torch.randn(4, width)
        torch.testing.assert_close(fresh(u), head(u), rtol=0, atol=0)


def test_wrong_configuration_names_the_keys(tmp_path, monkeypatch, paper_models):
    path = tmp_path / "seed.ckpt"
    write_seed_checkpoint(path, *paper_models, monkeypatch)
    ckpt = read_seed_checkpoint(path)
    small = DualAttentionAutoencoder(base_features=1, latent_dim=8, n_heads=1)
    with pytest.raises(ValueError, match=r"does not fit the autoencoder: .*shape mismatches \['decoder"):
        load_into(small, ckpt.autoencoder, what="autoencoder", source=path)
    del ckpt.autoencoder["encoder.attention.time_blocks.fc1_weight"]
    with pytest.raises(ValueError, match=r"missing keys \['encoder.attention.time_blocks.fc1_weight'\]"):
        load_into(DualAttentionAutoencoder(), ckpt.autoencoder, what="autoencoder", source=path)


class _CallsSystem:
    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


class _CallsEval:
    def __reduce__(self):
        return (builtins.eval, (f"open({str(self.marker)!r}, 'w').close()",))


@pytest.mark.parametrize(("payload", "name"), [(_CallsSystem, "system"), (_CallsEval, "builtins.eval")])
def test_pickled_callable_is_refused_and_nothing_runs(tmp_path, payload, name):
    marker = tmp_path / "executed"
    evil = payload()
    evil.marker = marker
    path = tmp_path / "evil.ckpt"
    torch.save({"state_dict": {"network.encoder.x": torch.zeros(1)}, "hyper_parameters": {"x": evil}}, path)
    with pytest.raises(pickle.UnpicklingError, match=rf"references \[.*{name}.*nothing in it was executed"):
        read_seed_checkpoint(path)
    assert not marker.exists()


def test_not_a_seed_checkpoint(tmp_path):
    path = tmp_path / "other.ckpt"
    torch.save({"state_dict": {"encoder.x": torch.zeros(1)}}, path)
    with pytest.raises(ValueError, match="not a Lightning checkpoint of the seed"):
        read_seed_checkpoint(path)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        read_seed_checkpoint(tmp_path / "absent.ckpt")


# --- RELIABILITY row 66: damaged or foreign files given as a checkpoint ---------------------------


def _torch_bytes(obj, **kwargs):
    buffer = io.BytesIO()
    torch.save(obj, buffer, **kwargs)
    return buffer.getvalue()


_SEED_LIKE = {"state_dict": {"network.encoder.x": torch.zeros(3)}}
_NOT_CHECKPOINTS = {
    "empty": lambda: b"",
    "text": lambda: b"not a checkpoint\n" * 8,
    "json": lambda: b'{"state_dict": {}}',
    "plain-pickle": lambda: pickle.dumps({"state_dict": {"network.encoder.x": 1}}),
    "legacy-torch-format": lambda: _torch_bytes(_SEED_LIKE, _use_new_zipfile_serialization=False),
    "cut-in-half": lambda: (lambda b: b[: len(b) // 2])(_torch_bytes(_SEED_LIKE)),
    "safetensors": lambda: safetensors_bytes({"network.encoder.x": torch.zeros(3)}),
    "a-list": lambda: _torch_bytes([1, 2]),
    "state-dict-a-list": lambda: _torch_bytes({"state_dict": [torch.zeros(1)]}),
    "values-not-tensors": lambda: _torch_bytes({"state_dict": {"network.encoder.x": 3}}),
}


@pytest.mark.parametrize("case", [*_NOT_CHECKPOINTS, "a-directory"])
def test_a_damaged_checkpoint_is_refused_naming_the_file(tmp_path, case):
    from sksurv_ecg.exceptions import DamagedFileError

    path = tmp_path / "seed.ckpt"
    if case == "a-directory":
        path.mkdir()
    else:
        path.write_bytes(_NOT_CHECKPOINTS[case]())
    with pytest.raises(DamagedFileError, match="damaged or not a checkpoint") as info:
        read_seed_checkpoint(path)
    assert str(path) in str(info.value)


def test_a_hostile_checkpoint_is_a_value_error_too(tmp_path):
    """Every loader refuses with a ValueError; the unpickling error torch users expect is kept."""
    from sksurv_ecg.exceptions import UnsafeCheckpointError

    evil = _CallsSystem()
    evil.marker = tmp_path / "executed"
    path = tmp_path / "evil.ckpt"
    torch.save({"state_dict": {"network.encoder.x": torch.zeros(1)}, "x": evil}, path)
    with pytest.raises(UnsafeCheckpointError) as info:
        read_seed_checkpoint(path)
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, pickle.UnpicklingError)
    assert not evil.marker.exists()


def test_a_damaged_checkpoint_is_refused_as_a_warm_start_encoder(tmp_path):
    """The encoder=<file> path reads the file as a seed checkpoint, with the same refusal."""
    import numpy as np
    from sksurv.util import Surv

    from sksurv_ecg import ECGSurvivalAnalysis
    from sksurv_ecg.exceptions import DamagedFileError

    path = tmp_path / "model.safetensors"
    path.write_bytes(safetensors_bytes({"w": torch.zeros(2)}))
    X = np.zeros((8, 12, 600), dtype=np.float32)
    y = Surv.from_arrays(np.arange(8) % 2 == 0, np.arange(1.0, 9.0))
    with pytest.raises(DamagedFileError, match=r"model.safetensors' is damaged or not a checkpoint"):
        ECGSurvivalAnalysis(encoder=str(path), max_epochs=1, batch_size=4).fit(X, y)
