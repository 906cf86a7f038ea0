"""Who may do what: the three roles, which DAGs only Admin may trigger, and a bootstrap that creates them.

Airflow's FAB auth manager lets a user trigger a DAG only with `can_edit` on the DAG ("DAG:<id>" or all
"DAGs") AND `can_create` on its runs ("DAG Run:<id>" or all "DAG Runs"). Admin holds both globally.
Developer holds only global read permissions (FAB's Viewer set) and gets edit/create per DAG through
`DAG(access_control=...)`, so it can trigger just the DAGs listed here. ModelUser (people who only call the
deployed model) can log in and manage its own profile, nothing else. It is not called "User": that name is
a FAB built-in role which FAB re-grants global DAG edit and run creation on every start.

DAG files import this module at parse time: it imports nothing from Airflow until `bootstrap` runs.

    python -m llmops.access bootstrap   # idempotent; users from LLMOPS_BOOTSTRAP_USERS (JSON list)
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

ADMIN = "Admin"
DEVELOPER = "Developer"
MODEL_USER = "ModelUser"
ROLES = (ADMIN, DEVELOPER, MODEL_USER)

# Training and deployment spend GPUs and change what users are served: only Admin starts them.
ADMIN_ONLY_DAGS = frozenset({"llmops_train", "llmops_deploy"})
# Developers test the data layer and the governance and drift checks by running them (a drift run changes
# nothing served: an alert through Alertmanager, not the run, starts retraining).
DEVELOPER_DAGS = frozenset({"llmops_data", "llmops_demo", "llmops_governance", "llmops_drift"})

USERS_ENV = "LLMOPS_BOOTSTRAP_USERS"

_DAG_ACTIONS = {"can_read", "can_edit", "can_delete"}
_RUN_ACTIONS = {"can_read", "can_create", "can_delete"}
_OWN_ACCOUNT = {
    ("can_read", "Website"),
    ("can_read", "My Profile"),
    ("can_edit", "My Profile"),
    ("can_read", "My Password"),
    ("can_edit", "My Password"),
}
# the plugin views, among them the "LLMOps" ops page (FAB's Viewer set does not include them)
_PLUGIN_VIEWS = {("can_read", "Plugins")}


def admin_only() -> dict[str, dict[str, set[str]]]:
    """Access for a DAG only Admin may trigger. Being non-empty it also makes FAB revoke stale per-DAG grants."""
    return {ADMIN: {"DAGs": set(_DAG_ACTIONS), "DAG Runs": set(_RUN_ACTIONS)}}


def developer_triggerable() -> dict[str, dict[str, set[str]]]:
    """Access for a DAG Developer may trigger (and pause/unpause) as well as read."""
    return {
        **admin_only(),
        DEVELOPER: {"DAGs": {"can_read", "can_edit"}, "DAG Runs": {"can_read", "can_create"}},
    }


def access_control(dag_id: str) -> dict[str, dict[str, set[str]]]:
    """The `DAG(access_control=...)` value for an llmops DAG; an unregistered id fails rather than default open."""
    if dag_id in ADMIN_ONLY_DAGS:
        return admin_only()
    if dag_id in DEVELOPER_DAGS:
        return developer_triggerable()
    raise KeyError(f"{dag_id!r} is in neither ADMIN_ONLY_DAGS nor DEVELOPER_DAGS of llmops.access")


def trigger_roles() -> dict[str, list[str]]:
    """Which roles may trigger each llmops DAG, as declared here (what reports cite; no live Airflow asked)."""
    return {dag_id: sorted(access_control(dag_id)) for dag_id in sorted(ADMIN_ONLY_DAGS | DEVELOPER_DAGS)}


def role_permissions() -> dict[str, set[tuple[str, str]]]:
    """Global (action, resource) permissions of the roles this project defines; Admin is FAB's own."""
    from airflow.providers.fab.auth_manager.security_manager.override import FabAirflowSecurityManagerOverride

    viewer = set(FabAirflowSecurityManagerOverride.VIEWER_PERMISSIONS)
    return {DEVELOPER: viewer | _OWN_ACCOUNT | _PLUGIN_VIEWS, MODEL_USER: set(_OWN_ACCOUNT)}


@dataclass(frozen=True)
class UserSpec:
    username: str
    password: str
    role: str
    email: str = ""


def users_from_env(environ: Mapping[str, str] = os.environ) -> list[UserSpec]:
    """Users to ensure, from a JSON list of {username, password, role[, email]} (empty: none)."""
    raw = environ.get(USERS_ENV, "").strip()
    if not raw:
        return []
    users = [UserSpec(**item) for item in json.loads(raw)]
    for user in users:
        if not user.username or not user.password or user.role not in ROLES:
            raise ValueError(f"{USERS_ENV}: {user.username!r} needs a password and a role in {ROLES}")
    return users


def bootstrap(users: Iterable[UserSpec] = ()) -> list[str]:
    """Create or update the roles and users, then re-apply every serialized DAG's access_control.

    Existing users keep their password (it may have been changed since) but get exactly their declared role.
    DAG access is re-applied because a DAG parsed before its roles existed failed to sync its permissions.
    Returns what changed: an empty list on a rerun.
    """
    from airflow.configuration import conf
    from airflow.providers.fab.auth_manager.cli_commands.utils import get_application_builder
    from airflow.providers.fab.www.security.permissions import PREFIX_LIST

    if "FabAuthManager" not in conf.get("core", "auth_manager"):
        raise RuntimeError("set AIRFLOW__CORE__AUTH_MANAGER to the FAB auth manager before bootstrapping roles")
    changes: list[str] = []
    with get_application_builder() as appbuilder:
        sm = appbuilder.sm
        # what `airflow sync-perm` does: FAB's resources and built-in roles, before ours refer to them
        appbuilder.add_permissions(update_perms=True)
        sm.sync_roles()
        for name, wanted in role_permissions().items():
            role = sm.find_role(name) or sm.add_role(name)
            have = {(p.action.name, p.resource.name): p for p in role.permissions
                    if not p.resource.name.startswith(tuple(PREFIX_LIST))}
            for action, resource in sorted(wanted - have.keys()):
                sm.add_permission_to_role(role, sm.create_permission(action, resource))
                changes.append(f"role {name}: + {action} on {resource}")
            for action, resource in sorted(have.keys() - wanted):
                sm.remove_permission_from_role(role, have[(action, resource)])
                changes.append(f"role {name}: - {action} on {resource}")
        for user in users:
            role = sm.find_role(user.role)
            existing = sm.find_user(username=user.username)
            if existing is None:
                email = user.email or f"{user.username}@localhost"
                sm.add_user(username=user.username, first_name=user.username, last_name=user.role, email=email,
                            role=role, password=user.password)
                changes.append(f"user {user.username}: created with role {user.role}")
            elif [r.name for r in existing.roles] != [user.role]:
                existing.roles = [role]
                sm.update_user(existing)
                changes.append(f"user {user.username}: role set to {user.role}")
        sm.create_dag_specific_permissions()
    return changes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m llmops.access", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("bootstrap", help=f"create/update roles {', '.join(ROLES)} and the users in ${USERS_ENV}")
    parser.parse_args(argv)

    from airflow.utils.providers_configuration_loader import providers_configuration_loaded

    changes = providers_configuration_loaded(bootstrap)(users_from_env())
    print("\n".join(changes) or "roles and users already up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
