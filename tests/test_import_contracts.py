"""The import contracts in pyproject.toml (run by `make test` as `lint-imports`)
hold for the code, and break on a wrong-way import: each case below copies the
apps to a temporary directory, adds one forbidden import and runs the same
contracts over the copy."""
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"
CONFIG = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
PACKAGES = CONFIG["root_packages"]
CONTRACTS = [contract["name"] for contract in CONFIG["contracts"]]


def _copy_of_the_apps(destination: Path) -> Path:
    for package in PACKAGES:
        shutil.copytree(ROOT / package, destination / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", destination / "pyproject.toml")
    return destination


def _lint(directory: Path) -> subprocess.CompletedProcess:
    # Run where the copy is, so the packages found are the copy's and not this checkout's.
    return subprocess.run([str(LINT_IMPORTS), "--no-cache", "--no-logo"], cwd=directory, capture_output=True,
                          text=True, timeout=120, env={"PATH": "/usr/bin:/bin", "PYTHONPATH": ""})


def test_it_keeps_every_contract_of_the_code_as_it_is(tmp_path):
    """The unchanged copy passes: a failure below is the added import's doing."""
    result = _lint(_copy_of_the_apps(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{len(CONTRACTS)} kept, 0 broken" in result.stdout


WRONG_WAY = [
    pytest.param("committee/services.py", "from reminders.models import DeadlineKind\n",
                 "committee.services -> reminders.models",
                 ["committee does not import reminders", "Apps depend downwards"], id="committee-imports-reminders"),
    pytest.param("cases/selectors.py",
                 "\n\ndef _agenda_cases(user):\n    from committee.selectors import case_ids_on_agendas_of_member\n\n"
                 "    return case_ids_on_agendas_of_member(user)\n",
                 "cases.selectors -> committee.selectors",
                 ["cases does not import committee", "Apps depend downwards"], id="cases-imports-committee-lazily"),
    pytest.param("api_core/errors.py", "from cases.models import Agency\n", "api_core.errors -> cases.models",
                 ["Apps depend downwards"], id="api-core-imports-a-domain-app"),
    pytest.param("outbox/services.py", "from cases.models import Case\n", "outbox.services -> cases.models",
                 ["The outbox imports no domain app", "Apps depend downwards"], id="outbox-imports-cases"),
    pytest.param("integrations/feed.py", "import reminders.models\n", "integrations.feed -> reminders.models",
                 ["Apps depend downwards"], id="sibling-apps-import-each-other"),
]


@pytest.mark.parametrize(("module", "added", "named_import", "broken"), WRONG_WAY)
def test_a_wrong_way_import_breaks_the_contracts(tmp_path, module, added, named_import, broken):
    """The run fails, names the contract and the import that broke it."""
    directory = _copy_of_the_apps(tmp_path)
    with open(directory / module, "a") as source:
        source.write(added)
    result = _lint(directory)
    assert result.returncode == 1, result.stdout + result.stderr
    report = " ".join(result.stdout.split())  # contract names are wrapped to the terminal's width
    for contract in CONTRACTS:
        status = "BROKEN" if any(contract.startswith(name) for name in broken) else "KEPT"
        assert f"{contract} {status}" in report
    assert named_import in report
    assert f"{len(CONTRACTS) - len(broken)} kept, {len(broken)} broken" in report
