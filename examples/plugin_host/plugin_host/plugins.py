"""The API plugins use to observe the server. The server attaches itself after startup."""


class PluginAPI:
    def __init__(self):
        self.host = None  # the Server, set by attach()
        self.subscribers = []

    def attach(self, host) -> None:
        self.host = host

    def notify_exit(self, task) -> None:
        sandbox = self.host.tasks.sandbox_of(task)  # expect: NIL001
        for plugin in self.subscribers:
            plugin.task_exited(task.id, sandbox)
