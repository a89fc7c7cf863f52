"""The benchmark's methods: how each turns (synthetic clips, a fold's real clips) into a model.

Every method but ``real-only`` starts from the fold's ``sim-only`` model (trained once per
seed on the synthetic clips and reused by every fold), so the comparison isolates what
each adds, and the adaptation runs stay short on a CPU. Checkpoints are taken at
``checkpoints`` evenly spaced steps (plus the starting sim-only model) and the one with the
highest label-free score (:mod:`.selection`) is kept.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Callable

import torch
from torch import nn

from simgen.adapt.benchmark.pretext import RealPretextLoss
from simgen.adapt.benchmark.selection import SelectionSet, pick, selection_score
from simgen.adapt.data.mixed import MixedDomainBatchSampler, dataset_labels
from simgen.adapt.fit import AdaptObjective, create_alignment
from simgen.adapt.align import step_reversal_schedules
from simgen.train.augment.pipeline import batch_generator, create_clip_augmentation
from simgen.train.config import AUGMENT_PRESETS
from simgen.train.data.batch import collate_clips, to_float_video
from simgen.train.inputs import InputTransform, luma_only
from simgen.train.models import create_action_model
from simgen.train.objectives.supervised import ClassificationLoss

#: every method the command knows, in the order runs and tables list them
METHODS = ("sim-only", "real-only", "finetune", "dann", "coral", "mmd", "selfsup", "auto", "best", "pseudo", "ensemble",
           "adabn", "adabn-pseudo")
ALIGN_METHODS = ("dann", "coral", "mmd")
#: fine-tuning schedules (``--finetune-schedule``)
SCHEDULES = ("head", "gradual", "discriminative")
#: what ``auto`` chooses among, per fold, by the label-free score
AUTO_CANDIDATES = ("sim-only", "finetune", "dann", "coral", "mmd")
#: the recommended recipe ``best``. With shots: ``pseudo`` from the fold's ``finetune`` model (the shots,
#: then the unlabelled real clips of the training people labelled where the model is confident and its
#: windows agree, then fine-tuned on both). With none: ``adabn-pseudo``, the same from the sim-only model
#: whose batch-norm statistics were re-estimated on those unlabelled clips (AdaBN), then AdaBN once more.
#: Checkpoints by the label-free rule.
#: History (docs/sim2real-log.md): with the forward-sweeping waves no alignment helped at 0 shots; at 1
#: shot DANN scored 100% in both seed-0 runs and was ``best`` (3-seed mean 93.3% against finetune's
#: 95.0%). With the sideways waves ``pseudo`` was the one method at 100% at 0 shots on seed 0; it was
#: made ``best`` at 0 shots on that seed before seeds 1 and 2 ran. At 1 shot DANN never beat
#: ``finetune`` in six seed-runs (90.0% against 96.7% over seeds 0-2), so on 2026-12-01, before any
#: 1-shot ``pseudo`` run existed, ``best`` at K >= 1 became ``pseudo`` from ``finetune``, to be
#: measured on seeds 3-5 that no decision has seen. The people are the same 5 of weizmann4_dev:
#: an optimistic figure until other people are tested.
#: At 0 shots ``best`` became ``adabn-pseudo`` on 2026-12-01 (session 9), before any benchmark run of it:
#: AdaBN per fold on four sim-only models already trained (not the benchmark's) had moved them from
#: 80/90/90/95% to 90/95/90/95% on the same 20 clips; its benchmark figures are seeds 0-5.
#: At 0 shots ``best`` became ``adabn`` alone on 2026-12-01 (session 11): ``adabn-pseudo`` had scored below
#: its own start on seeds 6 and 9 (each fold has 16 unlabelled clips, and the kept pseudo-labels, all right,
#: often lacked a class, which fine-tuning then lost). Compared on new seeds 10-12 before the change (default
#: recipe): ``adabn`` 100/95/95, ``adabn-pseudo`` 95/85/95; over seeds 0-12 91.9% against 90.0%.
BEST_RECIPE = "pseudo"
BEST_ZERO_SHOT = "adabn"
REQUIRES = {"auto": AUTO_CANDIDATES, "pseudo": ("finetune",), "ensemble": ("finetune", "dann", "coral", "mmd"),
            "adabn": ("finetune",), "adabn-pseudo": ("adabn",)}


def requirements(method: str, shots: int) -> tuple[str, ...]:
    """What ``method`` needs computed first in the same (seed, fold), at ``shots`` labels per class."""
    if method == "best":
        return (BEST_ZERO_SHOT,) if shots == 0 else (BEST_RECIPE,)
    return REQUIRES.get(method, ())


def run_order(methods: list[str], shots: int) -> list[str]:
    """``methods`` and everything they need, each after what it needs (otherwise in :data:`METHODS` order)."""
    order: list[str] = []

    def visit(m: str) -> None:
        if m not in order:
            for need in requirements(m, shots):
                visit(need)
            order.append(m)

    for m in sorted(set(methods), key=METHODS.index):
        visit(m)
    return order


@dataclass
class Settings:
    """Lengths and rates of the benchmark's training runs (defaults sized for 2 CPU cores)."""

    sim_epochs: int = 80
    #: which epoch of the sim-only training is kept: ``best`` accuracy on the synthetic validation clips (every 5
    #: epochs) or the ``last`` (seed 84 of docs/sim2real-log.md kept epoch 35 of 240 by a 20-clip validation spike)
    sim_select: str = "best"
    finetune_schedule: str = "discriminative"
    finetune_steps: int = 60
    finetune_lr: float = 1e-3
    align_steps: int = 120
    align_lr: float = 5e-4
    align_weight: float = 1.0
    real_only_steps: int = 200
    real_only_lr: float = 3e-3
    batch_size: int = 8  # clips per domain and step
    checkpoints: int = 4
    label_smoothing: float = 0.1
    discriminative_decay: float = 0.5  # lr ratio between a layer group and the one above it
    #: train the per-frame head too while a method adapts (see :class:`FrameHeadTrainer`)
    frame_head: bool = True
    smoothing_weight: float = 0.15  # MS-TCN's truncated-MSE weight for a multi-stage frame head (as ``simgen train``)
    pseudo_threshold: float = 0.8  # ``pseudo``: least mean confidence of a kept clip (see .pseudo)
    pseudo_windows: int = 4  # windows per unlabelled clip that must agree
    pseudo_replay: float = 0.5  # synthetic share of each ``pseudo`` batch
    pseudo_min_kept: float = 1 / 3  # fewer kept clips than this share of the candidates: no fine-tuning (.pseudo)
    #: which checkpoints the label-free rule compares (:data:`SELECT_RULES`, :func:`start_candidate`);
    #: ``simgen adapt`` keeps ``label-free`` (its cross-validation must be able to choose the start)
    select: str = "adapted"


