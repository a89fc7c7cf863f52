"""Gradient reversal (Ganin & Lempitsky, ICML 2015) and its warm-up schedule."""

from __future__ import annotations

import math

import torch
from torch import nn


class _ReverseGradient(torch.autograd.Function):
    """Identity forward; the backward pass multiplies the incoming gradient by ``-coeff``."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, coeff: float) -> torch.Tensor:
        ctx.coeff = coeff
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad_output: torch.Tensor) -> tuple[torch.Tensor, None]:
        return grad_output.neg() * ctx.coeff, None


def reverse_gradient(x: torch.Tensor, coeff: float = 1.0) -> torch.Tensor:
    """``x`` unchanged forward; ``-coeff *`` the gradient backward.

    Example:
        >>> x = torch.ones(2, requires_grad=True)
        >>> reverse_gradient(x, 0.5).sum().backward()
        >>> x.grad
        tensor([-0.5000, -0.5000])
    """
    return _ReverseGradient.apply(x, float(coeff))


class WarmStartCoefficient:
    """The reversal coefficient's schedule from Ganin & Lempitsky (2015), section 5.

    .. math::
        \\lambda(i) = lo + (hi - lo) \\left(\\frac{2}{1 + \\exp(-\\alpha\\, p)} - 1\\right),
        \\qquad p = \\min(i / \\text{max\\_iters}, 1)

    With the paper's ``alpha = 10`` the coefficient starts at ``lo`` (the domain head
    cannot disturb features that are still random), reaches 98.7% of the way at
    ``p = 0.5`` and 99.99% at ``p = 1``. The schedule is a plain function of the
    iteration, so resuming from a checkpoint that stores the iteration replays it.

    Args:
        alpha: steepness (the paper's gamma).
        lo: coefficient at iteration 0.
        hi: coefficient it approaches.
        max_iters: iterations over which ``p`` goes from 0 to 1.

    Example:
        >>> sched = WarmStartCoefficient(alpha=10.0, lo=0.0, hi=1.0, max_iters=100)
        >>> round(sched(0), 4), round(sched(50), 4), round(sched(100), 4)
        (0.0, 0.9866, 0.9999)
    """

    def __init__(self, *, alpha: float = 10.0, lo: float = 0.0, hi: float = 1.0, max_iters: int = 1000):
        if max_iters <= 0:
            raise ValueError(f"max_iters must be positive, got {max_iters}")
        self.alpha, self.lo, self.hi, self.max_iters = float(alpha), float(lo), float(hi), int(max_iters)

    def __call__(self, iteration: int) -> float:
        p = min(max(iteration, 0) / self.max_iters, 1.0)
        return self.lo + (self.hi - self.lo) * (2.0 / (1.0 + math.exp(-self.alpha * p)) - 1.0)

    def __repr__(self) -> str:
        return f"WarmStartCoefficient(alpha={self.alpha}, lo={self.lo}, hi={self.hi}, max_iters={self.max_iters})"


class _Constant:
    """A schedule that never changes (a class, not a lambda, so the layer pickles)."""

    def __init__(self, value: float):
        self.value = value

    def __call__(self, iteration: int) -> float:
        return self.value


class GradientReverseLayer(nn.Module):
    """Gradient reversal layer with a constant or scheduled coefficient.

    Forward is the identity; backward multiplies the gradient by ``-coeff``, so the
    feature extractor below it *maximises* whatever loss the layers above minimise
    (the domain classifier's), which makes the features domain-invariant
    (Ganin & Lempitsky, "Unsupervised Domain Adaptation by Backpropagation", ICML 2015).

    The iteration count is a buffer, so it is saved and restored with the model's
    ``state_dict``; call :meth:`step` once per optimiser step.

    Args:
        coeff: a constant, or a schedule ``iteration -> coefficient`` such as
            :class:`WarmStartCoefficient`.

    Shape:
        any shape in, the same shape out.

    Example:
        >>> grl = GradientReverseLayer(WarmStartCoefficient(max_iters=10))
        >>> x = torch.ones(3, requires_grad=True)
        >>> grl(x).sum().backward()   # iteration 0: coefficient 0, no gradient yet
        >>> x.grad
        tensor([-0., -0., -0.])
        >>> grl.step(); round(grl.coeff, 3)
        0.462
    """

    def __init__(self, coeff: float | WarmStartCoefficient = 1.0):
        super().__init__()
        self.schedule = coeff if callable(coeff) else _Constant(float(coeff))
        self.register_buffer("iteration", torch.zeros((), dtype=torch.long))

    @property
    def coeff(self) -> float:
        return float(self.schedule(int(self.iteration)))

    def step(self) -> None:
        self.iteration += 1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return reverse_gradient(x, self.coeff)

    def extra_repr(self) -> str:
        return f"coeff={self.coeff:.4g}, iteration={int(self.iteration)}"


def step_reversal_schedules(module: nn.Module) -> int:
    """Advance every :class:`GradientReverseLayer` inside ``module`` by one iteration.

    Call once per optimiser step. Returns how many layers were stepped (a layer
    shared by several losses is stepped once).
    """
    layers = {id(m): m for m in module.modules() if isinstance(m, GradientReverseLayer)}
    for layer in layers.values():
        layer.step()
    return len(layers)
