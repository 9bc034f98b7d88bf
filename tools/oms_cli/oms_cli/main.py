"""oms — the operator's command line for an OMS installation.

Talks to the installation the way the services do: the gateway's database (users, tokens),
RabbitMQ (parked events, queue depths, RPC with a timeout to payments, notifications and
exports) and each service's outbox table. Settings come from the same environment as the
services: OMS_AMQP_URI and OMS_DATABASE_URL (or --amqp-uri / --database-url).

Exit codes: 0 done, 1 the operation was refused (unknown user, unknown id, ...),
2 infrastructure unreachable (one line on stderr naming what and where).
"""

import warnings

warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")

import eventlet  # noqa: E402

eventlet.monkey_patch()  # noqa: E402 - nameko's standalone RPC and psycogreen need a patched socket module

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import socket  # noqa: E402
import sys  # noqa: E402
from urllib.parse import urlparse  # noqa: E402

from oms_common.settings import setting  # noqa: E402
from oms_contracts.values import ROLES  # noqa: E402

SERVICES = ("orders", "payments", "notifications", "exports", "documents", "gateway")
SERVICE_CLASSES = {
    "orders": ("orders.service", "OrdersService"),
    "payments": ("payments.service", "PaymentsService"),
    "notifications": ("notifications.service", "NotificationsService"),
    "exports": ("exports.service", "ExportsService"),
    "documents": ("documents.service", "DocumentsService"),
}
MODELS = {
    "orders": "orders.models",
    "payments": "payments.models",
    "notifications": "notifications.models",
    "exports": "exports.models",
    "documents": "documents.models",
    "gateway": "gateway.models",
}


class Unreachable(Exception):
    """RabbitMQ or the database cannot be reached: one line for the operator."""


class Refused(Exception):
    """The operation itself was refused (unknown user, unknown id, a service's problem)."""


# ---------------------------------------------------------------- infrastructure


def _where(url):
    parts = urlparse(url)
    return f"{parts.hostname or 'localhost'}:{parts.port or (5672 if parts.scheme.startswith('amqp') else 5432)}"


def check_amqp(amqp_uri, timeout=3.0):
    parts = urlparse(amqp_uri)
    try:
        with socket.create_connection((parts.hostname or "localhost", parts.port or 5672), timeout=timeout):
            pass
    except OSError as error:
        raise Unreachable(
            f"RabbitMQ is not reachable at {_where(amqp_uri)} ({error.strerror or error}); "
            "check OMS_AMQP_URI or --amqp-uri"
        ) from None


def sql_source(database_url, service):
    """A SessionSource on one service's schema."""
    import importlib

    from oms_common.db import SessionSource, make_engine
    from oms_common.settings import DatabaseNotConfigured
    from oms_common.settings import database_url as resolve

    try:
        url = resolve(database_url, service)
    except DatabaseNotConfigured as error:
        raise Unreachable(str(error)) from None
    infrastructure = importlib.import_module(MODELS[service]).infrastructure
    engine = make_engine(url, schema=service, pool_size=1)
    return SessionSource(engine, infrastructure)


def _database_error(error, database_url):
    where = _where(database_url) if database_url else "the embedded PostgreSQL of `make run`"
    first = str(getattr(error, "orig", error)).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return Unreachable(f"the database is not reachable at {where} ({first}); check OMS_DATABASE_URL or --database-url")


def with_database(args, service, work):
    from sqlalchemy.exc import OperationalError, ProgrammingError

    source = sql_source(args.database_url, service)
    try:
        return work(source)
    except (OperationalError, ProgrammingError) as error:
        raise _database_error(error, args.database_url) from None
    finally:
        source.engine.dispose()


