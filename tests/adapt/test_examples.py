"""Every ``Example:`` in the adapt docstrings runs and prints what it says."""

import doctest
import importlib

import pytest
import torch

MODULES = ["simgen.adapt.align.grl", "simgen.adapt.align.dann", "simgen.adapt.align.coral", "simgen.adapt.align.mmd",
           "simgen.adapt.align.temporal", "simgen.adapt.align._shapes", "simgen.adapt.data.mixed"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    torch.manual_seed(0)
    result = doctest.testmod(importlib.import_module(name), extraglobs={"torch": torch}, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
