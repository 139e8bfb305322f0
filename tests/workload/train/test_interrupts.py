"""ryot.infra.interrupts: SIGTERM turned into an interrupt (the subprocess run is in
tests/cli/test_train_hardening.py)."""

import os
import signal
import time

import pytest

from ryot.infra import interrupts


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


def test_an_interrupt_a_finalizer_swallowed_is_raised_at_the_next_step():
    """Python drops a KeyboardInterrupt raised inside ``__del__`` ("Exception ignored in"):
    the training loop's per-step check raises it again, so Ctrl-C is never lost."""
    import gc
    import os
    import signal as signals
    import time

    import pytest

    from ryot.infra.interrupts import Terminated, raise_pending, terminate_as_interrupt

    class SignalsWhileFinalized:
        def __del__(self):
            os.kill(os.getpid(), signals.SIGINT)
            time.sleep(0.2)  # the handler runs here, inside the finalizer

    with terminate_as_interrupt():
        SignalsWhileFinalized()  # finalized at once: the interrupt is swallowed
        gc.collect()
        with pytest.raises(Terminated) as info:
            raise_pending()
    assert info.value.signum == signals.SIGINT
    raise_pending()  # outside the block nothing is pending