#: ``label-free``: every scored checkpoint and the method's starting model; ``adapted``: the same, except that
#: with labelled shots a method starting from the sim-only model never returns it unchanged. Why ``adapted``:
#: the rule's synthetic term sees the forgetting that fine-tuning on real shots causes, its entropy term
#: little of the gain, so it kept the unadapted start in 3 of 5 folds of the default recipe on seed 17 (80%;
#: not reproduced on regenerated clips) and in 9 of 15 folds of ``simgen adapt`` at K = 4 on seeds 13-15 with
#: no unlabelled clips. ``adapted`` became the benchmark's default on 2026-12-02 by a rule fixed before its
#: runs (new seeds 20-22, default recipe ``best`` at K = 1: 93.3 -> 96.7%, mean of the perturbed levels
#: 59.2 -> 59.0; the robust recipe, seed 20: 95 -> 100%; docs/sim2real-log.md, "Never the unadapted start
#: when there are shots"). The other side (session 18, seed 21): the robust recipe's fine-tuning lost a clip
#: that its sim-only start had right (95 -> 90%), which ``adapted`` could not keep and ``label-free`` kept; over
#: seeds 20-22 the recipe ensemble scored 96.7% under ``adapted``, 98.3% under ``label-free``
#: (docs/sim2real-log.md, "Seeds 20, 21 and 22 under the default rule"): not yet a reason to switch back (seeds
#: seen), a question for new seeds.
SELECT_RULES = ("label-free", "adapted")


