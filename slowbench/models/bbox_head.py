"""RoI classification head (mmaction2 `BBoxHeadAVA`): forward, loss with its metrics, scores.

roi features [K, C, 1, S, S]
    |  dropout (elementwise, before pooling)
    |  mean over T, max over the S x S bins
    |  fc_cls: Linear(C, classes) or Linear(C, C) -> ReLU -> Linear(C, classes)
    v
logits [K, num_classes]
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn import functional as F

TOPK = (3, 5)


class BBoxHeadAVA(nn.Module):
    """Per-RoI action logits; multi-label sigmoid/BCE (AVA) or softmax/cross-entropy (MultiSports).

    With `background_class` (AVA) column 0 is never a target: it is dropped from the loss and
    kept (unused) in the scores, so columns are raw action ids.
    """

    def __init__(
        self,
        *,
        dropout: nn.Dropout,
        fc_cls: nn.Module,
        num_classes: int,
        background_class: bool,
        multilabel: bool,
        focal_gamma: float,
        focal_alpha: float,
    ) -> None:
        super().__init__()
        self.dropout = dropout
        self.fc_cls = fc_cls
        self.num_classes = num_classes
        self.background_class = background_class
        self.multilabel = multilabel
        self.focal_gamma = focal_gamma
        self.focal_alpha = focal_alpha

    def forward(self, roi_feats: Tensor) -> Tensor:
        x = self.dropout(roi_feats)
        x = x.mean(dim=2).amax(dim=(2, 3))  # [K, C]
        return self.fc_cls(x)

    def scores(self, logits: Tensor) -> Tensor:
        """`[K, num_classes]` probabilities over all columns (column 0 included, as the
        reference); at least float32 (also under autocast), so low-precision scores do not tie."""
        logits = _at_least_float32(logits)
        return logits.sigmoid() if self.multilabel else logits.softmax(dim=-1)

    def loss(self, logits: Tensor, labels: Tensor) -> dict[str, Tensor]:
        """`logits, labels [K, num_classes]` (labels all-zero for negatives) -> the reference losses.

        Only rows with a positive label count; `loss_action_cls` is the mean of the (focal-
        modulated) per-element BCE over those rows and the non-background columns, or of the
        per-row soft-target cross-entropy in single-label mode. Computed in float32 at least
        (also when the logits come from an autocast forward pass).
        """
        logits = _at_least_float32(logits)
        labels = labels.to(logits.dtype)
        if self.background_class:
            logits, labels = logits[:, 1:], labels[:, 1:]
        positive = labels.sum(dim=-1) > 0
        logits, labels = logits[positive], labels[positive]
        if logits.shape[0] == 0:
            # The reference would return NaN here; a zero that keeps the graph is what training needs.
            zero = logits.sum() * 0.0
            metrics = {key: zero.detach() for key in _metric_keys()}
            return {"loss_action_cls": zero, **metrics}
        metrics = self._metrics(logits.detach(), labels)
        if self.multilabel:
            loss = F.binary_cross_entropy_with_logits(logits, labels, reduction="none")
        else:
            if self.background_class:
                labels = labels / labels.sum(dim=1, keepdim=True)
            loss = F.cross_entropy(logits, labels, reduction="none")
        pt = torch.exp(-loss)
        loss = self.focal_alpha * (1 - pt) ** self.focal_gamma * loss
        return {"loss_action_cls": loss.mean(), **metrics}

    def _metrics(self, logits: Tensor, labels: Tensor) -> dict[str, Tensor]:
        target = labels > 0.5
        if self.multilabel:
            probs = logits.sigmoid()
            predicted = probs > 0.5
        else:
            probs = logits.softmax(dim=-1)
            predicted = F.one_hot(probs.argmax(dim=-1), probs.shape[-1]).bool()
        out = dict(zip(("recall@thr=0.5", "prec@thr=0.5"), _recall_precision(predicted, target)))
        for k in TOPK:
            top = probs.topk(min(k, probs.shape[-1]), dim=-1).indices
            predicted = torch.zeros_like(target).scatter_(1, top, True)
            out[f"recall@top{k}"], out[f"prec@top{k}"] = _recall_precision(predicted, target)
        return out


def _at_least_float32(x: Tensor) -> Tensor:
    """float16 / bfloat16 (autocast) -> float32; float32 and float64 unchanged."""
    return x.to(torch.promote_types(x.dtype, torch.float32))


def _metric_keys() -> list[str]:
    return ["recall@thr=0.5", "prec@thr=0.5"] + [f"{m}@top{k}" for k in TOPK for m in ("recall", "prec")]


def _recall_precision(predicted: Tensor, target: Tensor) -> tuple[Tensor, Tensor]:
    """Per-row recall and precision of boolean `[P, C]` predictions, averaged over rows."""
    correct = (predicted & target).sum(dim=1).float()
    recall = correct / target.sum(dim=1).float()
    precision = correct / (predicted.sum(dim=1).float() + 1e-6)
    return recall.mean(), precision.mean()


def create_bbox_head(
    *,
    in_channels: int = 2048,
    num_classes: int = 81,
    dropout: float = 0.5,
    mlp_head: bool = False,
    background_class: bool = True,
    multilabel: bool = True,
    focal_gamma: float = 0.0,
    focal_alpha: float = 1.0,
) -> BBoxHeadAVA:
    """The reference head; Linear layers get xavier-normal weights and zero biases."""
    if mlp_head:
        fc_cls: nn.Module = nn.Sequential(
            nn.Linear(in_channels, in_channels), nn.ReLU(), nn.Linear(in_channels, num_classes)
        )
    else:
        fc_cls = nn.Linear(in_channels, num_classes)
    for module in fc_cls.modules():
        if isinstance(module, nn.Linear):
            nn.init.xavier_normal_(module.weight)
            nn.init.zeros_(module.bias)
    return BBoxHeadAVA(
        dropout=nn.Dropout(dropout),
        fc_cls=fc_cls,
        num_classes=num_classes,
        background_class=background_class,
        multilabel=multilabel,
        focal_gamma=focal_gamma,
        focal_alpha=focal_alpha,
    )