def rpc_call(args, service, method, *call_args):
    from nameko.exceptions import RemoteError
    from nameko.standalone.rpc import ClusterRpcProxy

    check_amqp(args.amqp_uri)
    try:
        with ClusterRpcProxy({"AMQP_URI": args.amqp_uri}, timeout=args.timeout) as cluster:
            return getattr(getattr(cluster, service), method)(*call_args)
    except RemoteError as error:
        raise Refused(f"{service}.{method}: {error.value or error.exc_type}") from None
    except eventlet.Timeout:
        raise Unreachable(
            f"the {service} service did not answer within {args.timeout:g} s "
            f"(is it running on {_where(args.amqp_uri)}?)"
        ) from None
    except Exception as error:  # noqa: BLE001 - kombu/amqp connection errors of every kind
        if type(error).__name__ in ("RpcTimeout",):
            raise Unreachable(f"the {service} service did not answer within {args.timeout:g} s") from None
        if (
            isinstance(error, (OSError, ConnectionError))
            or "amqp" in type(error).__module__
            or "kombu" in type(error).__module__
        ):
            raise Unreachable(
                f"RabbitMQ refused or dropped the connection at {_where(args.amqp_uri)} "
                f"({type(error).__name__}: {error})"
            ) from None
        raise


# ---------------------------------------------------------------- parked events


def handler_queues():
    """Every reliable event handler's queue, by service, read from the service classes."""
    import importlib

    from nameko.extensions import ENTRYPOINT_EXTENSIONS_ATTR

    from oms_common.events import ReliableEventHandler

    queues = []
    for service, (module, cls_name) in SERVICE_CLASSES.items():
        cls = getattr(importlib.import_module(module), cls_name)
        for method_name in sorted(dir(cls)):
            method = getattr(cls, method_name, None)
            for entrypoint in getattr(method, ENTRYPOINT_EXTENSIONS_ATTR, ()) or ():
                if isinstance(entrypoint, ReliableEventHandler):
                    queues.append(
                        (service, f"evt-{entrypoint.source_service}-{entrypoint.event_type}--{cls.name}.{method_name}")
                    )
    return sorted(queues)


def queue_depths(amqp_uri, names):
    """Message count of each queue by a passive declare; None where the queue does not exist."""
    from kombu import Connection

    check_amqp(amqp_uri)
    depths = {}
    try:
        with Connection(amqp_uri, connect_timeout=5) as connection:
            connection.ensure_connection(max_retries=1)
            for name in names:
                channel = connection.channel()
                try:
                    depths[name] = channel.queue_declare(queue=name, passive=True).message_count
                except Exception as error:  # noqa: BLE001 - 404 NOT_FOUND closes the channel
                    if "NOT_FOUND" in str(error) or getattr(error, "code", None) == 404:
                        depths[name] = None
                    else:
                        raise
                finally:
                    try:
                        channel.close()
                    except Exception:  # noqa: BLE001
                        pass
    except Unreachable:
        raise
    except Exception as error:  # noqa: BLE001
        raise Unreachable(
            f"RabbitMQ refused the connection at {_where(amqp_uri)} ({type(error).__name__}: {error})"
        ) from None
    return depths


def parked_depths(amqp_uri):
    queues = handler_queues()
    depths = queue_depths(amqp_uri, [q + ".parked" for _, q in queues])
    return [{"service": service, "queue": queue, "parked": depths[queue + ".parked"] or 0} for service, queue in queues]


# ---------------------------------------------------------------- commands


def cmd_user_create(args):
    from sqlalchemy import select

    from gateway import auth, users
    from gateway.models import User

    def work(source):
        with source.read_session() as session:
            if session.execute(select(User).where(User.username == args.username)).scalar_one_or_none():
                raise Refused(f"the user '{args.username}' exists already")
        token = None
        if args.password:
            user_id = users.create_user(source, args.username, args.role, args.password)
            if args.token:
                token = users.create_token(source, user_id, args.token_name)
        else:
            token = auth.create_user_with_token(source, args.username, args.role, args.token_name)
        return token

    token = with_database(args, "gateway", work)
    out(
        args,
        {"username": args.username, "role": args.role, "token": token},
        f"user {args.username} ({args.role}) created" + (f"\ntoken (shown once): {token}" if token else ""),
    )