def start_is_candidate(select: str, with_shots: bool) -> bool:
    """Whether rule ``select`` lets a method return the sim-only model it started from."""
    if select not in SELECT_RULES:
        raise ValueError(f"unknown selection rule {select!r}; expected one of {', '.join(SELECT_RULES)}")
    return not (select == "adapted" and with_shots)


def describe_selection(select: str, shots: int) -> str:
    """The checkpoint rule in force, in words, for a results file's ``config``."""
    score = ("synthetic-validation accuracy - mean normalised prediction entropy on the fold's unlabelled real "
             "clips of the training people; later checkpoint on a tie")
    if start_is_candidate(select, shots > 0):
        return score + f"; candidates: the method's scored checkpoints and its starting model (--select {select})"
    return (score + "; candidates: the method's scored checkpoints, never the sim-only start it began from "
            "(--select adapted with shots)")


@dataclass
class FoldData:
    """What a method may use in one (seed, fold): never a test person's clip."""

    seed: int
    classes: list[str]
    input_mode: str
    backbone: str
    size: int
    sim_state: dict  # the sim-only model's weights
    synthetic_train: object  # ClipDataset (labelled)
    shots: object | None  # ViewDataset of the labelled shots (None at K = 0)
    real_train: object  # ViewDataset: shots labelled + the other training clips unlabelled
    selection: SelectionSet
    spec: object  # ModelInput
    device: str = "cpu"
    sim_selection: dict | None = None  # the sim-only model's selection score on this fold
    #: how the sim-only model was built beyond backbone/classes/input (frame_head, frame_background, head, ...)
    model_options: dict = field(default_factory=dict)
    augment: str = "light"  # the training augmentation (AUGMENT_PRESETS), as the sim-only run's
    #: keep the checkpoint of this step (0: the start) instead of the label-free choice; ``simgen adapt`` sets
    #: it from cross-validation over your labelled people (:mod:`simgen.adapt.own_clips`); None in the benchmark
    select_step: int | None = None
    #: keep every scored checkpoint in ``MethodResult.candidates`` (cross-validation needs them)
    keep_checkpoints: bool = False


@dataclass
class MethodResult:
    """A method's chosen model on one (seed, fold), or why it does not apply."""

    state: dict | None
    selection: dict | None = None
    chosen_step: int | None = None
    history: list[dict] = field(default_factory=list)
    not_applicable: str | None = None
    picked: str | None = None  # ``best``: the method it chose
    info: dict | None = None  # method-specific facts for the run record (``pseudo``: labels kept)
    model: nn.Module | None = None  # a model that is no single network's state (``ensemble``)
    #: ``[(step, state, selection)]`` of every scored checkpoint, when ``FoldData.keep_checkpoints``
    candidates: list | None = None


def model_options(meta: dict) -> dict:
    """How a checkpoint's model was built beyond backbone/classes/input (``FoldData.model_options``)."""
    head = meta.get("head") or {}
    return dict(frame_head=meta["frame_head"], frame_background=bool(meta.get("frame_background")),
                head=head.get("name", "linear"), causal=bool(head.get("causal")),
                positions=head.get("positions", "relative"))


def build_model(data: FoldData) -> nn.Module:
    return create_action_model(backbone=data.backbone, num_classes=len(data.classes), input_mode=data.input_mode,
                               **data.model_options)


def _not_frame_head(model: nn.Module) -> list[nn.Parameter]:
    """The parameters a method's own optimizer updates: all but the per-frame head's (:class:`FrameHeadTrainer`'s)."""
    skip = {id(p) for p in model.frame_head.parameters()} if model.frame_head is not None else set()
    return [p for p in model.parameters() if id(p) not in skip]


