"""The minimal adaptation loop: alignment closes a toy domain gap that plain training leaves open."""

import pytest
import torch
from torch import nn

from simgen.adapt.align import CoralLoss, GradientReverseLayer, MultiKernelMMD
from simgen.adapt.data import MixedDomainBatchSampler
from simgen.adapt.fit import AdaptObjective, create_alignment, fit_adapt

N, D_IN, T, D = 64, 4, 6, 8


class ToyModel(nn.Module):
    """The ActionModel interface on feature sequences ``(B, 4, T)``."""

    def __init__(self):
        super().__init__()
        self.enc, self.clip_head, self.out_features = nn.Conv1d(D_IN, D, 1), nn.Linear(D, 2), D

    def temporal_features(self, x):
        return torch.tanh(self.enc(x))


def two_domains(n, seed):
    """Two classes along axis 0; the real domain is rescaled per axis and shifted by 1.2 along the
    class axis, so a classifier trained on synthetic clips alone puts most real clips in one class."""
    g = torch.Generator().manual_seed(seed)
    means = torch.tensor([[1.0, 0, 0, 0], [-1.0, 0, 0, 0]])
    y_syn, y_real = torch.randint(0, 2, (n,), generator=g), torch.randint(0, 2, (n,), generator=g)
    syn = means[y_syn].unsqueeze(-1) + 0.5 * torch.randn(n, D_IN, T, generator=g)
    real = means[y_real].unsqueeze(-1) + 0.5 * torch.randn(n, D_IN, T, generator=g)
    real = real * torch.tensor([1.0, 3.0, 0.3, 2.0]).view(1, -1, 1) + torch.tensor([1.2, 1.0, 0.0, -1.0]).view(1, -1, 1)
    return syn, y_syn, real, y_real


def train(alignment: str, seed: int):
    syn, y_syn, real, _ = two_domains(N, 0)
    video = torch.cat([syn, real])
    label = torch.cat([y_syn, torch.full((N,), -1)])  # real clips unlabelled
    domain = torch.cat([torch.zeros(N, dtype=torch.long), torch.ones(N, dtype=torch.long)])
    sampler = MixedDomainBatchSampler(y_syn.tolist(), [-1] * N, batch_size=32, synthetic_fraction=0.5,
                                      num_batches=10, seed=0)

    def batches(epoch):
        sampler.set_epoch(epoch)
        for b in sampler:
            yield dict(video=video[b], label=label[b], domain=domain[b])

    torch.manual_seed(seed)
    model = ToyModel()
    objective = AdaptObjective(model, create_alignment(alignment, D, max_iters=300, hidden=16))
    history = fit_adapt(objective, batches, epochs=30, lr=1e-2)
    test_syn, test_y_syn, test_real, test_y_real = two_domains(200, 1)
    with torch.no_grad():
        f_syn, f_real = model.temporal_features(test_syn).mean(-1), model.temporal_features(test_real).mean(-1)
        acc_syn = (model.clip_head(f_syn).argmax(1) == test_y_syn).float().mean().item()
        acc_real = (model.clip_head(f_real).argmax(1) == test_y_real).float().mean().item()
    return dict(coral=CoralLoss()(f_syn, f_real).item(), mmd=MultiKernelMMD()(f_syn, f_real).item(),
                acc_syn=acc_syn, acc_real=acc_real, history=history, objective=objective)


@pytest.mark.parametrize("seed", [0, 1])
def test_coral_alignment_closes_the_gap(seed):
    plain, aligned = train("none", seed), train("coral", seed)
    # measured (seeds 0-3): CORAL distance 0.011-0.017 -> 0.0011-0.0016; real accuracy 0.55-0.58 -> 0.96
    assert aligned["coral"] < 0.3 * plain["coral"]
    assert plain["acc_syn"] > 0.95 and aligned["acc_syn"] > 0.95
    assert plain["acc_real"] < 0.7 < 0.9 < aligned["acc_real"]


def test_mmd_alignment_closes_the_gap():
    plain, aligned = train("none", 0), train("mmd", 0)
    # measured: MMD 0.34 -> 0.018, real accuracy 0.55 -> 0.98
    assert aligned["mmd"] < 0.2 * plain["mmd"] and aligned["acc_real"] > 0.9


@pytest.mark.parametrize("name", ["dann", "ta3n"])
def test_adversarial_objectives_train_and_warm_up(name):
    result = train(name, 0)
    layers = [m for m in result["objective"].modules() if isinstance(m, GradientReverseLayer)]
    assert layers and all(int(layer.iteration) == 300 for layer in layers)  # 30 epochs x 10 batches
    assert result["history"][-1]["classification"] < 0.1 and result["acc_syn"] > 0.95


def test_unknown_alignment_is_an_error():
    with pytest.raises(ValueError, match="alignment: unknown name 'coarl'; expected one of none, dann"):
        create_alignment("coarl", 8, max_iters=10)


def test_batches_without_one_domain_skip_alignment():
    objective = AdaptObjective(ToyModel(), create_alignment("coral", D, max_iters=10))
    _, stats = objective(torch.randn(4, D_IN, T), torch.tensor([0, 1, 0, 1]), torch.zeros(4, dtype=torch.long))
    assert stats["alignment"] == 0.0
