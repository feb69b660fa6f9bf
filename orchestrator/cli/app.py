"""The ``steptrace`` command line, assembled from one module per group of commands.

- ``sandbox_cmds``: ``sandbox``, ``demo``, ``scenario run``
- ``run_cmds``: ``run``, ``replay``, ``rollback``
- ``service_cmds``: ``up``, ``serve``, ``doctor``, ``schedules``, ``worker``, ``bot``,
  ``console``, ``console-link``
- ``read_cmds``: ``runs``, ``show``, ``diff``, ``why``, ``qc``, ``insights``
- ``ops_cmds``: ``codec-key``, ``codec-server``, ``migrate``, ``prune``
- ``bench_cmds``: ``bench …``

Every command imports what it needs inside its function, so ``steptrace --help`` stays
fast and a command loads only its own parts (DESIGN §8 budgets ``why`` at 0.5 s).
Commands that read runs open the trace store named by ``STEPTRACE_DATABASE_URL``
(default ``.steptrace/trace.db``); every one takes ``--json``. What they share (options,
the one-line failure, the store, the settings) is in ``common``.
"""

from __future__ import annotations

import typer

from orchestrator.cli import (
    bench_cmds,
    ops_cmds,
    read_cmds,
    run_cmds,
    sandbox_cmds,
    service_cmds,
)

app = typer.Typer(
    name="steptrace",
    help="Ops automations across Linear, Airtable, Monday.com and Slack, traced step by step.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# In the order `steptrace --help` lists them.
app.command()(sandbox_cmds.sandbox)
app.command()(sandbox_cmds.demo)
app.command()(run_cmds.run)
app.command()(service_cmds.up)
app.command()(service_cmds.serve)
app.command()(service_cmds.doctor)
app.command()(service_cmds.schedules)
app.command()(service_cmds.worker)
app.command()(service_cmds.bot)
app.command("console")(service_cmds.console_command)
app.command("console-link")(service_cmds.console_link_command)
app.command()(read_cmds.runs)
app.command()(read_cmds.show)
app.command()(read_cmds.diff)
app.command()(read_cmds.why)
app.command()(read_cmds.qc)
app.command()(read_cmds.insights)
app.command()(run_cmds.replay)
app.command()(run_cmds.rollback)
app.command("codec-key")(ops_cmds.codec_key)
app.command("codec-server")(ops_cmds.codec_server)
app.command()(ops_cmds.migrate)
app.command()(ops_cmds.prune)
app.add_typer(bench_cmds.bench_app, name="bench")
app.add_typer(sandbox_cmds.scenario_app, name="scenario")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
