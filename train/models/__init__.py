"""Backbones (``tiny3d``, ``tsm_r18``, torchvision video nets), clip / per-frame heads and sequence heads."""

from simgen.train.models.builder import BACKBONES, create_action_model
from simgen.train.models.heads import ActionModel, ClipHead, FrameHead, TemporalDropout, TwoStream
from simgen.train.models.sequence import HEADS, GRUFrameHead, MSTCNHead, TransformerFrameHead
from simgen.train.models.tiny3d import create_tiny3d
from simgen.train.models.tsm import create_tsm_r18
from simgen.train.models.two_rate import TwoRate, create_tiny3d_2rate
from simgen.train.models.torchvision_video import create_torchvision_backbone

__all__ = ["BACKBONES", "create_action_model", "ActionModel", "ClipHead", "FrameHead", "TwoStream",
           "TemporalDropout", "HEADS", "GRUFrameHead", "MSTCNHead", "TransformerFrameHead",
           "create_tiny3d", "create_tsm_r18", "TwoRate", "create_tiny3d_2rate", "create_torchvision_backbone"]
