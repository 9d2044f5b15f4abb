"""Tasks the server runs, persisted across restarts."""
import json
import os
import subprocess
from typing import List


class Task:
    def __init__(self, task_id: str, pid: int, sandbox: str):
        self.id = task_id
        self.pid = pid
        self.sandbox = sandbox

    def wait(self) -> int:
        _, status = os.waitpid(self.pid, 0)
        return status


class TaskStore:
    def __init__(self, state_dir: str):
        self.path = os.path.join(state_dir, "tasks.json")

    def running(self) -> List[Task]:
        with open(self.path) as fh:
            records = json.load(fh)
        return [Task(r["id"], r["pid"], r["sandbox"]) for r in records if _alive(r["pid"])]

    def sandbox_of(self, task: Task) -> str:
        return task.sandbox


def _alive(pid: int) -> bool:
    return subprocess.call(["kill", "-0", str(pid)]) == 0