class FrameHeadTrainer:
    """Keeps the per-frame head in step with a backbone that a method adapts.

    The methods train the backbone and clip head only; the frame head the sim-only run
    trained would then read features it was not trained on. Each step, this trains the
    frame head alone on that step's (detached) backbone features: per-frame cross-entropy
    (summed over a multi-stage head's stages, plus MS-TCN's smoothing term, as ``simgen
    train``) against the synthetic clips' per-frame labels and the labelled real clips'
    label on every frame (a real clip holds one action). Unlabelled clips add nothing.
    The features are detached and the head's dropout draws come from a forked random
    stream, so the backbone, the clip head and every later random draw are exactly what
    they are without it: the classification results do not change.
    """

    def __init__(self, model: nn.Module, lr: float, settings: Settings, device: str):
        from simgen.train.objectives.temporal import truncated_mse

        self.model, self.settings, self.truncated_mse = model, settings, truncated_mse
        self.loss = ClassificationLoss()
        self.optimizer = torch.optim.AdamW(model.frame_head.parameters(), lr=lr, weight_decay=1e-4)
        dev = torch.device(device)
        self.rng_devices = [dev.index or 0] if dev.type == "cuda" else []

    @staticmethod
    def targets(frame_labels: torch.Tensor, label: torch.Tensor) -> torch.Tensor:
        """Per-frame targets ``(B,T)``: the clip's frame labels where it has any, else its label on every frame."""
        has = (frame_labels >= 0).any(1, keepdim=True)
        return torch.where(has, frame_labels, label[:, None].expand_as(frame_labels))

    def step(self, temporal: torch.Tensor, frame_labels: torch.Tensor, label: torch.Tensor) -> float | None:
        target = self.targets(frame_labels.to(temporal.device), label.to(temporal.device))
        if not bool((target >= 0).any()):
            return None
        with torch.random.fork_rng(devices=self.rng_devices):
            out = self.model.frame_outputs(temporal.detach(), target.shape[1])
            stages = out.get("frame_stages", [out["frame"]])
            loss = sum(self.loss(s, target) for s in stages)
            if "frame_stages" in out and self.settings.smoothing_weight > 0:
                loss = loss + self.settings.smoothing_weight * sum(self.truncated_mse(s) for s in stages)
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
        return float(loss.item())


def load_state(data: FoldData, state: dict) -> nn.Module:
    model = build_model(data)
    model.load_state_dict(state)
    return model


def layer_groups(model: nn.Module) -> list[list[nn.Parameter]]:
    """Parameter groups from the output down: clip head, then the backbone's stages, last first."""
    backbone = model.backbone
    if hasattr(backbone, "blocks") and hasattr(backbone, "stem"):
        stages = [backbone.stem, *backbone.blocks]
    else:
        stages = [m for m in backbone.children() if any(True for _ in m.parameters())]
    groups = [list(model.clip_head.parameters())]
    groups += [list(s.parameters()) for s in reversed(stages)]
    return groups


class _Schedule:
    """Which layer groups train at a step, and at what learning rate."""

    def __init__(self, model: nn.Module, name: str, steps: int, lr: float, decay: float):
        self.groups, self.name, self.steps = layer_groups(model), name, steps
        if name == "head":
            rates = [lr] + [0.0] * (len(self.groups) - 1)
        elif name == "gradual":
            rates = [lr] * len(self.groups)
        elif name == "discriminative":
            rates = [lr * decay ** g for g in range(len(self.groups))]
        else:
            raise ValueError(f"unknown fine-tuning schedule {name!r}; expected one of {', '.join(SCHEDULES)}")
        self.rates = rates
        self.optimizer = torch.optim.AdamW([dict(params=p, lr=r) for p, r in zip(self.groups, rates) if r > 0],
                                           weight_decay=1e-4)

    def trainable(self, step: int) -> int:
        """Groups (from the top) that train at ``step``: gradual unfreezing adds one every steps/groups."""
        if self.name == "head":
            return 1
        if self.name == "gradual":
            return min(len(self.groups), 1 + step * len(self.groups) // max(self.steps, 1))
        return len(self.groups)

    def apply(self, step: int) -> None:
        n = self.trainable(step)
        for g, params in enumerate(self.groups):
            for p in params:
                p.requires_grad_(g < n)


def _freeze_norm_of_frozen(model: nn.Module) -> None:
    """Batch-norm layers whose weights are frozen keep their running statistics too."""
    for m in model.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm) and not any(p.requires_grad for p in m.parameters()):
            m.eval()


def _batches(parts: list, sampler: MixedDomainBatchSampler):
    """``(step, batch)`` pairs; each dataset's epoch is the step, so repeated clips get new windows."""
    concat = torch.utils.data.ConcatDataset(parts)
    for step, idx in enumerate(sampler):
        for p in parts:
            p.set_epoch(step)
        yield step, collate_clips([concat[j] for j in idx])


