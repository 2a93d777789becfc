"""Child process of test_publish_faults: publish the serving copy (under the fault the parent
put on this process) and print the outcome as JSON."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from orchestration import env
from orchestration.defs.serving.publish import PublishError, publish_duckdb_copy
from orchestration.warehouse import connect


def main(warehouse_url: str, serving_dir: str) -> None:
    with connect(env.Warehouse(warehouse_url)) as conn:
        try:
            publish_duckdb_copy(conn, Path(serving_dir) / "serving.duckdb")
        except PublishError as exc:
            print(json.dumps({"ok": False, "errors": [str(exc)]}))
            return
    print(json.dumps({"ok": True, "errors": []}))


if __name__ == "__main__":
    main(*sys.argv[1:3])
