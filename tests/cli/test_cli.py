"""The command line: exit codes 0/1/2 and messages fit for an HR officer."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd

from calib.cli import main

DATA = Path(__file__).resolve().parents[1] / "fixtures"


class TestValidate:
    def test_good_policy_exits_0(self, capsys) -> None:
        """A valid policy is reported ok with its counts."""
        assert main(["validate", str(DATA / "mini.yaml")]) == 0
        assert "ok (mini; 4 KPIs, 2 sections" in capsys.readouterr().out

    def test_bad_policy_exits_1_with_path_and_line(self, tmp_path, capsys) -> None:
        """A typo in a key is refused, naming the path and the line."""
        text = (DATA / "mini.yaml").read_text(encoding="utf-8").replace(
            "combine: weighted", "combine: weighted\n    wieght: 3")
        bad = tmp_path / "bad.yaml"
        bad.write_text(text, encoding="utf-8")
        assert main(["validate", str(bad)]) == 1
        err = capsys.readouterr().err
        assert "sections.sales.wieght (line 46): unknown key" in err

    def test_missing_file_exits_1(self, capsys) -> None:
        """A policy file that does not exist is a bad input, not a crash."""
        assert main(["validate", "nope.yaml"]) == 1
        assert "file not found: nope.yaml" in capsys.readouterr().err

    def test_a_folder_named_as_the_policy_says_which_file_to_name(self, tmp_path, capsys) -> None:
        """`calib validate datasets/gas_cs` (the data folder, not its policy file) is refused
        with the files in it that could be the policy."""
        shutil.copy(DATA / "mini.yaml", tmp_path / "policy.yaml")
        assert main(["validate", str(tmp_path)]) == 1
        err = capsys.readouterr().err
        assert "is a folder, not a policy file" in err and "it holds policy.yaml" in err

    def test_a_policy_not_in_utf8_is_refused_with_a_fix(self, tmp_path, capsys) -> None:
        """A policy saved in GBK (a Chinese Windows default) is a bad input, not a crash."""
        bad = tmp_path / "gbk.yaml"
        bad.write_bytes("name: 燃气客服\n".encode("gbk"))
        assert main(["validate", str(bad)]) == 1
        assert "save the policy file as UTF-8" in capsys.readouterr().err

    def test_output_cut_short_by_the_reader_is_not_an_error(self) -> None:
        """`calib schema | head -1`: the pipe closes early; calib exits 0 and prints nothing
        on stderr (it said "error: Broken pipe")."""
        import subprocess
        import sys

        run = subprocess.run(f'"{sys.executable}" -m calib.cli schema | head -c 10', shell=True,
                             capture_output=True, text=True, check=False,
                             executable="/bin/bash")
        assert run.stdout.startswith("{") and run.stderr == ""

    def test_data_problems_written(self, tmp_path, capsys) -> None:
        """With --data, every data problem is listed and written to --problems."""
        folder = tmp_path / "d"
        shutil.copytree(DATA / "mini", folder)
        rec = pd.read_csv(folder / "records.csv", dtype=str)
        rec.loc[1, "orders"] = "12a"
        rec.loc[2, "attitude"] = "很好"
        rec.to_csv(folder / "records.csv", index=False)
        problems = tmp_path / "problems.csv"
        code = main(["validate", str(DATA / "mini.yaml"), "--data", str(folder),
                     "--problems", str(problems)])
        assert code == 1
        table = pd.read_csv(problems)
        assert set(zip(table["row"], table["column"], table["problem"], strict=True)) == {
            (3, "orders", "not a number"), (4, "attitude", "unknown label")}
        assert "records row 3 (id E1), column 'orders': not a number" in capsys.readouterr().err


class TestRun:
    def test_run_writes_results_with_policy_hash(self, tmp_path, capsys) -> None:
        """Every records row is in results.csv with its status and the policy's sha256."""
        out = tmp_path / "out"
        assert main(["run", "--policy", str(DATA / "mini.yaml"), "--data", str(DATA / "mini"),
                     "--out", str(out)]) == 0
        results = pd.read_csv(out / "results.csv")
        assert len(results) == 4
        assert list(results.columns) == ["id", "period", "level", "scorecard", "status", "reason",
                                         "score", "policy", "policy_sha256"]
        assert (out / "report.xlsx").exists()
        assert results["policy_sha256"].str.len().eq(64).all()
        assert results.loc[results["id"] == "E3", "reason"].item() == "probation"
        assert "not rated, probation: 1" in capsys.readouterr().out

    def test_run_is_deterministic(self, tmp_path) -> None:
        """The same policy and data give byte-identical results."""
        args = ["run", "--policy", str(DATA / "mini.yaml"), "--data", str(DATA / "mini")]
        main([*args, "--out", str(tmp_path / "a")])
        main([*args, "--out", str(tmp_path / "b")])
        assert (tmp_path / "a" / "results.csv").read_bytes() == \
            (tmp_path / "b" / "results.csv").read_bytes()

    def test_run_writes_manifest_last_and_refuses_foreign_folder(self, tmp_path, capsys) -> None:
        """The run folder has a manifest of every file; a folder with other files is refused (exit 1)."""
        args = ["run", "--policy", str(DATA / "mini.yaml"), "--data", str(DATA / "mini")]
        out = tmp_path / "out"
        assert main([*args, "--out", str(out)]) == 0
        manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
        assert set(manifest["files"]) == {p.name for p in out.iterdir()} - {"manifest.json"}
        assert main([*args, "--out", str(out)]) == 0  # its own previous run: replaced
        (out / "mine.txt").write_text("x", encoding="utf-8")
        assert main([*args, "--out", str(out)]) == 1
        assert "holds files calib did not write (mine.txt)" in capsys.readouterr().err


