"""The command line as a user meets it: Chinese help with examples on every command, click's own
words in Chinese, --quiet for scripts, a closed pipe that is not an error, and explain saying
which codes exist."""

import subprocess
import sys

import pytest

from p4p.cli import main

from conftest import ROOT, cli, run_ok


def commands(group, prefix=()):
    for name, cmd in sorted(group.commands.items()):
        if hasattr(cmd, "commands"):
            yield from commands(cmd, (*prefix, name))
        else:
            yield (*prefix, name)


@pytest.mark.parametrize("path", list(commands(main)), ids=" ".join)
def test_every_command_has_chinese_help_with_examples(path):
    r = cli(*path, "--help")
    assert r.exit_code == 0
    assert "用法：" in r.stdout and "[选项]" in r.stdout and "示例：" in r.stdout, r.stdout
    assert "Show this message" not in r.stdout and "Usage" not in r.stdout
    for english in ("TEXT", "INTEGER", "PATH", "FILE", "[required]", "default:"):
        assert english not in r.stdout, english


def test_click_errors_are_chinese():
    r = cli("run")
    assert r.exit_code == 2 and "缺少参数" in r.stderr and "Missing" not in r.stderr
    r = cli("nosuchcommand")
    assert r.exit_code == 2 and "没有命令" in r.stderr


def test_quiet_leaves_out_progress_but_not_the_result(base_quarter, archive):
    loud = cli("run", base_quarter, "--archive", archive, "--no-pdf")
    quiet = cli("-q", "run", base_quarter, "--archive", archive, "--no-pdf")
    assert "读取规则与输入" in loud.stderr and "读取规则与输入" not in quiet.stderr
    assert quiet.exit_code == 0 and quiet.stdout.strip().splitlines()[-1].startswith(str(archive))


def test_explain_names_the_items_an_institution_has(base_quarter, archive):
    rd = run_ok(base_quarter, archive)
    r = cli("explain", rd, "T01", "院长绩效奖励")
    assert r.exit_code == 1 and "DIRECTOR_BONUS（院长绩效奖励）" in r.stderr and "PH_FUND（基本公卫经费）" in r.stderr
    r = cli("explain", rd, "X99")
    assert r.exit_code == 1 and "没有机构 X99" in r.stderr and "C01" in r.stderr


@pytest.mark.slow
def test_a_closed_pipe_is_not_a_traceback(base_quarter, archive):
    run_ok(base_quarter, archive)
    run_ok(base_quarter, archive)
    p = subprocess.run(f"{sys.executable} -m p4p.cli history --archive {archive} | head -1", shell=True, check=False,
                       capture_output=True, text=True, cwd=ROOT)  # fmt: skip
    assert p.stdout.strip() == "2026Q1" and "Traceback" not in p.stderr and "Error" not in p.stderr
