"""A task server that restores running tasks at startup and tells plugins when they exit.

The hazard: `restore()` starts a watcher thread per surviving task before `start()`
attaches the plugin API to the server. A task that exits early reaches
`PluginAPI.notify_exit` while `PluginAPI.host` is still None: containerd's NRI crash
(PR #10401), in Python. The fix is constructor injection: `PluginAPI(host=self)`.
"""
import threading

from plugin_host.plugins import PluginAPI
from plugin_host.tasks import TaskStore


class Server:
    def __init__(self, state_dir: str):
        self.tasks = TaskStore(state_dir)
        self.plugins = PluginAPI()

    def start(self) -> None:
        self.restore()
        self.plugins.attach(self)

    def restore(self) -> None:
        for task in self.tasks.running():
            watcher = threading.Thread(target=self.on_task_exit, args=(task,), daemon=True)
            watcher.start()

    def on_task_exit(self, task) -> None:
        task.wait()
        self.plugins.notify_exit(task)
