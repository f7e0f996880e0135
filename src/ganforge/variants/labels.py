"""Target labels of a multi-domain translator (StarGAN): binary attributes (CelebA, several set
at once) or single-label domains (one-hot).

- Training targets: a random permutation of the batch's own labels (the official solver's
  `label_trg = label_org[randperm]`), so targets follow the data's joint distribution.
- Figure targets (Choi et al. 2018, Fig. 4; the solver's `create_labels`): one column per
  attribute; a hair colour is set exclusively (the other colours cleared), any other attribute
  is flipped; for single-label domains, one column per domain.
- Edits (`+Blond_Hair,-Male`): `+` sets, `-` clears; setting a hair colour clears the others.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from ganforge.data.batch import Batch
from ganforge.data.spec import DataSpec
from ganforge.errors import ConfigError

#: CelebA's hair colours: mutually exclusive when several are chosen.
HAIR_COLOURS = ("Black_Hair", "Blond_Hair", "Brown_Hair", "Gray_Hair")
DEFAULT_ATTRS = "Black_Hair,Blond_Hair,Brown_Hair,Male,Young"


@dataclass(frozen=True)
class LabelSpace:
    """What the generator's label vector (B, K) means.

    `names`: the attributes (multi-label) or the domains (single-label, one-hot);
    `columns`: where each attribute sits in the data's attribute table (multi-label only).
    """

    names: tuple[str, ...]
    single: bool = False
    columns: tuple[int, ...] = ()

    @property
    def exclusive(self) -> tuple[int, ...]:
        """Indices of the hair colours among the attributes (set one, clear the others)."""
        return () if self.single else tuple(i for i, n in enumerate(self.names)
                                            if n in HAIR_COLOURS)

    def of_batch(self, batch: Batch) -> Tensor:
        """The batch's own labels as the generator reads them: (B, K) float in {0, 1}."""
        if self.single:
            if batch.y is None:
                raise ValueError("single-label domains need batch.y")
            return torch.nn.functional.one_hot(batch.y, len(self.names)).float()
        if batch.attrs is None:
            raise ValueError("attribute data needs batch.attrs")
        return batch.attrs[:, list(self.columns)].float()

    def column_targets(self, c: Tensor) -> list[Tensor]:
        """The figure's targets for labels `c` (B, K): one (B, K) tensor per column."""
        out = []
        for i in range(len(self.names)):
            t = torch.zeros_like(c) if self.single else c.clone()
            if self.single or i in self.exclusive:
                t[:, list(self.exclusive)] = 0
                t[:, i] = 1
            else:
                t[:, i] = 1 - t[:, i]
            out.append(t)
        return out

    def column_names(self) -> list[str]:
        """Captions of the figure's columns."""
        if self.single:
            return list(self.names)
        return [n if i in self.exclusive else f"~{n}" for i, n in enumerate(self.names)]

    def parse_edits(self, text: str) -> dict[int, bool]:
        """`+Blond_Hair,-Male` -> {index: value}; a bad token or name is a one-line error."""
        edits: dict[int, bool] = {}
        for token in (t.strip() for t in text.split(",")):
            sign, name = token[:1], token[1:]
            if sign not in ("+", "-") or not name:
                raise ConfigError(f"--attrs: '{token}' must be +NAME (set) or -NAME (clear), e.g. "
                                  f"+{self.names[0]},-{self.names[-1]}")
            if name not in self.names:
                raise ConfigError(f"--attrs: unknown attribute '{name}'; this run translates: "
                                  f"{', '.join(self.names)}")
            edits[self.names.index(name)] = sign == "+"
        if self.single and list(edits.values()) != [True]:
            raise ConfigError("--attrs: single-label domains take exactly one +DOMAIN, e.g. "
                              f"+{self.names[0]}")
        return edits

    def edit(self, c: Tensor, edits: dict[int, bool]) -> Tensor:
        """Labels `c` (B, K) with `edits` applied (a set hair colour clears the others)."""
        t = torch.zeros_like(c) if self.single else c.clone()
        for i, value in edits.items():
            if value and (self.single or i in self.exclusive):
                t[:, list(self.exclusive)] = 0
            t[:, i] = float(value)
        return t


def permuted(c: Tensor, gen: torch.Generator) -> tuple[Tensor, Tensor]:
    """(targets, permutation): the batch's own labels `c` (B, ...) in a random order."""
    perm = torch.randperm(c.shape[0], generator=gen).to(c.device)
    return c[perm], perm


def label_space(spec: DataSpec, attrs: str) -> LabelSpace:
    """The labels StarGAN translates on this data: the chosen attributes of attribute data,
    else the domains; unknown names are a one-line error listing the valid ones."""
    if spec.pairing is not None:
        raise ConfigError(f"stargan needs multi-domain data (celeba, domains:PATH), not "
                          f"{spec.pairing} two-domain data; use cyclegan or pix2pix for that")
    if spec.attributes:
        names = tuple(a.strip() for a in attrs.split(",") if a.strip())
        unknown = [a for a in names if a not in spec.attributes]
        if unknown or not names:
            raise ConfigError(f"unknown attribute '{(unknown or [attrs])[0]}' in --attrs; choose "
                              f"from: {', '.join(spec.attributes)}")
        if len(set(names)) != len(names):
            raise ConfigError(f"--attrs names an attribute twice: {attrs}")
        return LabelSpace(names, columns=tuple(spec.attributes.index(a) for a in names))
    if len(spec.domains) >= 2:
        if attrs != DEFAULT_ATTRS:
            raise ConfigError("--attrs applies to attribute data (celeba); with domains:PATH the "
                              f"domains are its subfolders: {', '.join(spec.domains)}")
        return LabelSpace(tuple(spec.domains), single=True)
    raise ConfigError("stargan needs multi-domain data: celeba (attributes) or domains:PATH "
                      "(one subfolder per domain)")