def train_and_select(data: FoldData, model: nn.Module, *, parts: list, sampler: MixedDomainBatchSampler,
                     steps: int, optimizer: torch.optim.Optimizer, alignment: nn.Module | None, weight: float,
                     settings: Settings, on_step: Callable[[int], None] | None = None,
                     start: tuple[dict, dict] | None = None, pretext: nn.Module | None = None) -> MethodResult:
    """Train for ``steps`` steps; score ``settings.checkpoints`` checkpoints (and ``start``, the
    starting model's ``(state, selection)``) by the label-free rule; return the best one.
    ``pretext`` (a :class:`~simgen.adapt.benchmark.pretext.RealPretextLoss`) adds self-supervised
    losses on each batch's real clips."""
    device = data.device
    objective = AdaptObjective(model, alignment, weight=weight).to(device)
    objective.classification = ClassificationLoss(label_smoothing=settings.label_smoothing)
    augment = create_clip_augmentation(size=data.size, luma_only=luma_only(data.input_mode),
                                       **AUGMENT_PRESETS[data.augment])
    input_tf = InputTransform(data.input_mode)
    frames = (FrameHeadTrainer(model, optimizer.param_groups[0]["lr"], settings, device)
              if settings.frame_head and model.frame_head is not None else None)
    for module in (alignment, pretext):  # discriminators and pretext heads learn at the adaptation rate too
        extra = [p for p in module.parameters() if p.requires_grad] if module is not None else []
        if extra:
            module.to(device)
            optimizer.add_param_group(dict(params=extra, lr=optimizer.param_groups[0]["lr"]))
    marks = sorted({max(1, round(steps * (k + 1) / settings.checkpoints)) for k in range(settings.checkpoints)})
    candidates: list[tuple[int, dict, dict]] = []
    if start is not None:
        candidates.append((0, start[0], start[1]))
    history = []
    for step, batch in _batches(parts, sampler):
        if on_step is not None:
            on_step(step)
        objective.train()
        _freeze_norm_of_frozen(model)
        with torch.no_grad():
            raw = to_float_video(batch["video"].to(device))
            # the frame labels follow the augmentation's re-timing; they draw nothing from the generator
            video, frame_labels = augment(raw, batch["frame_labels"].to(device),
                                          generator=batch_generator(data.seed, step, batch["key"]))
            x = input_tf(video)
        loss, stats = objective(x, batch["label"].to(device), batch["domain"].to(device))
        if pretext is not None:
            pretext_gen = batch_generator(data.seed + _PRETEXT_STREAM, step, batch["key"])

            def encode(v: torch.Tensor) -> torch.Tensor:
                with torch.no_grad():
                    v, _ = augment(v, None, generator=pretext_gen)
                return input_tf(v)

            extra, extra_stats = pretext(model, raw, batch["domain"].to(device), encode, generator=pretext_gen)
            loss = loss + extra
            stats.update(extra_stats)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        step_reversal_schedules(objective)
        if frames is not None:
            frame_loss = frames.step(objective.last_temporal, frame_labels, batch["label"])
            if frame_loss is not None:
                stats["frame"] = frame_loss
        if step + 1 in marks:
            sel = selection_score(model, data.selection, data.spec, device)
            history.append(dict(step=step + 1, **stats, **sel))
            candidates.append((step + 1, copy.deepcopy(model.state_dict()), sel))
    if data.select_step is None:
        best = pick([(str(s), sel) for s, _, sel in candidates])
    else:  # the step cross-validation chose (the nearest checkpoint if this run has no such step)
        best = min(range(len(candidates)), key=lambda i: (abs(candidates[i][0] - data.select_step), -i))
    chosen_step, state, sel = candidates[best]
    return MethodResult(state=state, selection=sel, chosen_step=chosen_step, history=history,
                        candidates=candidates if data.keep_checkpoints else None)


#: offset of the pretext tasks' random stream from the batches' (same seed, independent draws)
_PRETEXT_STREAM = 7919


def start_candidate(data: FoldData, settings: Settings) -> tuple[dict, dict] | None:
    """The sim-only model as a candidate of a method that starts from it, or None where ``settings.select``
    excludes it (``adapted``, with shots)."""
    if not start_is_candidate(settings.select, with_shots=data.shots is not None):
        return None
    return data.sim_state, data.sim_selection


