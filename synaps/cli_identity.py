"""The command line for identity: login, logout, status, config, keys, users."""

from __future__ import annotations

import os
import sys
import uuid
from typing import Annotated, Any

import typer
from rich.table import Table

from adapters.http.client import ApiError, SynapsClient
from domain.access import KeyType
from domain.api_key import key_hint, key_id_for
from domain.user import user_id_for
from synaps.cli_api import ApiUrl
from synaps.cli_config import (
    SETTABLE,
    config_path,
    connect,
    load_config,
    resolve_url,
    save_config,
)
from synaps.console import fail, out

__all__ = ["config_app", "keys_app", "login", "logout", "status", "users_app"]

AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
Tenant = Annotated[
    str | None,
    typer.Option("--tenant", help="Another tenant (needs the tenants:manage permission)."),
]

config_app = typer.Typer(
    help="Read and change the CLI settings (endpoint, api-key) in the user config dir.",
    no_args_is_help=True,
)
keys_app = typer.Typer(
    help="Issue, list and revoke API keys (needs an admin key).", no_args_is_help=True
)
users_app = typer.Typer(
    help="Register, list and disable users (needs an admin key).", no_args_is_help=True
)


def _call(action: Any) -> Any:
    try:
        return action()
    except ApiError as exc:
        raise fail(str(exc)) from None


# -- signing in ----------------------------------------------------------------------


def login(
    api_key: Annotated[
        str | None,
        typer.Option("--api-key", help="Sign in with an API key (sk_live_, sk_test_, sk_admin_)."),
    ] = None,
    email: Annotated[
        str | None, typer.Option("--email", "-e", help="Sign in as a user (asks for the password).")
    ] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    url: ApiUrl = None,
) -> None:
    """Sign in with an API key or with email and password; remember it in the config file.

    The key (or the session's tokens) and the endpoint go to the config file,
    readable by you only. Without options, asks for an API key.
    """
    config = load_config()
    base = resolve_url(url, config)
    if email is None and api_key is None:
        api_key = typer.prompt("API key", hide_input=True)
    if api_key is not None:
        api_key = api_key.strip()
        if KeyType.of_key(api_key) is None:
            raise fail("an API key starts with sk_live_, sk_test_ or sk_admin_", 2)
        with SynapsClient(base, api_key=api_key) as client:
            me = _call(client.whoami)
        config.api_key, config.email = api_key, None
        config.access_token = config.refresh_token = None
    else:
        assert email is not None
        password = (
            sys.stdin.readline().rstrip("\n")
            if password_stdin
            else typer.prompt("Password", hide_input=True)
        )
        with SynapsClient(base) as client:
            pair = _call(lambda: client.login(email, password))
        with SynapsClient(base, access_token=pair["access_token"]) as client:
            me = _call(client.whoami)
        config.api_key, config.email = None, email
        config.access_token, config.refresh_token = pair["access_token"], pair["refresh_token"]
    config.endpoint = base
    path = save_config(config)
    out.print(f"signed in to {base} as {me['actor']} (tenant {me['tenant']}); saved in {path}")


def logout(url: ApiUrl = None) -> None:
    """Sign out: end the session (if signed in as a user) and forget the credentials."""
    config = load_config()
    if config.refresh_token:
        with SynapsClient(resolve_url(url, config)) as client:
            try:
                client.logout(config.refresh_token)
            except ApiError as exc:  # an ended session is signed out all the same
                if exc.status not in (401, 422):
                    raise fail(str(exc)) from None
    was = config.email or (key_hint(config.api_key) if config.api_key else None)
    config.api_key = config.email = config.access_token = config.refresh_token = None
    save_config(config)
    out.print(f"signed out{f' ({was})' if was else ''}")
    if os.environ.get("SYNAPS_API_KEY"):
        out.print("note: SYNAPS_API_KEY is set in your environment and still applies")


