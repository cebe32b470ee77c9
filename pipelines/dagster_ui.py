"""Drive the Dagster UI the way a browser does: ``dagster dev`` on loopback, and the GraphQL calls its pages send.

``DagsterUI`` starts ``dagster dev`` (webserver, daemon and code server; ``workspace.yaml``) for a
``DAGSTER_HOME`` and environment, waits until the code location is loaded, and offers the requests the UI's own
pages make — ``launchPipelineExecution`` as the asset page's *Materialize* for one partition sends it,
``launchPartitionBackfill`` as the launch dialog sends it for a range of an asset selection or for a job, the
*Reload* of a code location — and the queries to follow runs, backfills and an asset's per-day metadata.

Used by the UI tests (``tests/test_ui.py``), the UI backfill benchmark (``benchmarks/ui_backfill.py``) and the
screenshot script of docs/ui.md (``scripts/ui_screenshots.py``). It needs nothing beyond the Python standard
library and the project's own dependencies (the webserver is ``dagster-webserver``).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from narrative_tracker.settings import child_environment

REPO = Path(__file__).resolve().parents[1]

LAUNCH_RUN = """
mutation LaunchPipelineExecution($executionParams: ExecutionParams!) {
  launchPipelineExecution(executionParams: $executionParams) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on PythonError { message stack }
    ... on RunConfigValidationInvalid { errors { message } }
    ... on Error { message }
  }
}"""

LAUNCH_BACKFILL = """
mutation LaunchPartitionBackfill($backfillParams: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $backfillParams) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on PythonError { message stack }
    ... on Error { message }
  }
}"""

RELOAD = """
mutation ReloadRepositoryLocationMutation($location: String!) {
  reloadRepositoryLocation(repositoryLocationName: $location) {
    __typename
    ... on WorkspaceLocationEntry { locationOrLoadError { __typename ... on PythonError { message } } }
    ... on Error { message }
  }
}"""

WORKSPACE = """
query { workspaceOrError { __typename ... on Workspace { locationEntries { name loadStatus
  locationOrLoadError { __typename ... on RepositoryLocation { repositories { name } } ... on PythonError { message } } } } } }"""

RUN = """
query RunStatus($runId: ID!) { runOrError(runId: $runId) { __typename
  ... on Run { runId status jobName startTime endTime tags { key value } } } }"""

BACKFILL = """
query Backfill($backfillId: String!) { partitionBackfillOrError(backfillId: $backfillId) { __typename
  ... on PartitionBackfill { id status numPartitions
    runs(limit: 100) { runId status jobName tags { key value } } } } }"""

RUNS = """
query Runs($filter: RunsFilter) { runsOrError(filter: $filter) { __typename
  ... on Runs { results { runId status jobName tags { key value } assetSelection { path } } } } }"""

MATERIALIZATIONS = """
query Materializations($assetKey: AssetKeyInput!, $partitions: [String!], $limit: Int) {
  assetOrError(assetKey: $assetKey) { __typename ... on Asset {
    assetMaterializations(partitions: $partitions, limit: $limit) { runId partition timestamp
      metadataEntries { label __typename
        ... on IntMetadataEntry { intValue } ... on FloatMetadataEntry { floatValue }
        ... on TextMetadataEntry { text } ... on JsonMetadataEntry { jsonString }
        ... on MarkdownMetadataEntry { mdStr } ... on PathMetadataEntry { path } } } } } }"""

PARTITION_KEYS = """
query PartitionKeys($assetKey: AssetKeyInput!) { assetNodeOrError(assetKey: $assetKey) { __typename
  ... on AssetNode { partitionKeysByDimension { partitionKeys } } } }"""

FINISHED = {"SUCCESS", "FAILURE", "CANCELED"}
BACKFILL_DONE = {"COMPLETED", "COMPLETED_SUCCESS", "COMPLETED_FAILED", "FAILED", "CANCELED"}


class UIError(RuntimeError):
    """The UI refused a request, or something did not finish in time."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class DagsterUI:
    """``dagster dev`` on 127.0.0.1 for the instance in ``home`` with ``env`` added to the environment (e.g.
    ``NARRATIVES_DB``). Use as a context manager; ``log`` receives webserver/daemon output."""

    def __init__(self, home: str | os.PathLike, env: dict[str, str] | None = None, port: int | None = None,
                 workspace: str | os.PathLike = REPO / "workspace.yaml", log: str | os.PathLike | None = None,
                 start_timeout: float = 600.0) -> None:
        self.home = Path(home)
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = child_environment({"DAGSTER_HOME": str(self.home), "PYTHONWARNINGS": "ignore", **(env or {})})
        self.workspace = Path(workspace)
        self.log_path = Path(log) if log else self.home / "dagster-dev.log"
        self.start_timeout = start_timeout
        self.process: subprocess.Popen | None = None
        self.location = ""
        self.repository = ""

    # -- process -------------------------------------------------------------------------------------------------
    def __enter__(self) -> DagsterUI:
        from pipelines.run import INSTANCE_YAML

        self.home.mkdir(parents=True, exist_ok=True)
        config = self.home / "dagster.yaml"
        if not config.exists():
            config.write_text(INSTANCE_YAML, encoding="utf-8")
        self._log = open(self.log_path, "ab")
        dagster = Path(sys.executable).with_name("dagster")
        self.process = subprocess.Popen(
            [str(dagster), "dev", "-w", str(self.workspace), "-h", "127.0.0.1", "-p", str(self.port)],
            cwd=REPO, env=self.env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True,
            preexec_fn=_child_setup)
        try:
            self._wait_loaded()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self._log.close()

    def _wait_loaded(self) -> None:
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise UIError(f"dagster dev exited ({self.process.returncode}); see {self.log_path}")
            try:
                data = self.graphql(WORKSPACE)
            except (urllib.error.URLError, ConnectionError, UIError):
                time.sleep(1.0)
                continue
            entries = data["workspaceOrError"].get("locationEntries", [])
            loaded = [e for e in entries if e["loadStatus"] == "LOADED"]
            if loaded:
                entry = loaded[0]["locationOrLoadError"]
                if entry["__typename"] != "RepositoryLocation":
                    raise UIError(f"the code location failed to load: {entry.get('message')}")
                self.location, self.repository = loaded[0]["name"], entry["repositories"][0]["name"]
                return
            time.sleep(1.0)
        raise UIError(f"the UI did not load the code location within {self.start_timeout:.0f} s; see {self.log_path}")

    # -- GraphQL -------------------------------------------------------------------------------------------------
    def graphql(self, query: str, variables: dict | None = None, timeout: float = 120.0) -> dict:
        body = json.dumps({"query": query, "variables": variables or {}}).encode()
        request = urllib.request.Request(f"{self.url}/graphql", data=body, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=timeout) as response:
            answer = json.loads(response.read())
        if answer.get("errors"):
            raise UIError(f"GraphQL errors: {answer['errors']}")
        return answer["data"]

    def repository_selector(self) -> dict:
        return {"repositoryLocationName": self.location, "repositoryName": self.repository}

    def reload(self) -> None:
        """The *Reload* button of the code location (Deployment page): the code server imports the code again."""
        answer = self.graphql(RELOAD, {"location": self.location})["reloadRepositoryLocation"]
        if answer["__typename"] != "WorkspaceLocationEntry":
            raise UIError(f"reload failed: {answer}")
        self._wait_loaded()

    def launch_assets(self, assets: list[str], checks: list[tuple[str, str]] = (), partition: str | None = None,
                      job: str = "__ASSET_JOB", run_config: dict | None = None, tags: dict | None = None) -> str:
        """*Materialize* on an asset page (one partition: the dialog's "Launch 1 run"): ``launchPipelineExecution``
        of the asset job with the asset (and its checks) selected and the partition tag. Returns the run id."""
        run_tags = [{"key": k, "value": v} for k, v in (tags or {}).items()]
        if partition is not None:
            run_tags.append({"key": "dagster/partition", "value": partition})
        params = {
            "mode": "default",
            "executionMetadata": {"tags": run_tags},
            "runConfigData": json.dumps(run_config or {}),
            "selector": {**self.repository_selector(), "pipelineName": job,
                         "assetSelection": [{"path": [a]} for a in assets],
                         "assetCheckSelection": [{"assetKey": {"path": [a]}, "name": n} for a, n in checks]},
        }
        answer = self.graphql(LAUNCH_RUN, {"executionParams": params})["launchPipelineExecution"]
        if answer["__typename"] != "LaunchRunSuccess":
            raise UIError(f"launch refused: {answer}")
        return answer["run"]["runId"]

    def launch_job(self, job: str, run_config: dict | None = None, tags: dict | None = None) -> str:
        """The Launchpad's *Launch run* for a whole (unpartitioned) job. Returns the run id."""
        params = {"mode": "default", "executionMetadata": {"tags": [{"key": k, "value": v} for k, v in (tags or {}).items()]},
                  "runConfigData": json.dumps(run_config or {}),
                  "selector": {**self.repository_selector(), "pipelineName": job}}
        answer = self.graphql(LAUNCH_RUN, {"executionParams": params})["launchPipelineExecution"]
        if answer["__typename"] != "LaunchRunSuccess":
            raise UIError(f"launch refused: {answer}")
        return answer["run"]["runId"]

    def launch_backfill(self, assets: list[str], partitions: list[str], job: str | None = None,
                        tags: dict | None = None) -> str:
        """The launch dialog's *Launch backfill*: for an asset selection (a lineage selection, several assets) an
        asset backfill of those assets and partitions; with ``job``, the job page's backfill (its partition set and
        assets). Returns the backfill id."""
        params = {"tags": [{"key": k, "value": v} for k, v in (tags or {}).items()],
                  "assetSelection": [{"path": [a]} for a in assets],
                  "partitionNames": partitions, "fromFailure": False}
        if job is not None:
            params["selector"] = {"partitionSetName": f"{job}_partition_set",
                                  "repositorySelector": self.repository_selector()}
        answer = self.graphql(LAUNCH_BACKFILL, {"backfillParams": params})["launchPartitionBackfill"]
        if answer["__typename"] != "LaunchBackfillSuccess":
            raise UIError(f"backfill refused: {answer}")
        return answer["backfillId"]

    # -- following -----------------------------------------------------------------------------------------------
    def run(self, run_id: str) -> dict:
        return self.graphql(RUN, {"runId": run_id})["runOrError"]

    def wait_run(self, run_id: str, timeout: float = 900.0, poll: float = 2.0) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            run = self.run(run_id)
            if run.get("status") in FINISHED:
                return run
            time.sleep(poll)
        raise UIError(f"run {run_id} did not finish within {timeout:.0f} s (status {run.get('status')})")

    def backfill(self, backfill_id: str) -> dict:
        return self.graphql(BACKFILL, {"backfillId": backfill_id})["partitionBackfillOrError"]

    def wait_backfill(self, backfill_id: str, timeout: float = 1800.0, poll: float = 3.0) -> dict:
        """Wait until the backfill is done and none of its runs is still going; returns it with its runs."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            backfill = self.backfill(backfill_id)
            if backfill.get("status") in BACKFILL_DONE and all(r["status"] in FINISHED for r in backfill["runs"]):
                return backfill
            time.sleep(poll)
        raise UIError(f"backfill {backfill_id} did not finish within {timeout:.0f} s: {self.backfill(backfill_id)}")

    def runs(self, tags: dict | None = None, statuses: list[str] | None = None) -> list[dict]:
        run_filter = {"tags": [{"key": k, "value": v} for k, v in (tags or {}).items()]}
        if statuses:
            run_filter["statuses"] = statuses
        return self.graphql(RUNS, {"filter": run_filter})["runsOrError"]["results"]

    def materializations(self, asset: str, partitions: list[str] | None = None, limit: int | None = None) -> list[dict]:
        """The asset's materializations (newest first), each with its partition and metadata as ``{label: value}``."""
        answer = self.graphql(MATERIALIZATIONS, {"assetKey": {"path": [asset]}, "partitions": partitions, "limit": limit})
        found = answer["assetOrError"].get("assetMaterializations", [])
        for event in found:
            event["metadata"] = {e["label"]: _metadata_value(e) for e in event.pop("metadataEntries")}
        return found

    def partition_keys(self, asset: str) -> list[str]:
        node = self.graphql(PARTITION_KEYS, {"assetKey": {"path": [asset]}})["assetNodeOrError"]
        return node["partitionKeysByDimension"][0]["partitionKeys"]

    def wait_materialized(self, asset: str, after: float, timeout: float = 600.0, poll: float = 3.0) -> dict:
        """Wait for a materialization of ``asset`` newer than ``after`` (epoch seconds) and return it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            latest = self.materializations(asset, limit=1)
            if latest and float(latest[0]["timestamp"]) / 1000 > after:
                return latest[0]
            time.sleep(poll)
        raise UIError(f"{asset} was not materialised within {timeout:.0f} s after {after}")


def _child_setup() -> None:
    """In the ``dagster dev`` child before it starts: a shell's background job ignores SIGINT, and dagster dev stops
    its webserver, daemon and code server on it, so restore it; and on Linux ask for SIGINT when the process that
    started it dies (a test or benchmark killed by a timeout), so no webserver or run is left behind."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    if sys.platform.startswith("linux"):
        import ctypes

        PR_SET_PDEATHSIG = 1
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGINT)


def _metadata_value(entry: dict):
    kind = entry["__typename"]
    if kind == "IntMetadataEntry":
        return entry["intValue"]
    if kind == "FloatMetadataEntry":
        return entry["floatValue"]
    if kind == "JsonMetadataEntry":
        return json.loads(entry["jsonString"])
    if kind == "MarkdownMetadataEntry":
        return entry["mdStr"]
    if kind == "PathMetadataEntry":
        return entry["path"]
    return entry.get("text")