def cmd_user_list(args):
    from gateway import users

    items = with_database(args, "gateway", users.list_users)
    out(
        args,
        {"items": items},
        "\n".join(
            f"{u['id']:>4}  {u['username']:<24} {u['role']:<11} {'active' if u['active'] else 'inactive':<8} "
            f"tokens: {len(u['tokens'])}"
            for u in items
        )
        or "no users",
    )


def _user_id(source, username):
    from gateway import users
    from oms_common.problems import NotFound

    try:
        return users.find_user_id(source, username)
    except NotFound:
        raise Refused(f"no user named '{username}'") from None


def cmd_user_unlock(args):
    from gateway import throttle

    def work(source):
        _user_id(source, args.username)
        return throttle.unlock(source, args.username, args.address)

    cleared = with_database(args, "gateway", work)
    out(
        args,
        {"username": args.username, "address": args.address, "cleared": cleared},
        f"sign-in throttle of {args.username} cleared ({cleared} entr{'y' if cleared == 1 else 'ies'})",
    )


def cmd_user_throttled(args):
    from gateway import throttle
    from oms_common.db import utcnow

    items = with_database(args, "gateway", lambda source: throttle.blocked(source, utcnow()))
    out(
        args,
        {"items": items},
        "\n".join(
            f"{i['address']:<40} {i['username'] or '(every user name)':<24} {i['failures']:>4} failures, "
            f"blocked until {i['blocked_until']}"
            for i in items
        )
        or "nothing throttled",
    )


def _password(args):
    import getpass

    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if args.password:
        return args.password
    first = getpass.getpass("new password: ")
    if getpass.getpass("again: ") != first:
        raise Refused("the passwords differ")
    return first


def cmd_user_password(args):
    from gateway import users

    password = _password(args)
    with_database(
        args, "gateway", lambda source: users.update_user(source, _user_id(source, args.username), password=password)
    )
    out(
        args,
        {"username": args.username, "password_changed": True},
        f"password of {args.username} changed; its web sessions ended and its sign-in throttle cleared",
    )


def cmd_user_role(args):
    from gateway import users

    with_database(
        args, "gateway", lambda source: users.update_user(source, _user_id(source, args.username), role=args.role)
    )
    out(args, {"username": args.username, "role": args.role}, f"{args.username} has the role {args.role} now")


def cmd_user_active(args):
    from gateway import users

    with_database(
        args, "gateway", lambda source: users.update_user(source, _user_id(source, args.username), active=args.active)
    )
    out(
        args,
        {"username": args.username, "active": args.active},
        f"{args.username} is {'active' if args.active else 'inactive'} now",
    )


def cmd_token_create(args):
    from sqlalchemy import select

    from gateway import users
    from gateway.models import User

    def work(source):
        with source.read_session() as session:
            user = session.execute(select(User).where(User.username == args.username)).scalar_one_or_none()
            if user is None:
                raise Refused(f"no user named '{args.username}'")
            user_id = user.id
        return users.create_token(source, user_id, args.name)

    token = with_database(args, "gateway", work)
    out(args, {"username": args.username, "token": token}, f"token for {args.username} (shown once): {token}")


def cmd_parked_list(args):
    from oms_common.events import parked_messages

    rows = parked_depths(args.amqp_uri)
    if args.queue:
        rows = [row for row in rows if row["queue"] == args.queue]
        if not rows:
            raise Refused(f"no handler queue named '{args.queue}' (see `oms parked list`)")
    if args.messages:
        for row in rows:
            row["messages"] = parked_messages(args.amqp_uri, row["queue"], limit=args.limit) if row["parked"] else []
    lines = []
    for row in rows:
        if row["parked"] or not args.nonzero:
            lines.append(f"{row['parked']:>6}  {row['queue']}")
        for message in row.get("messages", []):
            lines.append(f"        {message['headers'].get('x-oms-error', '')[:100]}  {message['body'][:120]}")
    out(args, {"items": rows}, "\n".join(lines) or "nothing parked")


