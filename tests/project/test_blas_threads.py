"""A command runs numpy's BLAS on one thread unless the environment says otherwise: its arrays
are one workbook's, and OpenBLAS's idle workers spin for about a tenth of a second after numpy
loads, which a 2-core machine takes from the run itself (issue 20: the 2020 recalc's start-up).
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

SCRIPT = """\
import os, sys
from xl_aiindex.cli import main
main(["--version"])
import numpy
print(os.environ.get("OPENBLAS_NUM_THREADS"), "numpy" in sys.modules)
"""


@pytest.mark.parametrize(("given", "expected"), [(None, "1"), ("2", "2")])
def test_the_command_line_sets_one_blas_thread_unless_told(given, expected):
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    if given is not None:
        env["OPENBLAS_NUM_THREADS"] = given
    out = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True,
                         text=True, check=True).stdout.split()
    assert out[-2:] == [expected, "True"]


def test_numpy_is_not_loaded_before_the_setting_can_apply():
    # OPENBLAS_NUM_THREADS is read once, when numpy loads: the command line must not import
    # numpy before main() sets it
    out = subprocess.run([sys.executable, "-c",
                          "import sys, xl_aiindex.cli; print('numpy' in sys.modules)"],
                         capture_output=True, text=True, check=True).stdout.strip()
    assert out == "False"