def status(url: ApiUrl = None, as_json: AsJson = False) -> None:
    """Show the endpoint, whether it is up, and who the configured credentials are."""
    config = load_config()
    base = resolve_url(url, config)
    result: dict[str, Any] = {"endpoint": base, "config": str(config_path())}
    with SynapsClient(base) as anonymous:
        try:
            result["ready"] = anonymous.get("/readyz").json().get("status") == "ready"
        except ApiError as exc:
            result["ready"] = False
            result["error"] = exc.detail
    if result["ready"]:
        try:
            with connect(url) as client:
                result["signed_in_as"] = client.whoami()
        except ApiError as exc:
            result["signed_in_as"] = None
            result["error"] = exc.detail
    if as_json:
        out.print_json(data=result)
    else:
        out.print(f"endpoint  {base} ({'ready' if result['ready'] else 'not ready'})")
        me = result.get("signed_in_as")
        if me:
            out.print(f"signed in {me['actor']} (tenant {me['tenant']}, {', '.join(me['roles'])})")
            out.print(f"may       {', '.join(me['permissions'])}")
        else:
            out.print("signed in no" + (f": {result['error']}" if result.get("error") else ""))
        out.print(f"config    {result['config']}")
    if not result["ready"] or not result.get("signed_in_as"):
        raise typer.Exit(1)


# -- config --------------------------------------------------------------------------


def _setting(name: str) -> str:
    if name not in SETTABLE:
        raise fail(f"unknown setting {name!r}; one of: {', '.join(SETTABLE)}", 2)
    return SETTABLE[name]


@config_app.command("set")
def config_set(
    name: Annotated[str, typer.Argument(help="endpoint or api-key")],
    value: Annotated[str, typer.Argument(help="The new value.")],
) -> None:
    """Set a setting, e.g. `synaps config set endpoint https://synaps.example.com`."""
    field = _setting(name)
    config = load_config()
    if field == "api_key":
        if KeyType.of_key(value) is None:
            raise fail("an API key starts with sk_live_, sk_test_ or sk_admin_", 2)
        config.email = config.access_token = config.refresh_token = None
    setattr(config, field, value)
    path = save_config(config)
    out.print(f"{name} set in {path}")


@config_app.command("get")
def config_get(name: Annotated[str, typer.Argument(help="endpoint or api-key")]) -> None:
    """Print one setting (empty output and exit 1 when it is not set)."""
    value = getattr(load_config(), _setting(name))
    if value is None:
        raise typer.Exit(1)
    out.print(value, highlight=False, soft_wrap=True)


@config_app.command("list")
def config_list(as_json: AsJson = False) -> None:
    """Every setting, with keys and tokens shortened to a hint."""
    config = load_config()
    shown = {
        "endpoint": config.endpoint,
        "api-key": key_hint(config.api_key) if config.api_key else None,
        "signed-in-as": config.email,
    }
    if as_json:
        out.print_json(data=shown)
        return
    for name, value in shown.items():
        out.print(f"{name:<13}{value or '-'}", highlight=False)
    out.print(f"{'file':<13}{config_path()}", highlight=False)


# -- keys ----------------------------------------------------------------------------


@keys_app.command("create")
def keys_create(
    key_type: Annotated[
        KeyType, typer.Option("--type", "-t", help="live (read and write), test (read), admin.")
    ],
    tenant: Tenant = None,
    scopes: Annotated[
        str | None,
        typer.Option(
            "--scopes",
            help="Comma-separated: read, write, worker, admin or permissions like runs:read."
            " Without: the type's defaults.",
        ),
    ] = None,
    name: Annotated[str, typer.Option("--name", help="A label to recognise the key by.")] = "",
    as_json: AsJson = False,
    url: ApiUrl = None,
) -> None:
    """Issue an API key. It is printed once: store it now, it cannot be shown again."""
    scope_list = [s.strip() for s in scopes.split(",") if s.strip()] if scopes else None
    with connect(url) as client:
        issued = _call(
            lambda: client.create_key(key_type.value, tenant=tenant, scopes=scope_list, name=name)
        )
    if as_json:
        out.print_json(data=issued)
        return
    out.print(issued["key"], highlight=False, soft_wrap=True)
    out.print(
        f"[dim]{issued['key_type']} key {issued['key_id']} for tenant {issued['tenant']}:"
        f" {', '.join(issued['permissions'])}. Shown once.[/]",
        highlight=False,
    )