def cmd_parked_replay(args):
    from oms_common.events import replay_parked

    known = [queue for _, queue in handler_queues()]
    if args.all:
        targets = known
    elif args.queue in known:
        targets = [args.queue]
    else:
        raise Refused(f"no handler queue named '{args.queue}' (see `oms parked list`)")
    check_amqp(args.amqp_uri)
    depths = queue_depths(args.amqp_uri, [q + ".parked" for q in targets])
    moved = {queue: replay_parked(args.amqp_uri, queue) for queue in targets if depths[queue + ".parked"]}
    out(
        args,
        {"replayed": moved, "total": sum(moved.values())},
        "\n".join(f"{count:>6}  {queue}" for queue, count in moved.items()) + f"\nreplayed {sum(moved.values())}",
    )


def cmd_webhooks_list(args):
    query = {"limit": args.limit}
    if args.status:
        query["status"] = args.status
    if args.order:
        query["order_reference"] = args.order
    result = rpc_call(args, "payments", "list_webhook_events", query)
    items = result.get("items", [])
    out(
        args,
        result,
        "\n".join(
            f"{i.get('id'):>6}  {i.get('provider', ''):<7} {i.get('status', ''):<10} "
            f"{i.get('order_reference') or '-':<12} "
            f"{i.get('event_type', '')}  {i.get('provider_event_id', '')}"
            for i in items
        )
        or "no stored webhooks",
    )


def cli_actor():
    """The audit trail's actor for what an operator does through this CLI."""
    import getpass

    try:
        user = getpass.getuser()
    except Exception:  # noqa: BLE001 - no passwd entry in a container
        user = "operator"
    return {
        "name": f"oms-cli:{user}"[:80],
        "kind": "user",
        "role": "admin",
        "origin": f"cli {socket.gethostname()}"[:200],
    }


def cmd_webhooks_replay(args):
    result = rpc_call(args, "payments", "replay_webhook_event", args.id, cli_actor())
    out(args, result, f"webhook {args.id} replayed: {json.dumps(result, default=str)[:300]}")


def cmd_export_run(args):
    result = rpc_call(args, "exports", "run_job_now", args.job_id, cli_actor())
    out(args, result, f"export job {args.job_id} queued to run now: {json.dumps(result, default=str)[:300]}")


def cmd_export_jobs(args):
    items = rpc_call(args, "exports", "list_jobs")
    out(
        args,
        {"items": items},
        "\n".join(
            f"{j.get('id'):>4}  {j.get('name', ''):<24} {j.get('cron', ''):<16} {j.get('kind')}.{j.get('format')}"
            for j in items
        )
        or "no export jobs",
    )


def outbox_backlogs(args):
    from oms_common.outbox import backlog

    result = {}
    for service in SERVICES:

        def work(source):
            with source.engine.connect() as connection:
                return backlog(connection, source.infrastructure.outbox)

        result[service] = with_database(args, service, work)
    return result


def cmd_backlog(args):
    outbox = outbox_backlogs(args)
    parked = parked_depths(args.amqp_uri)
    failed = rpc_call(args, "notifications", "failed_mails", 1000)
    stuck = rpc_call(args, "payments", "list_stuck_payments", {})
    stuck_items = stuck.get("items", stuck) if isinstance(stuck, dict) else stuck
    report = {
        "outbox": outbox,
        "parked": {row["queue"]: row["parked"] for row in parked},
        "parked_total": sum(row["parked"] for row in parked),
        "failed_mails": len(failed),
        "stuck_payments": len(stuck_items),
    }
    lines = ["outbox (unpublished events):"]
    lines += [f"  {service:<14} {count}" for service, count in outbox.items()]
    lines.append(f"parked events: {report['parked_total']}")
    lines += [f"  {count:>6}  {queue}" for queue, count in report["parked"].items() if count]
    lines.append(f"failed mails: {report['failed_mails']}")
    lines.append(f"stuck payments: {report['stuck_payments']}")
    out(args, report, "\n".join(lines))


