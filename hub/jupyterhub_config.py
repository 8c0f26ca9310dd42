"""JupyterHub's configuration for the classroom (`make hub`; hub.classroom.Classroom starts it).

Everything that varies (port, state folder, accounts) comes from the environment Classroom sets,
so this file holds only the choices: PAM against real Unix accounts, one local process per user,
single-user JupyterLab from the course's Python environment, nbgrader's extensions per role.
"""

import json
import os
import sys

c = get_config()  # noqa: F821 - provided by traitlets when JupyterHub loads this file

STATE = os.environ["TNN_HUB_STATE"]
ROLES = json.loads(os.environ["TNN_HUB_ROLES"])        # {"tnn-student1": "student", ...}
BIN = os.path.dirname(sys.executable)                   # the course's .venv/bin

c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = int(os.environ.get("HUB_PORT", "8000"))
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = int(os.environ["TNN_HUB_API_PORT"])
c.JupyterHub.db_url = f"sqlite:///{STATE}/jupyterhub.sqlite"
c.JupyterHub.cookie_secret_file = f"{STATE}/jupyterhub_cookie_secret"
c.JupyterHub.pid_file = f"{STATE}/jupyterhub.pid"
# The proxy from hub/node_modules (npm, pinned by hub/package-lock.json), never one on PATH.
c.ConfigurableHTTPProxy.command = [os.environ["TNN_HUB_PROXY"]]
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{os.environ['TNN_HUB_PROXY_API_PORT']}"
# Stopping the hub stops the proxy and every single-user server (the default, stated).
c.JupyterHub.cleanup_servers = True
c.JupyterHub.cleanup_proxy = True

# Real Unix accounts, their passwords checked by PAM (the hub runs as root to do so); only the
# roster's accounts may log in, never another account of the machine.
c.JupyterHub.authenticator_class = "pam"
c.Authenticator.allowed_users = set(ROLES)
c.Authenticator.admin_users = set()
c.PAMAuthenticator.open_sessions = False

c.JupyterHub.spawner_class = "jupyterhub.spawner.LocalProcessSpawner"
c.Spawner.cmd = [os.path.join(BIN, "jupyterhub-singleuser")]
c.Spawner.default_url = "/lab"
# Only these of the hub's environment reach a server: not PYTHONPATH (the course's checkout).
c.Spawner.env_keep = ["LANG", "LC_ALL"]
c.Spawner.notebook_dir = "~"
c.Spawner.http_timeout = 120
c.Spawner.start_timeout = 120


def role_environment(spawner):
    """Each role's Jupyter configuration folder (hub/classroom.py writes them): the exchange and
    course_id for everyone; the formgrader and course list for the instructor only."""
    role = ROLES[spawner.user.name]
    return {
        "JUPYTER_CONFIG_PATH": f"{STATE}/jupyter-{role}",
        "PATH": f"{BIN}:/usr/bin:/bin",
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "TF_ENABLE_ONEDNN_OPTS": "0",
    }


def pre_spawn_hook(spawner):
    spawner.environment.update(role_environment(spawner))


c.Spawner.pre_spawn_hook = pre_spawn_hook