def _real_sampler(data: FoldData, dataset, steps: int, settings: Settings) -> MixedDomainBatchSampler:
    labels = dataset_labels(dataset)
    return MixedDomainBatchSampler([], labels, batch_size=min(settings.batch_size, max(len(labels), 1)),
                                   synthetic_fraction=0.0, num_batches=steps, seed=data.seed)


def run_real_only(data: FoldData, settings: Settings) -> MethodResult:
    """Same network and augmentation, from scratch, on the labelled shots alone."""
    if data.shots is None:
        return MethodResult(state=None, not_applicable="no labelled real clips at --shots 0")
    model = build_model(data).to(data.device)
    optimizer = torch.optim.AdamW(_not_frame_head(model), lr=settings.real_only_lr, weight_decay=1e-4)
    return train_and_select(data, model, parts=[data.shots], sampler=_real_sampler(data, data.shots, settings.real_only_steps, settings),
                            steps=settings.real_only_steps, optimizer=optimizer, alignment=None, weight=0.0,
                            settings=settings)


def run_finetune(data: FoldData, settings: Settings) -> MethodResult:
    """The sim-only model fine-tuned on the shots with ``settings.finetune_schedule``."""
    if data.shots is None:
        return MethodResult(state=None, not_applicable="nothing to fine-tune on at --shots 0 (it is sim-only)")
    model = load_state(data, data.sim_state).to(data.device)
    schedule = _Schedule(model, settings.finetune_schedule, settings.finetune_steps, settings.finetune_lr,
                         settings.discriminative_decay)
    result = train_and_select(data, model, parts=[data.shots],
                              sampler=_real_sampler(data, data.shots, settings.finetune_steps, settings),
                              steps=settings.finetune_steps, optimizer=schedule.optimizer, alignment=None, weight=0.0,
                              settings=settings, on_step=schedule.apply, start=start_candidate(data, settings))
    for p in model.parameters():
        p.requires_grad_(True)
    return result


def run_alignment(data: FoldData, settings: Settings, name: str) -> MethodResult:
    """From the sim-only model: cross-entropy on synthetic clips and shots + ``name`` alignment of
    synthetic and real (unlabelled + shots) clip features, half of each batch from each domain."""
    model = load_state(data, data.sim_state).to(data.device)
    alignment = create_alignment(name, model.out_features, max_iters=settings.align_steps)
    optimizer = torch.optim.AdamW(_not_frame_head(model), lr=settings.align_lr, weight_decay=1e-4)
    return train_and_select(data, model, parts=[data.synthetic_train, data.real_train], sampler=_mixed_sampler(data, settings),
                            steps=settings.align_steps, optimizer=optimizer, alignment=alignment,
                            weight=settings.align_weight, settings=settings,
                            start=start_candidate(data, settings))


def _mixed_sampler(data: FoldData, settings: Settings) -> MixedDomainBatchSampler:
    """Half synthetic, half real per batch; the shots are half of the real part when there are any."""
    real_labels = dataset_labels(data.real_train)
    n_lab = sum(1 for k in real_labels if k >= 0)
    labelled_fraction = 0.0 if n_lab == 0 else (1.0 if n_lab == len(real_labels) else 0.5)
    return MixedDomainBatchSampler(dataset_labels(data.synthetic_train), real_labels,
                                   batch_size=2 * settings.batch_size, synthetic_fraction=0.5,
                                   num_batches=settings.align_steps, seed=data.seed,
                                   real_labelled_fraction=labelled_fraction)


def run_selfsup(data: FoldData, settings: Settings) -> MethodResult:
    """From the sim-only model: cross-entropy on synthetic clips and shots + the pretext losses of
    :mod:`.pretext` on the real clips, batches as the alignment methods'."""
    model = load_state(data, data.sim_state).to(data.device)
    optimizer = torch.optim.AdamW(_not_frame_head(model), lr=settings.align_lr, weight_decay=1e-4)
    return train_and_select(data, model, parts=[data.synthetic_train, data.real_train], sampler=_mixed_sampler(data, settings),
                            steps=settings.align_steps, optimizer=optimizer, alignment=None, weight=0.0,
                            settings=settings, start=start_candidate(data, settings),
                            pretext=RealPretextLoss(model.out_features))


