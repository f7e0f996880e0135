"""--sync-bn: BatchNorm over the global batch, its statistics reduced across the processes.

torch.nn.SyncBatchNorm refuses CPU tensors (torch 2.13: "expected input tensor to be on GPU"),
so on the CPU (gloo) the layers become `CpuSyncBatchNorm`: the per-channel sum and count, then
the centred sum of squares, each summed over the ranks by an all-reduce that autograd
differentiates (torch.distributed.nn.functional.all_reduce: the backward sums the gradients
the same way). Two passes, like BatchNorm's own, rather than E[x²] - E[x]², which cancels badly
when |mean| >> std. Both kinds keep BatchNorm's parameters and buffers under the same names, so
checkpoints are the same with and without --sync-bn.
"""

from __future__ import annotations

import torch
import torch.distributed as dist
from torch import Tensor, nn
from torch.distributed.nn.functional import all_reduce


class CpuSyncBatchNorm(nn.modules.batchnorm._BatchNorm):
    """BatchNorm1d/2d whose training statistics are those of the batch of every rank."""

    def _check_input_dim(self, input: Tensor) -> None:
        if input.dim() < 2:
            raise ValueError(f"expected at least 2D input (got {input.dim()}D input)")

    def forward(self, input: Tensor) -> Tensor:
        syncing = self.training and dist.is_initialized() and dist.get_world_size() > 1
        if not syncing:
            return super().forward(input)
        dims = [0, *range(2, input.dim())]
        shape = [1, -1] + [1] * (input.dim() - 2)  # (1, C, 1, 1) for images
        local = torch.cat([input.sum(dims), input.new_full((1,), input.numel() / input.shape[1])])
        total = all_reduce(local)  # (C + 1,): sums over every rank's batch, then the count
        count = total[-1]
        mean = total[:-1] / count
        centred = input - mean.view(shape)
        var = all_reduce(centred.square().sum(dims)) / count  # biased, as BatchNorm normalises
        self._track(mean.detach(), var.detach(), count.detach())
        out = centred * torch.rsqrt(var + self.eps).view(shape)
        if self.affine:
            out = out * self.weight.view(shape) + self.bias.view(shape)
        return out

    @torch.no_grad()
    def _track(self, mean: Tensor, var: Tensor, count: Tensor) -> None:
        """BatchNorm's running averages (of the unbiased variance) and batch counter."""
        if not self.track_running_stats or self.running_mean is None:
            return
        assert self.running_var is not None and self.num_batches_tracked is not None
        self.num_batches_tracked.add_(1)
        m = (1.0 / float(self.num_batches_tracked) if self.momentum is None
             else float(self.momentum))
        unbiased = var * count / (count - 1).clamp_min(1)
        self.running_mean.mul_(1 - m).add_(mean, alpha=m)
        self.running_var.mul_(1 - m).add_(unbiased, alpha=m)


def convert_sync_batchnorm(module: nn.Module, device: torch.device) -> nn.Module:
    """`module` with every BatchNorm1d/2d/3d made synchronous: torch's SyncBatchNorm on a GPU,
    CpuSyncBatchNorm on the CPU; parameters (the same tensors) and buffers carry over."""
    if device.type != "cpu":
        return nn.SyncBatchNorm.convert_sync_batchnorm(module)
    return _convert_cpu(module)


def _convert_cpu(module: nn.Module) -> nn.Module:
    if isinstance(module, nn.modules.batchnorm._BatchNorm) and not isinstance(
            module, CpuSyncBatchNorm):
        out = CpuSyncBatchNorm(module.num_features, module.eps, module.momentum, module.affine,
                               module.track_running_stats)
        if module.affine:
            out.weight, out.bias = module.weight, module.bias
        out.running_mean, out.running_var = module.running_mean, module.running_var
        out.num_batches_tracked = module.num_batches_tracked
        out.train(module.training)
        return out
    for name, child in module.named_children():
        module.add_module(name, _convert_cpu(child))
    return module
