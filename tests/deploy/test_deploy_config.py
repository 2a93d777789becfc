"""The deployment files docs/deploy.md names exist and hold together: YAML that parses, the
code location the Helm values and the Dockerfile name exists, every path a Dockerfile copies is in
the repository, and no secret is written in any of them."""

from __future__ import annotations

import importlib
import re
import shlex

import pytest
import yaml

from orchestration import env
from orchestration.defs.jobs import INGEST_TAGS, STAGES, WAREHOUSE_TAG, refresh_ingest

ROOT = env.PROJECT_ROOT
DEPLOY = ROOT / "deploy"
YAML_FILES = ["helm/values.yaml", "dagster.yaml", "k8s/dashboard.yaml", "k8s/config.yaml"]
DOCKERFILES = ["Dockerfile", "Dockerfile.dashboard"]
# A password in a URL, or a secret-looking key with a literal value.
INGEST_LIMIT = {"key": WAREHOUSE_TAG, "value": INGEST_TAGS[WAREHOUSE_TAG], "limit": 1}
SECRET_URL = re.compile(r"://[^/\s:@]+:[^/\s@]+@")
SECRET_KEY = re.compile(r"^\s*-?\s*[\w-]*(password|token|api_?key)\s*[:=][ \t]*\S.*$", re.I | re.M)


def _documents(name: str) -> list[dict]:
    return [d for d in yaml.safe_load_all((DEPLOY / name).read_text()) if d is not None]


def test_deploy_md_names_only_files_that_exist():
    text = (ROOT / "docs" / "deploy.md").read_text()
    named = set(re.findall(r"`((?:deploy|dbt_project|orchestration)/[\w./-]+)`", text))
    assert {f"deploy/{n}" for n in [*YAML_FILES, *DOCKERFILES]} <= named
    assert [n for n in sorted(named) if not (ROOT / n).exists()] == []


@pytest.mark.parametrize("name", YAML_FILES)
def test_yaml_renders(name):
    assert _documents(name)


def _grpc_target(args: list[str]) -> tuple[str, str]:
    return args[args.index("--module-name") + 1], args[args.index("--attribute") + 1]


def test_helm_values_name_the_code_location_and_the_k8s_run_launcher():
    values = _documents("helm/values.yaml")[0]
    (deployment,) = values["dagster-user-deployments"]["deployments"]
    module, attribute = _grpc_target(deployment["dagsterApiGrpcArgs"])
    assert (module, attribute) == ("orchestration.definitions", "defs")
    assert isinstance(
        getattr(importlib.import_module(module), attribute), __import__("dagster").Definitions
    )
    workspace = yaml.safe_load((ROOT / "workspace.yaml").read_text())
    assert workspace["load_from"][0]["python_module"]["module_name"] == module
    assert values["runLauncher"]["type"] == "K8sRunLauncher"
    assert values["postgresql"]["enabled"] is False  # the managed PostgreSQL, not the chart's
    assert values["generatePostgresqlPasswordSecret"] is False
    limits = values["dagsterDaemon"]["runCoordinator"]["config"]["queuedRunCoordinator"]
    limit, ingest = limits["tagConcurrencyLimits"]
    assert limit["key"] == WAREHOUSE_TAG and "value" not in limit and limit["limit"] >= 1
    assert ingest == INGEST_LIMIT  # one ingest run at a time: drops stored in arrival order
    assert all(job.tags[WAREHOUSE_TAG] for job in STAGES)  # every refresh run carries the tag
    assert refresh_ingest.tags == INGEST_TAGS
    # The group runs the chaining sensor keeps in flight fit in the tag limit.
    config = _documents("k8s/config.yaml")[0]["data"]
    assert int(config["PARTSFLOW_WAREHOUSE_WRITERS"]) == limit["limit"]
    assert int(config["PARTSFLOW_LOCATION_GROUPS"]) >= 1


def test_dagster_instance_config_is_valid_and_reads_storage_from_the_environment(tmp_path):
    from dagster._core.instance.config import dagster_instance_config

    (tmp_path / "dagster.yaml").write_text((DEPLOY / "dagster.yaml").read_text())
    config, _ = dagster_instance_config(str(tmp_path))
    assert config["run_launcher"]["module"] == "dagster_k8s"
    assert config["run_launcher"]["class"] == "K8sRunLauncher"
    db = config["storage"]["postgres"]["postgres_db"]
    assert all(set(db[k]) == {"env"} for k in ("hostname", "db_name", "username", "password"))
    limits = config["run_coordinator"]["config"]["tag_concurrency_limits"]
    assert [limit["key"] for limit in limits] == [WAREHOUSE_TAG, WAREHOUSE_TAG]
    assert limits[1] == INGEST_LIMIT


@pytest.mark.parametrize("name", DOCKERFILES)
def test_dockerfiles_copy_existing_paths_and_run_existing_code(name):
    text = (DEPLOY / name).read_text().replace("\\\n", " ")
    copies = [line.split()[1:-1] for line in text.splitlines() if line.startswith("COPY ")]
    assert copies
    for sources in copies:
        for source in sources:
            assert (ROOT / source).exists(), f"{name} copies {source}, not in the repository"
    cmd = next(line for line in text.splitlines() if line.startswith("CMD "))
    args = [a.strip(",") for a in shlex.split(cmd[4:].strip("[] "))]
    if "--module-name" in args:
        module, attribute = _grpc_target(args)
        assert hasattr(importlib.import_module(module), attribute)
    else:
        assert any((ROOT / a).is_file() for a in args), args


@pytest.mark.parametrize("name", [*YAML_FILES, *DOCKERFILES])
def test_no_secret_is_written_in_deploy_files(name):
    text = (DEPLOY / name).read_text()
    assert not SECRET_URL.search(text)
    # A secret-named key may only open a mapping (e.g. `password:` then `env: ...`), never hold
    # a value.
    assert [m.group(0) for m in SECRET_KEY.finditer(text)] == []