@keys_app.command("list")
def keys_list(tenant: Tenant = None, as_json: AsJson = False, url: ApiUrl = None) -> None:
    """List the keys of your tenant (hints only; revoked keys included)."""
    with connect(url) as client:
        keys = _call(lambda: client.list_keys(tenant))
    if as_json:
        out.print_json(data=keys)
        return
    table = Table(title=f"API keys of tenant {tenant or 'yours'}")
    table.add_column("id", no_wrap=True)
    table.add_column("type")
    table.add_column("hint", no_wrap=True)
    table.add_column("state")
    table.add_column("name")
    for k in keys:
        state = "revoked" if k["revoked_at"] else "active"
        table.add_row(k["key_id"], k["key_type"], k["hint"], state, k["name"])
    out.print(table)


@keys_app.command("revoke")
def keys_revoke(
    key_or_id: Annotated[str, typer.Argument(help="The key itself (sk_...) or its id.")],
    reason: Annotated[str, typer.Option("--reason", help="Why, for the audit.")] = "",
    url: ApiUrl = None,
) -> None:
    """Revoke a key: it stops working on the next request."""
    if KeyType.of_key(key_or_id) is not None:
        key_id = str(key_id_for(key_or_id))  # the id follows from the key: it never leaves here
    else:
        try:
            key_id = str(uuid.UUID(key_or_id))
        except ValueError:
            raise fail(f"{key_or_id!r} is neither a key (sk_...) nor a key id", 2) from None
    with connect(url) as client:
        revoked = _call(lambda: client.revoke_key(key_id, reason))
    out.print(f"key {revoked['key_id']} ({revoked['hint']}) revoked")


# -- users ---------------------------------------------------------------------------


@users_app.command("create")
def users_create(
    email: Annotated[str, typer.Argument(help="The user's email (the login name).")],
    roles: Annotated[
        str, typer.Option("--roles", help="Comma-separated: viewer, operator, worker, admin.")
    ] = "viewer",
    permissions: Annotated[
        str, typer.Option("--permissions", help="Comma-separated, beyond the roles'.")
    ] = "",
    name: Annotated[str, typer.Option("--name", help="Display name.")] = "",
    tenant: Tenant = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    no_password: Annotated[
        bool, typer.Option("--no-password", help="Signs in through the external issuer only.")
    ] = False,
    as_json: AsJson = False,
    url: ApiUrl = None,
) -> None:
    """Register a user (asks for the password unless --no-password or --password-stdin)."""
    body: dict[str, Any] = {
        "email": email,
        "name": name,
        "roles": [r.strip() for r in roles.split(",") if r.strip()],
        "permissions": [p.strip() for p in permissions.split(",") if p.strip()],
    }
    if tenant:
        body["tenant"] = tenant
    if not no_password:
        body["password"] = (
            sys.stdin.readline().rstrip("\n")
            if password_stdin
            else typer.prompt("Password", hide_input=True, confirmation_prompt=True)
        )
    with connect(url) as client:
        user = _call(lambda: client.create_user(body))
    if as_json:
        out.print_json(data=user)
    else:
        out.print(f"user {user['email']} ({user['user_id']}) registered in tenant {user['tenant']}")


@users_app.command("list")
def users_list(tenant: Tenant = None, as_json: AsJson = False, url: ApiUrl = None) -> None:
    """List the users of your tenant."""
    with connect(url) as client:
        users = _call(lambda: client.list_users(tenant))
    if as_json:
        out.print_json(data=users)
        return
    table = Table(title=f"users of tenant {tenant or 'yours'}")
    table.add_column("email", no_wrap=True)
    table.add_column("roles")
    table.add_column("state")
    table.add_column("id", overflow="fold")
    for u in users:
        state = "disabled" if u["disabled"] else "active"
        table.add_row(u["email"], ", ".join(u["roles"]), state, u["user_id"])
    out.print(table)


@users_app.command("disable")
def users_disable(
    user: Annotated[str, typer.Argument(help="The user's id or email.")],
    reason: Annotated[str, typer.Option("--reason", help="Why, for the audit.")] = "",
    url: ApiUrl = None,
) -> None:
    """Disable a user: no more sign-ins, and its sessions end at once."""
    user_id = str(user_id_for(user)) if "@" in user else user
    with connect(url) as client:
        disabled = _call(lambda: client.disable_user(user_id, reason))
    out.print(f"user {disabled['email']} disabled")