def cmd_settings(args):
    """Every setting of the chosen services as this environment gives it: value or default, and
    what a service would refuse at start (exit 1), before anything is started."""
    from oms_common.setting_table import SETTINGS
    from oms_common.settings import SettingsError

    rows, refused = [], 0
    for entry in SETTINGS:
        services = [name for name in entry.services if not args.service or name == args.service]
        if not services:
            continue
        try:
            value = setting(None, entry.key or entry.variable, services[0])
            problem = None
        except SettingsError as error:
            value, problem = None, str(error)
            refused += 1
        shown = ("(set)" if value else "") if entry.kind.name == "secret" else _shown(value)
        origin = "environment" if (os.environ.get(entry.variable) or "").strip() else "default"
        rows.append(
            {"variable": entry.variable, "services": services, "kind": entry.kind.name, "value": shown}
            | {"from": origin, "problem": problem}
        )
    text = "\n".join(
        f"{row['variable']:<36} {row['problem'] or row['value']!s:<40} {row['from']:<11} {','.join(row['services'])}"
        for row in rows
    )
    out(args, rows, text)
    if refused:
        raise Refused(f"{refused} setting(s) would stop a service at start")


def _shown(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return ",".join(f"{item:g}" for item in value)
    return f"{value:g}" if isinstance(value, float) else str(value)


# ---------------------------------------------------------------- plumbing


def out(args, data, text):
    print(json.dumps(data, default=str, indent=2) if args.json else text)


def build_parser():
    parser = argparse.ArgumentParser(
        prog="oms",
        description="Operate an OMS installation: users and tokens, parked events, stored webhooks, "
        "export jobs, backlogs.",
        epilog="Settings come from OMS_AMQP_URI and OMS_DATABASE_URL like the services'; "
        "exit code 2 means RabbitMQ, the database or a service could not be reached.",
    )
    parser.add_argument(
        "--amqp-uri",
        default=setting(None, "AMQP_URI", "gateway"),
        help="RabbitMQ URI (default: $OMS_AMQP_URI or %(default)s)",
    )
    parser.add_argument(
        "--database-url",
        default=setting(None, "DATABASE_URL", "gateway") or None,
        help="PostgreSQL URL, one schema per service (default: $OMS_DATABASE_URL; "
        "empty means the embedded PostgreSQL of a running `make run`)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=setting(None, "RPC_TIMEOUT_SECONDS", "gateway"),
        help="seconds to wait for a service's RPC answer (default: %(default)s)",
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    user = commands.add_parser(
        "users", aliases=["user"], help="web UI and API users; recovering access"
    ).add_subparsers(dest="action", required=True)
    create = user.add_parser("create", help="create a user; without --password it gets an API token instead")
    create.add_argument("username")
    create.add_argument("--role", required=True, choices=ROLES)
    create.add_argument("--password", help="web UI password (at least the length users.py demands)")
    create.add_argument("--token", action="store_true", help="with --password: also make an API token")
    create.add_argument("--token-name", default="cli", help="name of the token (default: %(default)s)")
    create.set_defaults(func=cmd_user_create)
    user.add_parser("list", help="users with their roles and tokens").set_defaults(func=cmd_user_list)
    unlock = user.add_parser("unlock", help="clear the sign-in throttle of a user (on every address)")
    unlock.add_argument("username")
    unlock.add_argument("--address", help="also clear this client address's own throttle (see `oms users throttled`)")
    unlock.set_defaults(func=cmd_user_unlock)
    user.add_parser("throttled", help="addresses and user names whose sign-ins are delayed right now").set_defaults(
        func=cmd_user_throttled
    )
    password = user.add_parser("password", help="set a user's web UI password (asks for it unless given)")
    password.add_argument("username")
    given = password.add_mutually_exclusive_group()
    given.add_argument("--password", help="the new password (visible in the process list; prefer the prompt)")
    given.add_argument("--password-stdin", action="store_true", help="read the new password from stdin")
    password.set_defaults(func=cmd_user_password)
    role = user.add_parser("role", help="give a user another role (ends its web sessions)")
    role.add_argument("username")
    role.add_argument("role", choices=ROLES)
    role.set_defaults(func=cmd_user_role)
    for name, active, text in (
        ("activate", True, "let an inactive user sign in and use its tokens again"),
        ("deactivate", False, "stop a user's sign-ins and tokens at once"),
    ):
        switch = user.add_parser(name, help=text)
        switch.add_argument("username")
        switch.set_defaults(func=cmd_user_active, active=active)

    token = commands.add_parser("token", help="API tokens").add_subparsers(dest="action", required=True)
    token_create = token.add_parser("create", help="a new API token for an existing user (shown once)")
    token_create.add_argument("username")
    token_create.add_argument("--name", default="cli", help="name of the token (default: %(default)s)")
    token_create.set_defaults(func=cmd_token_create)

    parked = commands.add_parser("parked", help="events parked after their handler's last retry").add_subparsers(
        dest="action", required=True
    )
    parked_list = parked.add_parser("list", help="parked count of every handler queue")
    parked_list.add_argument("--queue", help="only this handler queue")
    parked_list.add_argument("--messages", action="store_true", help="also show the parked messages (peek)")
    parked_list.add_argument("--limit", type=int, default=20, help="messages per queue with --messages")
    parked_list.add_argument("--nonzero", action="store_true", help="only queues with parked messages")
    parked_list.set_defaults(func=cmd_parked_list)
    parked_replay = parked.add_parser("replay", help="move parked events back to their handler")
    target = parked_replay.add_mutually_exclusive_group(required=True)
    target.add_argument("queue", nargs="?", help="the handler queue (from `oms parked list`)")
    target.add_argument("--all", action="store_true", help="every handler queue")
    parked_replay.set_defaults(func=cmd_parked_replay)

    webhooks = commands.add_parser("webhooks", help="stored PSP webhooks (payments inbox)").add_subparsers(
        dest="action", required=True
    )
    webhooks_list = webhooks.add_parser("list", help="stored webhooks, newest first")
    webhooks_list.add_argument("--status", action="append", help="only this status (repeatable)")
    webhooks_list.add_argument("--order", help="only this order reference")
    webhooks_list.add_argument("--limit", type=int, default=50)
    webhooks_list.set_defaults(func=cmd_webhooks_list)
    webhooks_replay = webhooks.add_parser("replay", help="process a stored webhook again")
    webhooks_replay.add_argument("id", type=int, help="inbox id (from `oms webhooks list`)")
    webhooks_replay.set_defaults(func=cmd_webhooks_replay)

    export = commands.add_parser("export", help="scheduled export jobs").add_subparsers(dest="action", required=True)
    export.add_parser("jobs", help="list the scheduled export jobs").set_defaults(func=cmd_export_jobs)
    export_run = export.add_parser("run", help="run a scheduled export job now")
    export_run.add_argument("job_id", type=int)
    export_run.set_defaults(func=cmd_export_run)

    commands.add_parser("backlog", help="outbox per service, parked events, failed mails, stuck payments").set_defaults(
        func=cmd_backlog
    )
    settings = commands.add_parser("settings", help="every setting as this environment gives it; refused ones (exit 1)")
    settings.add_argument(
        "--service", choices=("gateway", "orders", "payments", "notifications", "exports", "documents")
    )
    settings.set_defaults(func=cmd_settings)
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        args.func(args)
    except Unreachable as error:
        print(f"oms: {error}", file=sys.stderr)
        return 2
    except Refused as error:
        print(f"oms: refused: {error}", file=sys.stderr)
        return 1
    except Exception as error:  # noqa: BLE001 - a problem of ours (ValidationFailed, Conflict, ...)
        from oms_common.problems import Problem

        if isinstance(error, Problem):
            print(f"oms: refused: {error}", file=sys.stderr)
            return 1
        raise
    return 0


if __name__ == "__main__":
    sys.exit(main())
