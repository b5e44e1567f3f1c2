"""The local cluster's lifecycle: idempotent start/stop, crash recovery, port conflicts."""

from __future__ import annotations

import os
import signal
import socket
import time
from collections.abc import Iterator

import pytest

from halo_supabase.errors import PortInUseError
from halo_supabase.local.ports import free_port
from halo_supabase.local.postgres import LocalCluster, PostgresBinaries
from tests.conftest import FAST_CONF, scratch_dir


@pytest.fixture
def own_cluster(binaries: PostgresBinaries) -> Iterator[LocalCluster]:
    instance = LocalCluster(scratch_dir("lifecycle"), free_port(), binaries, extra_conf=FAST_CONF)
    yield instance
    instance.destroy()


def select_one(cluster: LocalCluster) -> object:
    with cluster.connect() as conn:
        row = conn.execute("select 1").fetchone()
    return row[0] if row else None


def test_start_twice_is_one_server(own_cluster: LocalCluster) -> None:
    first = own_cluster.start()
    second = own_cluster.start()
    assert first.initialized and not first.already_running
    assert second.already_running and second.pid == first.pid
    assert select_one(own_cluster) == 1


def test_stop_twice_and_restart_keep_data(own_cluster: LocalCluster) -> None:
    own_cluster.start()
    with own_cluster.connect(autocommit=True) as conn:
        conn.execute("create table kept (x int); insert into kept values (42)")
    assert own_cluster.stop() is True
    assert own_cluster.stop() is False
    assert own_cluster.status().running is False
    restarted = own_cluster.start()
    assert not restarted.initialized
    with own_cluster.connect() as conn:
        assert conn.execute("select x from kept").fetchone() == (42,)


def test_recovers_after_the_server_was_killed(own_cluster: LocalCluster) -> None:
    pid = own_cluster.start().pid
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while own_cluster.running_pid() is not None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert own_cluster.pid_file.exists(), "a killed server leaves its pid file behind"
    restarted = own_cluster.start()
    assert restarted.pid != pid
    assert select_one(own_cluster) == 1


def test_pid_file_naming_a_live_non_postgres_process_is_stale(own_cluster: LocalCluster) -> None:
    own_cluster.start()
    own_cluster.stop()
    # A crash leaves a pid file; after a reboot that pid may belong to anything (here: pytest).
    own_cluster.pid_file.write_text(f"{os.getpid()}\n{own_cluster.data_dir}\n")
    assert own_cluster.running_pid() is None
    own_cluster.start()
    assert select_one(own_cluster) == 1


def test_port_taken_by_another_process_is_a_clear_error(own_cluster: LocalCluster) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", own_cluster.port))
        squatter.listen()
        with pytest.raises(PortInUseError) as caught:
            own_cluster.start()
    message = str(caught.value)
    assert f"127.0.0.1:{own_cluster.port} is already in use" in message
    assert "HALO_DB_PORT" in message
    assert own_cluster.status().running is False


def test_logical_decoding_is_enabled(cluster: LocalCluster) -> None:
    with cluster.connect() as conn:
        assert conn.execute("show wal_level").fetchone() == ("logical",)
        assert conn.execute("show listen_addresses").fetchone() == ("127.0.0.1",)
