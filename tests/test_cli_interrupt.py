"""Ctrl-C at any moment — also while p4p imports its modules, before click runs — ends in
已中止。 and exit 1, never a Python traceback (p4p.cli.entry is the console script and
`python -m p4p.cli`)."""

import os
import signal
import subprocess
import sys

import pytest

from p4p.cli import entry

from conftest import ROOT


@pytest.mark.parametrize("module", ["click", "numpy", "pyarrow", "p4p.app"])
def test_ctrl_c_while_importing(tmp_path, module):
    """-X importtime names each module as it is imported: the interrupt comes right after
    `module`, while the commands are still being imported."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    p = subprocess.Popen(
        [sys.executable, "-X", "importtime", "-m", "p4p.cli", "validate", str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        start_new_session=True,
    )
    seen = []
    for line in p.stderr:
        seen.append(line)
        if line.rstrip().endswith(b"| " + module.encode()) or line.rstrip().endswith(b" " + module.encode()):
            os.killpg(p.pid, signal.SIGINT)
            break
    rest = p.stderr.read()
    p.wait(timeout=60)
    err = b"".join(seen[-1:]) + rest
    text = err.decode("utf-8", "replace")
    assert "Traceback" not in text and "KeyboardInterrupt" not in text, text
    assert p.returncode == 1 and text.rstrip().endswith("已中止。"), (p.returncode, text[-300:])


def test_entry_turns_an_interrupt_during_import_into_aborted(monkeypatch, capsys):
    class Interrupting:
        def __getattr__(self, name):
            raise KeyboardInterrupt

    class Exited(Exception):
        pass

    def exit_now(code):  # os._exit, which would end pytest itself
        raise Exited(code)

    monkeypatch.setitem(sys.modules, "p4p.cli.commands", Interrupting())
    monkeypatch.setattr(entry.os, "_exit", exit_now)
    with pytest.raises(Exited) as e:
        entry.main()
    assert e.value.args == (1,) and capsys.readouterr().err == "已中止。\n"
