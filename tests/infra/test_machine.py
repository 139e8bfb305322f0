"""ryot.infra.machine: what machine this is."""

from ryot.core import tuning as ko
from ryot.infra.machine import HardwareProfile, detect


def test_detect_reads_real_hardware():
    hw = detect()
    assert hw.kind in ("cpu", "cuda") and hw.cores >= 1 and hw.memory_bytes > 0
    assert HardwareProfile.from_dict(hw.to_dict()) == hw
    assert len(hw.fingerprint()) == 16


def test_detect_reports_isa_flags_on_cpu():
    hw = ko.detect()
    if hw.kind == "cpu":
        flags = open("/proc/cpuinfo").read()
        for flag in hw.isa_flags:
            assert flag in flags or flag == "neon"
