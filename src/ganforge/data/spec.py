"""`DataSpec`: what a variant needs to know of the data to build its networks.

It describes data, so it lives with the data: networks, tricks and variants import it from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ganforge.errors import RunError

#: How the two image sets of a translation dataset relate (None: not a translation dataset).
PAIRINGS = ("paired", "unpaired")


@dataclass(frozen=True)
class DataSpec:
    """The data's kind, shape, classes, and for translation data its domains and pairing.

    `shape` is one example's shape: (C, H, W) for images, (D,) for points; for translation data
    it is the shape of the generator's input (domain A) and `shape_b` that of domain B.
    `attributes` names the binary attributes a batch carries (CelebA), `domains` the domain
    names (("A", "B"), ("horse", "zebra"), or one per class folder); `split_rule` which images
    a split of fixed-rule data holds (CelebA's held-out last 10 %).
    """

    kind: str  # "image" or "points"
    shape: tuple[int, ...]
    num_classes: int | None = None
    pairing: str | None = None  # "paired" (pix2pix), "unpaired" (cyclegan) or None
    domains: tuple[str, ...] = ()
    attributes: tuple[str, ...] = ()
    shape_b: tuple[int, ...] | None = None
    split_rule: str = ""  # which examples the split holds, when fixed by rule (CelebA: last 10 %)

    @property
    def target_shape(self) -> tuple[int, ...]:
        """Shape of a generated example: domain B's for translation data, else `shape`."""
        return self.shape_b or self.shape

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form, saved in the run folder's meta.json."""
        return {"kind": self.kind, "shape": list(self.shape), "num_classes": self.num_classes,
                "pairing": self.pairing, "domains": list(self.domains),
                "attributes": list(self.attributes),
                "shape_b": list(self.shape_b) if self.shape_b else None,
                **({"split_rule": self.split_rule} if self.split_rule else {})}

    @staticmethod
    def from_dict(d: Any, where: str = "meta.json") -> DataSpec:
        """Inverse of `to_dict`; a malformed record is a one-line RunError naming `where`."""
        try:
            shape_b = d.get("shape_b")
            spec = DataSpec(
                kind=str(d["kind"]), shape=tuple(int(v) for v in d["shape"]),
                num_classes=int(d["num_classes"]) if d.get("num_classes") else None,
                pairing=d.get("pairing"), domains=tuple(str(v) for v in d.get("domains", ())),
                attributes=tuple(str(v) for v in d.get("attributes", ())),
                shape_b=tuple(int(v) for v in shape_b) if shape_b else None,
                split_rule=str(d.get("split_rule", "")))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise RunError(f"'{where}' has a malformed data_spec ({type(exc).__name__}: {exc}); "
                           "the run folder is damaged or not from ganforge") from None
        if spec.kind not in ("image", "points") or spec.pairing not in (None, *PAIRINGS):
            raise RunError(f"'{where}' has a data_spec of unknown kind '{spec.kind}' or pairing "
                           f"'{spec.pairing}'; the run folder is damaged or not from ganforge")
        return spec
