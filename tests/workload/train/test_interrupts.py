"""ryot.workload.train.interrupts: SIGTERM turned into an interrupt (the subprocess run is in
tests/cli/test_train_hardening.py)."""

import os
import signal
import time

import pytest

from ryot.workload.train import interrupts


def test_the_first_sigterm_raises_later_ones_are_ignored_and_the_handler_comes_back():
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(interrupts.Terminated) as info:
        with interrupts.terminate_as_interrupt():
            try:
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(5)  # the handler raises at once
            finally:
                os.kill(os.getpid(), signal.SIGTERM)  # winding down: ignored
    assert isinstance(info.value, KeyboardInterrupt)
    assert interrupts.signal_name(info.value) == "SIGTERM"
    assert interrupts.exit_code(info.value) == 143
    assert signal.getsignal(signal.SIGTERM) is before


def test_ctrl_c_keeps_its_name_and_code():
    assert interrupts.signal_name(KeyboardInterrupt()) == "SIGINT"
    assert interrupts.exit_code(KeyboardInterrupt()) == 130