class TestUsage:
    def test_unknown_command_exits_2(self) -> None:
        """A usage error exits with 2."""
        assert main(["bogus"]) == 2

    def test_missing_option_exits_2(self) -> None:
        """`run` without --out is a usage error."""
        assert main(["run", "--policy", "p.yaml", "--data", "d"]) == 2

    def test_params_lists_paths(self, capsys) -> None:
        """`params` prints every tunable path with its value."""
        assert main(["params", str(DATA / "mini.yaml")]) == 0
        assert "kpis.conversion.rule.bands[0].at" in capsys.readouterr().out


def test_version_and_one_name_per_hash(tmp_path: Path, capsys) -> None:
    from calib._util.version import __version__

    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"calib {__version__}"
    policy = Path(__file__).parents[2] / "datasets" / "gas_cs" / "policy.yaml"
    assert main(["freeze", str(policy), "--out", str(tmp_path / "f.json")]) == 0
    frozen = capsys.readouterr().out
    assert main(["signoff", "--policy", str(policy), "--out", str(tmp_path / "s.xlsx")]) == 0
    signoff = capsys.readouterr().out
    import calib
    from calib.policy.hashing import policy_sha256

    digest = policy_sha256(calib.load_policy(policy))
    assert f"policy_sha256 {digest}" in frozen and f"policy_sha256 {digest}" in signoff
    body = json.loads((tmp_path / "f.json").read_text(encoding="utf-8"))["sha256"]
    assert f"frozen_sha256 {body}" in frozen and " sha256 " not in frozen + signoff


def test_explain_refuses_an_extension_it_cannot_write(tmp_path: Path, capsys) -> None:
    gas = Path(__file__).parents[2] / "datasets" / "gas_cs"
    code = main(["explain", "--policy", str(gas / "policy.yaml"), "--data", str(gas), "--id", "GS0001",
                 "--period", "2024-01", "--out", str(tmp_path / "statement.pdf")])
    assert code == 2 and not (tmp_path / "statement.pdf").exists()
    assert "not as '.pdf'" in capsys.readouterr().err


def test_explain_with_overrides_says_who_overrode_what(tmp_path: Path, capsys) -> None:
    gas = Path(__file__).parents[2] / "datasets" / "gas_cs"
    overrides = tmp_path / "overrides.csv"
    overrides.write_text("id,period,field,value,reason,note,by\n"
                         "GS0001,2024-01,grade,A+,evidence,冬季抢修,校准委员会\n", encoding="utf-8")
    args = ["explain", "--policy", str(gas / "policy.yaml"), "--data", str(gas),
            "--overrides", str(overrides)]
    assert main([*args, "--id", "GS0001", "--period", "2024-01"]) == 0
    text = capsys.readouterr().out
    assert "grade overridden: computed A → final A+, reason evidence" in text and "校准委员会" in text
    assert main([*args, "--all", "--out", str(tmp_path / "pages")]) == 0
    pages = [p for p in (tmp_path / "pages").glob("*.html") if "GS0001" in p.name]
    assert pages and "校准委员会" in pages[0].read_text(encoding="utf-8")
