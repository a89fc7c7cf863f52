"""Run under ``torchrun --nproc_per_node 2`` by ``test_ddp.py`` (not a test module itself).

    ddp_phases.py DATA OUT_DIR EPOCHS BATCH AUGMENT

Phase A: a whole run in ``OUT/a``. Phase B: the same run in ``OUT/b``, interrupted in the
2nd validation (after an epoch's checkpoint), then resumed with ``--resume``.
"""

import sys

import torch
import torch.distributed as dist

import simgen.train.fit as fit_module
from simgen.train.config import TrainConfig


def main() -> None:
    data, out, epochs, batch, augment = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
    torch.set_num_threads(1)
    dist.init_process_group("gloo")  # fit leaves a group it did not create alone: one group, three runs
    common = dict(synthetic=data, val=data, epochs=epochs, batch_size=batch, size=32, num_frames=8, stride=1,
                  val_every=2, augment=augment, progress=False, device="cpu",
                  keep_snapshots=True)
    fit_module.fit(TrainConfig(out=f"{out}/a", **common))

    real_eval, calls = fit_module.evaluate_dataset, []

    def killed_in_second_validation(*a, **k):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real_eval(*a, **k)

    fit_module.evaluate_dataset = killed_in_second_validation
    try:
        fit_module.fit(TrainConfig(out=f"{out}/b", **common))
        raise SystemExit("phase B was not interrupted")
    except KeyboardInterrupt:
        pass
    fit_module.evaluate_dataset = real_eval
    dist.barrier()
    fit_module.fit(TrainConfig(out=f"{out}/b", **common), resume=True)
    dist.barrier()  # rank 0 returns from fit later (it writes the summary): tear down together
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