def run_auto(results: dict[str, MethodResult]) -> MethodResult:
    """The candidate (:data:`AUTO_CANDIDATES`) with the highest label-free score on this fold."""
    names = [m for m in AUTO_CANDIDATES if m in results and results[m].state is not None]
    i = pick([(m, results[m].selection) for m in names])
    chosen = results[names[i]]
    return MethodResult(state=chosen.state, selection=chosen.selection, chosen_step=chosen.chosen_step,
                        picked=names[i])


def start_model(data: FoldData, done: dict[str, MethodResult]) -> tuple[str, dict, dict | None]:
    """``(name, state, selection)`` of the model a second-stage method starts from: the fold's
    ``finetune`` model when there are shots (and it ran), else ``sim-only``."""
    ft = done.get("finetune")
    if data.shots is not None and ft is not None and ft.state is not None:
        return "finetune", ft.state, ft.selection
    return "sim-only", data.sim_state, data.sim_selection


def adapt_norm(data: FoldData, state: dict) -> tuple[nn.Module, dict]:
    """The model of ``state`` with its batch-norm statistics re-estimated (AdaBN, :mod:`simgen.adapt.adabn`) on the
    fold's unlabelled real clips (the training people's; labels unused), and a record of what it used."""
    from simgen.adapt.adabn import clip_windows, recompute_batch_norm

    clips = data.selection.real_unlabelled
    batches = clip_windows(clips, input_mode=data.spec.input_mode, num_frames=data.spec.num_frames,
                           stride=data.spec.stride, fps=data.spec.fps, seed=data.seed)
    model, seen = recompute_batch_norm(load_state(data, state), batches, device=data.device)
    return model, dict(clips=len(clips), windows=sum(len(b) for b in batches), batches=seen)


def run_adabn(data: FoldData, done: dict[str, MethodResult]) -> MethodResult:
    """The start model (:func:`start_model`) with batch-norm statistics of the fold's unlabelled real clips."""
    start_name, state, _ = start_model(data, done)
    model, used = adapt_norm(data, state)
    return MethodResult(state=model.state_dict(), selection=selection_score(model, data.selection, data.spec, data.device),
                        chosen_step=0, info=dict(start=start_name, adabn=used))


def run_method(name: str, data: FoldData, settings: Settings, done: dict[str, MethodResult]) -> MethodResult:
    """Dispatch by method name (``sim-only`` is the fold's starting model as it is)."""
    if name == "sim-only":
        return MethodResult(state=data.sim_state, selection=data.sim_selection)
    if name == "real-only":
        return run_real_only(data, settings)
    if name == "finetune":
        return run_finetune(data, settings)
    if name in ALIGN_METHODS:
        return run_alignment(data, settings, name)
    if name == "selfsup":
        return run_selfsup(data, settings)
    if name == "auto":
        return run_auto(done)
    if name == "pseudo":
        from simgen.adapt.benchmark.pseudo import run_pseudo

        return run_pseudo(data, settings, done)
    if name == "adabn":
        return run_adabn(data, done)
    if name == "adabn-pseudo":
        from simgen.adapt.benchmark.pseudo import run_pseudo

        result = run_pseudo(data, settings, done, start_from="adabn")
        # the pseudo-label fine-tuning ran on half-synthetic batches, which moved the statistics back
        # toward a mix of the domains: re-estimate them on the real clips once more
        model, result.info["adabn"] = adapt_norm(data, result.state)
        result.state = model.state_dict()
        result.selection = selection_score(model, data.selection, data.spec, data.device)
        return result
    if name == "ensemble":
        from simgen.adapt.benchmark.ensemble import run_ensemble

        return run_ensemble(data, settings, done)
    if name == "best":
        recipe_name = BEST_ZERO_SHOT if data.shots is None else BEST_RECIPE
        recipe = done[recipe_name]  # the recipe's own run, already made for this (seed, fold)
        return MethodResult(state=recipe.state, selection=recipe.selection, chosen_step=recipe.chosen_step,
                            history=recipe.history, picked=recipe_name, info=recipe.info)
    raise ValueError(f"unknown method {name!r}; expected one of {', '.join(METHODS)}")
